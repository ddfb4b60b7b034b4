"""The detector's picture kept per camera (rendering.renderer.DetectorBackdrops): pictures and
movie frames drawn over it are the same, pixel for pixel, as those that draw the detector's
actors, and it is made only for a camera that comes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ispyrender.config.loader import load_style
from ispyrender.config.style import Style
from ispyrender.physics import EventBuilder
from ispyrender.rendering.renderer import DetectorBackdrops, Renderer
from ispyrender.scene.detector import build_detector
from ispyrender.scene.event import build_scene
from ispyrender.scene.primitives import Scene
from ispyrender.sources import open_source


def _scenes(path: Path, n: int, style: Style) -> list[Scene]:
    with open_source([str(path)]) as source:
        return [build_scene(p, style) for p in EventBuilder(source, style).events(range(n))]


def _pair(style: Style) -> Iterator[tuple[Renderer, Renderer]]:
    detector = build_detector(style.detector)
    kept, drawn = Renderer(style, detector), Renderer(style, detector)
    drawn.backdrops.capacity = 0  # always draws the detector's actors
    try:
        yield kept, drawn
    finally:
        kept.close()
        drawn.close()


def _differing(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape
    return int(np.any(a != b, axis=-1).sum())


@pytest.mark.parametrize(
    ("preset", "sets"),
    [
        ("publication", ["camera.focus=series"]),
        ("publication", ["camera.focus=detector", "canvas.anti_aliasing=none"]),
        ("transverse", ["camera.focus=series"]),
        ("outreach", ["camera.focus=series", "camera.projection=parallel"]),
    ],
)
def test_a_fixed_camera_draws_the_detector_once_with_the_same_pixels(shared_data, preset, sets):
    style = load_style(preset, ["canvas.width=480", "canvas.height=270", *sets])
    scenes = _scenes(shared_data / "nanoaod" / "nano_dy.root", 5, style)
    for kept, drawn in _pair(style):
        for i, scene in enumerate(scenes):
            assert _differing(kept.draw(scene), drawn.draw(scene)) == 0, f"event {i}"
        # Made for the second event, which and every later one is drawn over it.
        assert (kept.backdrops.made, kept.backdrops.used) == (1, len(scenes) - 1)
        assert drawn.backdrops.made == 0


def test_a_camera_framing_each_event_makes_none(shared_data):
    """Focus "event" aims anew at each event: no frame pays for a picture never used again."""
    style = load_style("publication", ["canvas.width=320", "canvas.height=180"])
    scenes = _scenes(shared_data / "nanoaod" / "nano_dy.root", 4, style)
    for kept, _ in _pair(style):
        for scene in scenes:
            kept.draw(scene)
        assert (kept.backdrops.made, kept.backdrops.used) == (0, 0)


@pytest.mark.parametrize(
    "sets", [["canvas.transparent=true"], ["canvas.anti_aliasing=msaa"]], ids=["alpha", "msaa"]
)
def test_no_backdrop_where_it_could_not_give_the_same_pixels(shared_data, sets):
    """A transparent background (the detector's alpha), MSAA (edges resolved per sample over
    the detector's own samples): the detector is drawn every time."""
    style = load_style(
        "publication", ["canvas.width=320", "canvas.height=180", "camera.focus=series", *sets]
    )
    scenes = _scenes(shared_data / "nanoaod" / "nano_dy.root", 3, style)
    for kept, _ in _pair(style):
        for scene in scenes:
            kept.draw(scene)
        assert kept.backdrops.made == 0


def test_turntables_of_several_events_reuse_every_frame_and_turned_cutaway(shared_data):
    """Three turntables with one camera path: the second makes a picture per frame (the wedge
    of the cut-away turned with the camera in each), the third draws every frame over them;
    all frames are those drawn with the detector's actors."""
    style = load_style(
        "publication", ["canvas.width=320", "canvas.height=180", "camera.focus=series"]
    )
    scenes = _scenes(shared_data / "nanoaod" / "nano_dimuon.root", 3, style)
    angles = range(0, 360, 45)
    for kept, drawn in _pair(style):
        for i, scene in enumerate(scenes):
            for renderer in (kept, drawn):
                renderer.set_scene(scene, scene, "vertical")
            for degrees in angles:
                a = kept.orbit("vertical", degrees, elevation=10.0)
                b = drawn.orbit("vertical", degrees, elevation=10.0)
                assert _differing(a, b) == 0, f"event {i}, {degrees} degrees"
        assert len(kept._cuts) > 2  # the wedge did turn
        assert (kept.backdrops.made, kept.backdrops.used) == (len(angles), 2 * len(angles))


def test_a_full_cache_keeps_its_pictures_rather_than_swapping_a_turn_out():
    """A turn of five frames with room for three: the first three frames' pictures stay and
    are used every turn (swapping the oldest out would miss every frame and pay for a new
    picture each time); a picture unused for long goes to make room."""
    size = (4, 4)
    backdrops = DetectorBackdrops(size, limit=3 * 16 * DetectorBackdrops.ENTRY_BYTES)
    assert backdrops.capacity == 3
    pixels = np.zeros((4, 4, 3), dtype=np.uint8)

    def frame(key: object) -> None:
        if backdrops.get((key,)) is None and backdrops.wanted((key,)):
            backdrops.keep((key,), pixels)

    for _ in range(4):
        for key in range(5):
            frame(key)
    assert backdrops.made == 3
    assert backdrops.used == 3 + 2 * 3  # made on the second turn, used on the next two
    # A new camera for long enough: the old pictures go stale and make room.
    for _ in range(DetectorBackdrops.STALE_ROUNDS * 3 + 2):
        frame("new")
    assert backdrops.made == 4 and ("new",) in backdrops._textures
