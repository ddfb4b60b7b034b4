"""Rules every picture keeps, checked on real events by rendering them:

* framing: the event's objects span at least half of the picture's shorter side, at full size
  and as a thumbnail;
* line widths, dots and outlines scale with the picture: at twice the size a track covers four
  times the pixels (twice as long and twice as wide);
* the legend names exactly the collections that can be seen: taking a listed collection out of
  the picture changes it, and taking out anything not listed does not;
* outlines are solid lines over the faces they lie on, not dashes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest

from ispyrender.config.loader import load_style
from ispyrender.config.style import Style, parse_color
from ispyrender.physics import EventBuilder
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.rendering.renderer import Renderer
from ispyrender.scene.detector import build_detector
from ispyrender.scene.event import build_scene
from ispyrender.scene.primitives import Scene, Spheres
from ispyrender.sources import open_source

# (file under shared/data, entry): a dimuon data event, a multijet simulated event, a PFNano
# event with PF candidates and towers, and the iSpy H -> 4 leptons event.
EVENTS = [
    ("nanoaod/nano_dimuon.root", 0),
    ("nanoaod/NanoAODv5_sample.root", 0),
    ("nanoaod/pfnano.root", 0),
    ("ig/Hto4l_120-130GeV.ig", 0),
]


#: A pixel "shows" a collection when taking the collection out changes one of its channels by
#: more than this (of 255): a faint fill or a blended edge does not count.
CLEAR_CHANGE = 40


def physics_event(path: str, entry: int, style: Style) -> PhysicsEvent:
    builder = EventBuilder(open_source([path]), style)
    return next(iter(builder.events([entry])))


def background_mask(image: np.ndarray, style: Style) -> np.ndarray:
    bg = np.round(np.asarray(parse_color(style.canvas.background)) * 255)
    return np.all(np.abs(image[..., :3].astype(int) - bg) <= 2, axis=-1)


def drawn_span(image: np.ndarray, style: Style) -> float:
    """The larger side of the box around every non-background pixel, over the picture's
    shorter side."""
    ys, xs = np.nonzero(~background_mask(image, style))
    assert len(xs), "nothing was drawn"
    span = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    return span / min(image.shape[:2])


@pytest.fixture(scope="module")
def renderers() -> Iterator[dict[tuple[int, int, float], Renderer]]:
    made: dict[tuple[int, int, float], Renderer] = {}
    yield made
    for r in made.values():
        r.close()


def objects_only(width: int, height: int, preset: str = "publication") -> Style:
    # The detector hidden: the camera frames the objects the same way with or without it (it
    # is aimed at the event), and what is left on the picture is the event alone.
    return load_style(
        preset,
        [
            f"canvas.width={width}",
            f"canvas.height={height}",
            "labels.show=false",
            "detector.show=false",
        ],
    )


@pytest.mark.parametrize(("size"), [(1920, 1080), (320, 180)], ids=["full", "thumbnail"])
@pytest.mark.parametrize(("name", "entry"), EVENTS, ids=[n for n, _ in EVENTS])
def test_the_event_fills_at_least_half_the_picture(
    shared_data, renderers, name: str, entry: int, size: tuple[int, int]
) -> None:
    style = objects_only(*size)
    event = physics_event(str(shared_data / name), entry, style)
    key = (*size, 0.0)
    if key not in renderers:
        renderers[key] = Renderer(style, [])
    image = renderers[key].draw(build_scene(event, style))
    assert drawn_span(image, style) >= 0.5


def test_the_whole_detector_can_still_be_framed(shared_data) -> None:
    style = load_style(
        "publication", ["canvas.width=480", "canvas.height=270", "labels.show=false"]
    )
    style.camera.focus = "detector"
    event = physics_event(str(shared_data / "nanoaod/NanoAODv5_sample.root"), 0, style)
    spans = []
    for focus in ("detector", "event"):
        style.camera.focus = focus
        with Renderer(style, build_detector(style.detector)) as renderer:
            renderer.show_detector(False)  # framed with it, measured without it
            spans.append(drawn_span(renderer.draw(build_scene(event, style)), style))
    # A multijet event framed with the whole detector is smaller than framed alone.
    assert spans[0] < 0.5 <= spans[1]


def _coverage(image: np.ndarray, color: tuple[float, float, float]) -> float:
    """Pixels covered by a line of ``color`` on white, counting anti-aliased edge pixels by the
    fraction they are covered (how far they moved from white towards the colour)."""
    rgb = np.asarray(color) * 255
    white = np.full(3, 255.0)
    moved = (white - image[..., :3].astype(float)) @ (white - rgb)
    return float(np.clip(moved / np.dot(white - rgb, white - rgb), 0.0, 1.0).sum())


def test_line_width_in_pixels_grows_with_the_picture(shared_data) -> None:
    """A muon track's pixels at 480x270 and at scale 2 (960x540) and 4: the area of a line is
    length x width, and both grow with the picture, so the area grows with the square."""
    base = objects_only(480, 270)
    base.collections.muons.line_width = 6.0
    event = physics_event(str(shared_data / EVENTS[0][0]), 0, base)
    muon = parse_color(base.collections.muons.color)
    only_muons = Scene([p for p in build_scene(event, base).primitives if p.group == "Muon"])
    areas = []
    for scale in (1.0, 2.0, 4.0):
        with Renderer(base, [], scale=scale) as renderer:
            areas.append(_coverage(renderer.draw(only_muons), muon))
    assert areas[0] > 50
    # At 480x270 the line is 1.5 pixels wide, where anti-aliasing rounds the most.
    assert areas[1] / areas[0] == pytest.approx(4.0, rel=0.2)
    assert areas[2] / areas[1] == pytest.approx(4.0, rel=0.1)


def legend_problems(renderer: Renderer, scene: Scene) -> list[str]:
    """Legend entries whose collection cannot be seen, and seen groups with no entry."""
    listed = {e.group for e in scene.legend if e.count > 0}
    full = renderer.draw(scene)
    problems = []
    for group in sorted({p.group for p in scene.primitives}):
        rest = Scene([p for p in scene.primitives if p.group != group])
        # Pixels that clearly change (by more than anti-aliasing and blending noise).
        diff = np.abs(renderer.draw(rest, frame=scene).astype(int) - full.astype(int))
        changed = int((diff.max(axis=-1) > CLEAR_CHANGE).sum())
        if group in listed and changed < 15:  # a vertex dot is 5 pixels across at 960x540
            problems.append(f"{group} is in the legend but shows {changed} pixels")
        if group not in listed and changed > 0:
            problems.append(f"{group} shows {changed} pixels but is not in the legend")
    return problems


@pytest.mark.parametrize(("name", "entry"), EVENTS, ids=[n for n, _ in EVENTS])
@pytest.mark.parametrize("preset", ["publication", "outreach"])
def test_the_legend_lists_exactly_the_visible_collections(
    shared_data, name: str, entry: int, preset: str
) -> None:
    style = load_style(preset, ["canvas.width=960", "canvas.height=540", "labels.show=false"])
    event = physics_event(str(shared_data / name), entry, style)
    scene = build_scene(event, style)
    with Renderer(style, build_detector(style.detector)) as renderer:
        assert legend_problems(renderer, scene) == []


def test_the_legend_check_catches_a_hidden_entry_and_a_missing_one(shared_data) -> None:
    style = load_style("publication", ["canvas.width=960", "canvas.height=540"])
    event = physics_event(str(shared_data / EVENTS[0][0]), 0, style)
    scene = build_scene(event, style)
    muons = next(p for p in scene.primitives if p.group == "Muon")
    # A muon drawn again, half a metre aside, under another name and with no legend entry...
    shifted = (muons.paths[0] + [0.5, 0.5, 0.0],)
    scene.primitives.append(dataclasses.replace(muons, group="Unlisted", paths=shifted))
    # ...and an entry for a collection whose object is a speck under the vertex dot.
    scene.add(Spheres("Speck", np.zeros((1, 3)), 0.001, muons.look, pixels=1.0), "Speck", 1)
    with Renderer(style, build_detector(style.detector)) as renderer:
        problems = legend_problems(renderer, scene)
    assert any(p.startswith("Unlisted shows") for p in problems)
    assert any(p.startswith("Speck is in the legend") for p in problems)


@pytest.mark.parametrize("preset", ["publication", "outreach"])
def test_outlines_are_not_dashed(shared_data, preset: str) -> None:
    """Outlines over the detector's faces, drawn as the renderer draws them, against the same
    picture with the faces pushed back by their depth slope (polygon offset 1, 1: exact, but
    44 ms a 1080p frame on llvmpipe)."""
    style = load_style(
        preset,
        ["canvas.width=1920", "canvas.height=1080", "canvas.anti_aliasing=none"],
    )
    source = open_source([str(shared_data / "nanoaod/NanoAODv5_sample.root")])
    scenes = [build_scene(e, style) for e in EventBuilder(source, style).events([0, 1, 2])]
    with Renderer(style, build_detector(style.detector)) as renderer:
        drawn = [renderer.draw(s).astype(int).sum(axis=-1) for s in scenes]
        renderer.exact_outlines = True
        exact = [renderer.draw(s).astype(int).sum(axis=-1) for s in scenes]
    # Outline pixels differ from the fills under them by far more than 30 (of 3 x 255), in
    # either style: darker on publication's light fills, brighter on outreach's dark ones.
    differ = sum(int((np.abs(d - e) > 30).sum()) for d, e in zip(drawn, exact, strict=True))
    # Without any offset about 39,000 pixels of these three pictures differ (lost outlines);
    # with the renderer's line offset about 1,000 to 2,300 (single outline pixels, and cone
    # rims a pixel longer).
    assert differ < 4_000, differ


def test_a_small_event_is_framed_with_the_calorimeters_around_it() -> None:
    """One 0.5 m electron track: with the detector drawn the picture shows at least
    camera.min_extent (1.6 m, past the ECAL) above and below the event's centre, rather than
    zooming into the tracker; without min_extent it would show under a metre."""
    from ispyrender.rendering.renderer import CAMERA_DISTANCE
    from ispyrender.scene.primitives import Appearance, Polylines

    scene = Scene()
    track = np.array([[0.0, 0.0, 0.0], [0.3, 0.3, 0.2]])
    scene.add(Polylines("Electron", (track,), Appearance((0.2, 0.5, 0.9), 1.0, 2.0)), "e", 1)
    shown = {}
    for least in ("1.6", "0"):
        style = load_style(
            "publication",
            ["canvas.width=480", "canvas.height=270", f"camera.min_extent={least}"],
        )
        with Renderer(style, build_detector(style.detector)) as renderer:
            renderer.draw(scene)
            angle = np.radians(renderer.camera.GetViewAngle())
            shown[least] = CAMERA_DISTANCE * np.tan(angle / 2)
    assert shown["1.6"] >= 1.6 > 1.0 > shown["0"]


def test_the_series_camera_frames_every_event_alike(shared_data) -> None:
    """camera.focus "series" (``--camera series``, the gallery's default): the same camera for
    events of different sizes, so that their pictures compare; "event" differs per event."""
    cameras: dict[str, list[tuple[float, ...]]] = {"series": [], "event": []}
    for focus in cameras:
        style = load_style(
            "publication", ["canvas.width=320", "canvas.height=180", f"camera.focus={focus}"]
        )
        with Renderer(style, build_detector(style.detector)) as renderer:
            for entry in (0, 1, 2):
                event = physics_event(str(shared_data / "nanoaod/nano_dy.root"), entry, style)
                renderer.draw(build_scene(event, style))
                cam = renderer.camera
                cameras[focus].append(
                    tuple(
                        np.round([*cam.GetPosition(), *cam.GetFocalPoint(), cam.GetViewAngle()], 6)
                    )
                )
    assert len(set(cameras["series"])) == 1
    assert len(set(cameras["event"])) == 3
