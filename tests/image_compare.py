"""Tight image comparison for regression tests.

On the CPU renderer (Mesa llvmpipe) identical input gives bit-identical images, so tolerances
are tight: pyvista's default error threshold of 500 would miss a recoloured track. A picture
fails when pyvista's error exceeds MAX_ERROR, or when more than MAX_FRACTION of its pixels
differ by more than PIXEL_LEVELS in any channel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

BASELINES = Path(__file__).parent / "baselines"
MAX_ERROR = 20.0
PIXEL_LEVELS = 8
MAX_FRACTION = 0.0005


def differing_fraction(a: np.ndarray, b: np.ndarray) -> float:
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1)
    return float((diff > PIXEL_LEVELS).mean())


def _as_image(a: np.ndarray):  # type: ignore[no-untyped-def]
    """A 2D RGB vtkImageData. pv.wrap of an (H, W, 3) array gives a one-component 3D volume,
    on which vtkImageDifference reports 'Component 1 is not in input' and returns errors that
    change from run to run for identical pictures."""
    import pyvista as pv

    h, w = a.shape[:2]
    image = pv.ImageData(dimensions=(w, h, 1))
    image.point_data["rgb"] = np.ascontiguousarray(np.flipud(a[..., :3]).reshape(-1, 3))
    return image


def pyvista_error(a: np.ndarray, b: np.ndarray) -> float:
    import pyvista as pv

    return float(pv.compare_images(_as_image(a), _as_image(b)))


def check_image(name: str, image: np.ndarray, update: bool) -> None:
    """Compare ``image`` with tests/baselines/<name>.png, or write it when ``update``."""
    path = BASELINES / f"{name}.png"
    if update:
        BASELINES.mkdir(exist_ok=True)
        Image.fromarray(image).save(path)
        return
    assert path.exists(), (
        f"no baseline {path.name}: run pytest --update-baselines, then look at the new picture"
    )
    baseline = np.asarray(Image.open(path).convert("RGBA" if image.shape[2] == 4 else "RGB"))
    assert baseline.shape == image.shape, f"{name}: size {image.shape} != baseline {baseline.shape}"
    fraction = differing_fraction(image, baseline)
    error = pyvista_error(image, baseline)
    if fraction > MAX_FRACTION or error > MAX_ERROR:
        out = BASELINES.parent / "output"
        out.mkdir(exist_ok=True)
        Image.fromarray(image).save(out / f"{name}.png")
        raise AssertionError(
            f"{name}: {fraction:.4%} of pixels differ by more than {PIXEL_LEVELS} levels "
            f"(limit {MAX_FRACTION:.2%}), pyvista error {error:.1f} (limit {MAX_ERROR}); "
            f"the new picture is in tests/output/{name}.png"
        )
