"""3D panels of publication figures: one Renderer per panel at the panel's exact pixel size,
rendered in tiles where the panel is larger than the GL limit."""

from __future__ import annotations

import math

import numpy as np

from ispyrender.config.style import Style
from ispyrender.scene.primitives import Scene

__all__ = ["PanelRenderers", "unpremultiply"]


def unpremultiply(image: np.ndarray) -> np.ndarray:
    """A transparent render made over black holds colour x alpha: divide it back out, so that
    anti-aliased edges keep their own colour and only their alpha is partial (no halo of the
    background colour when the figure is laid over anything)."""
    if image.shape[2] != 4:
        return image
    rgb = image[..., :3].astype(np.float32)
    alpha = image[..., 3:4].astype(np.float32) / 255.0
    with np.errstate(divide="ignore", invalid="ignore"):
        straight = np.where(alpha > 0, rgb / alpha, 0.0)
    out = image.copy()
    out[..., :3] = np.clip(np.rint(straight), 0, 255).astype(np.uint8)
    return out


class PanelRenderers:
    """One Renderer per 3D panel, each with the panel's camera and pixel size, kept for every
    event of the job (a window with its detector costs a few tenths of a second to make).

    ``sizes`` gives the pixel size of each 3D panel by its index in ``style.figure.panels``
    (the figure layout knows them)."""

    def __init__(
        self,
        style: Style,
        sizes: dict[int, tuple[int, int]],
        tile_limit: int | None = None,
        scale: float = 1.0,
    ) -> None:
        from ispyrender.rendering.renderer import Renderer, max_render_size
        from ispyrender.scene.detector import build_detector

        self.renderers: dict[int, tuple[Renderer, int]] = {}
        self.sizes = dict(sizes)
        detector = build_detector(style.detector)
        limit = tile_limit if tile_limit is not None else (max_render_size() if sizes else 0)
        # Lines and dots are sized for the whole figure, as the projections beside them are,
        # not for the panel; tiles render at window size, so this holds with magnification too.
        line_scale = style.figure_line_scale(scale)
        for i, (w, h) in self.sizes.items():
            panel = style.figure.panels[i]
            magnification = max(1, math.ceil(max(w, h) / limit))
            canvas = style.canvas.model_copy(
                update={
                    "width": math.ceil(w / magnification),
                    "height": math.ceil(h / magnification),
                    # Transparent panels are rendered over black: see unpremultiply.
                    "background": "black" if style.canvas.transparent else style.canvas.background,
                }
            )
            panel_style = style.model_copy(
                update={"canvas": canvas, "camera": panel.camera or style.camera}
            )
            self.renderers[i] = (
                Renderer(panel_style, detector, line_scale=line_scale, label_band=0.0),
                magnification,
            )

    def draw(self, scene: Scene) -> dict[int, np.ndarray]:
        images = {}
        for i, (renderer, magnification) in self.renderers.items():
            image = renderer.draw(scene, magnification=magnification)
            w, h = self.sizes[i]
            image = image[:h, :w]  # tiles may overshoot by a few pixels
            if image.shape[2] == 4:
                image = unpremultiply(image)
            images[i] = image
        return images

    def close(self) -> None:
        for renderer, _ in self.renderers.values():
            renderer.close()
