"""Anti-aliasing is judged against a supersampled picture of the same event.

The reference is rendered at twice the size with every line, dot and outline twice as wide
(``line_scale``), then averaged over 2x2 blocks: four ordered samples a pixel, what a perfect
anti-aliasing of the picture would give. A pixel is "jagged" when some channel is off the
reference by more than JAGGED levels: a stair step of a line or an edge left hard, or a thin
line broken into dashes. FXAA, the default, must leave no more jagged pixels than MSAA (which it
replaced because it costs a third on llvmpipe) and far fewer than no anti-aliasing at all.
Measured at 1920x1080 over three events of the NanoAODv5 file (publication, outreach): jagged
pixels 0.03 %, 0.07 % with FXAA; 0.10 %, 0.18 % with MSAA; 0.15 %, 0.61 % without. The test
renders two events of the built-in sample at 640x360 (reference 1280x720) and holds the same
order.
"""

from __future__ import annotations

import numpy as np
import pytest

from ispyrender.config.loader import load_style
from ispyrender.physics import EventBuilder
from ispyrender.rendering.renderer import Renderer
from ispyrender.scene.detector import build_detector
from ispyrender.scene.event import build_scene
from ispyrender.sources import open_source
from ispyrender.sources.sample import sample_path

WIDTH, HEIGHT = 640, 360
JAGGED = 48
ENTRIES = [0, 1]


def render(preset: str, aa: str, factor: int) -> list[np.ndarray]:
    style = load_style(
        preset,
        [
            f"canvas.anti_aliasing={aa}",
            f"canvas.width={WIDTH * factor}",
            f"canvas.height={HEIGHT * factor}",
            "labels.show=false",
        ],
    )
    with open_source([str(sample_path())]) as source:
        scenes = [build_scene(e, style) for e in EventBuilder(source, style).events(ENTRIES)]
    # Style sizes are given for a 1080-pixel-high picture; both renders use this picture's
    # scale (times the factor) so that lines are exactly twice as wide in the reference.
    scale = factor * HEIGHT / 1080
    with Renderer(style, build_detector(style.detector), line_scale=scale) as renderer:
        return [renderer.draw(s)[..., :3].astype(np.int16) for s in scenes]


def jagged_fraction(image: np.ndarray, reference: np.ndarray) -> float:
    return float((np.abs(image - reference).max(axis=-1) > JAGGED).mean())


@pytest.mark.parametrize("preset", ["publication", "outreach"])
def test_fxaa_leaves_no_more_jagged_pixels_than_msaa(preset: str) -> None:
    big = render(preset, "none", 2)
    reference = [
        np.round(b.reshape(HEIGHT, 2, WIDTH, 2, 3).mean(axis=(1, 3))).astype(np.int16) for b in big
    ]
    fractions = {}
    for aa in ("none", "fxaa", "msaa"):
        images = render(preset, aa, 1)
        fractions[aa] = np.mean(
            [jagged_fraction(i, r) for i, r in zip(images, reference, strict=True)]
        )
    assert fractions["none"] > 0, fractions  # the reference differs where edges are
    assert fractions["fxaa"] <= fractions["msaa"], fractions
    assert fractions["fxaa"] < 0.5 * fractions["none"], fractions


def test_transparent_pictures_keep_smooth_alpha() -> None:
    """FXAA smooths colour only: over a transparent background the renderer uses MSAA, so
    that edge pixels are partly transparent instead of keeping a fringe of the background."""
    style = load_style(
        "publication",
        ["canvas.transparent=true", "canvas.width=320", "canvas.height=180", "labels.show=false"],
    )
    assert style.canvas.anti_aliasing == "fxaa"
    with open_source([str(sample_path())]) as source:
        scene = build_scene(next(iter(EventBuilder(source, style).events([0]))), style)
    with Renderer(style, build_detector(style.detector)) as renderer:
        alpha = renderer.draw(scene)[..., 3]
    assert ((alpha > 0) & (alpha < 255)).mean() > 0.002
