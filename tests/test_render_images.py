"""Image regression tests: hand-made events drawn with Renderer.draw, compared with baselines.

Every picture is small (320x240), has no text (labels are an overlay added after ``draw``, and
``labels.show`` is off anyway) and a camera fixed by the style. Mesa's llvmpipe renders
bit-identical images from identical input, so tests/image_compare.py compares tightly.

After a deliberate change of the look, regenerate with ``pytest --update-baselines`` and look
at every changed picture in tests/baselines/ before committing it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence

import image_compare
import numpy as np
import pytest
from image_compare import BASELINES, check_image

from ispyrender.config.loader import load_style
from ispyrender.config.style import Style
from ispyrender.physics.objects import Jets, Met, Photons, PhysicsEvent, Tracks, Vertices
from ispyrender.rendering.renderer import Renderer
from ispyrender.scene.detector import build_detector
from ispyrender.scene.event import build_scene
from ispyrender.scene.primitives import Primitive

SMALL = [
    "canvas.width=320",
    "canvas.height=240",
    "canvas.anti_aliasing=msaa",
    "labels.show=false",
]
#: Physics objects alone: no detector, the camera frames the event from the fixed iso angle.
OBJECTS = [*SMALL, "camera.preset=iso", "camera.zoom=1.0", "camera.focus=event"]

#: The whole detector is many translucent layers: a smaller picture keeps its baseline small.
DETECTOR_SIZE = ["canvas.width=240", "canvas.height=180"]

DETECTOR_PARTS = (
    "beam_pipe",
    "tracker",
    "ecal_barrel",
    "ecal_endcap",
    "hcal_barrel",
    "hcal_endcap",
    "solenoid",
    "muon_barrel",
    "muon_endcap",
)


def style(*overrides: str, preset: str = "publication") -> Style:
    return load_style(preset, [*SMALL, *overrides])


class Renderers:
    """One renderer per (style, with detector), shared by the tests of this module."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bool], Renderer] = {}

    def get(self, the_style: Style, detector: bool = False) -> Renderer:
        key = (the_style.model_dump_json(), detector)
        if key not in self._cache:
            parts: Sequence[Primitive] = build_detector(the_style.detector) if detector else ()
            self._cache[key] = Renderer(the_style, parts)
        return self._cache[key]

    def close(self) -> None:
        for renderer in self._cache.values():
            renderer.close()


@pytest.fixture(scope="module")
def renderers() -> Iterator[Renderers]:
    cache = Renderers()
    yield cache
    cache.close()


# ---- hand-made events ------------------------------------------------------------------------


def event(**kw: object) -> PhysicsEvent:
    return PhysicsEvent(run=1, lumi=1, event=1, index=0, source="test", is_simulation=True, **kw)


def tracks(key: str, branch: str, pt, eta, phi, charge, stop: str = "ecal") -> Tracks:
    pt = np.asarray(pt, dtype=float)
    n = pt.size
    return Tracks(
        key,
        branch,
        pt,
        np.asarray(eta, dtype=float),
        np.asarray(phi, dtype=float),
        np.asarray(charge, dtype=float),
        np.zeros((n, 3)),
        np.full(n, stop, dtype="<U4"),
    )


def jets(key: str, branch: str, eta, phi, energy, radius: float) -> Jets:
    eta = np.asarray(eta, dtype=float)
    energy = np.asarray(energy, dtype=float)
    return Jets(
        key,
        branch,
        energy / np.cosh(eta),
        eta,
        np.asarray(phi, dtype=float),
        energy,
        radius,
        np.zeros(3),
    )


def muon(color: str | None = None) -> tuple[PhysicsEvent, Style]:
    the_style = load_style("publication", OBJECTS)
    if color is not None:
        the_style.collections.muons.color = color
    return event(tracks=[tracks("muons", "Muon", [20.0], [0.3], [0.5], [-1.0], "muon")]), the_style


def draw(renderers: Renderers, physics: PhysicsEvent, the_style: Style, detector=False):
    return renderers.get(the_style, detector).draw(build_scene(physics, the_style))


# ---- one picture per kind of object ------------------------------------------------------------


def test_muon_track(renderers, update_baselines):
    physics, the_style = muon()
    check_image("muon_track", draw(renderers, physics, the_style), update_baselines)


def test_electron_track(renderers, update_baselines):
    physics = event(tracks=[tracks("electrons", "Electron", [15.0], [-0.8], [2.0], [1.0])])
    image = draw(renderers, physics, load_style("publication", OBJECTS))
    check_image("electron_track", image, update_baselines)


def test_photon_with_tower(renderers, update_baselines):
    photons = Photons(
        "photons",
        "Photon",
        np.array([60.0]),
        np.array([0.2]),
        np.array([-0.7]),
        np.array([60.0 * np.cosh(0.2)]),
        np.zeros(3),
    )
    image = draw(renderers, event(photons=photons), load_style("publication", OBJECTS))
    check_image("photon_tower", image, update_baselines)


def test_jet_cone(renderers, update_baselines):
    physics = event(jets=[jets("jets", "Jet", [0.5], [1.2], [150.0], 0.4)])
    image = draw(renderers, physics, load_style("publication", OBJECTS))
    check_image("jet_cone", image, update_baselines)


def test_fat_jet(renderers, update_baselines):
    physics = event(jets=[jets("fatjets", "FatJet", [-0.4], [-2.0], [400.0], 0.8)])
    image = draw(renderers, physics, load_style("publication", OBJECTS))
    check_image("fat_jet", image, update_baselines)


def test_tau(renderers, update_baselines):
    physics = event(jets=[jets("taus", "Tau", [0.9], [2.6], [60.0], 0.1)])
    image = draw(renderers, physics, load_style("publication", OBJECTS))
    check_image("tau", image, update_baselines)


def test_met_arrow(renderers, update_baselines):
    # Nothing with extent: the camera falls back to its fixed default box.
    image = draw(renderers, event(met=Met("MET", 80.0, 1.0)), load_style("publication", OBJECTS))
    check_image("met_arrow", image, update_baselines)


def test_primary_and_secondary_vertices(renderers, update_baselines):
    physics = event(
        vertices=[
            Vertices("vertices", "PV", np.zeros((1, 3))),
            Vertices(
                "secondary_vertices", "SV", np.array([[0.06, 0.02, 0.03], [-0.03, 0.05, -0.04]])
            ),
        ]
    )
    # Vertices have no extent for the camera: the fixed default box, zoomed in on the beam spot.
    the_style = load_style("publication", [*OBJECTS, "camera.zoom=15"])
    check_image("vertices", draw(renderers, physics, the_style), update_baselines)


def test_isotracks_and_pf_candidates(renderers, update_baselines):
    physics = event(
        tracks=[
            tracks("isotracks", "IsoTrack", [4.0, 2.5], [0.1, -0.6], [0.3, 2.4], [1.0, -1.0]),
            tracks(
                "pfcands",
                "PFCands",
                [1.5, 3.0, 2.0, 6.0],
                [0.4, -0.2, 1.1, -1.3],
                [-1.0, -2.2, 1.4, 3.0],
                [1.0, 1.0, -1.0, -1.0],
            ),
        ]
    )
    image = draw(renderers, physics, load_style("publication", OBJECTS))
    check_image("isotracks_pfcands", image, update_baselines)


# ---- the detector and the transverse view -----------------------------------------------------


def test_detector_publication_cutaway(renderers, update_baselines):
    the_style = style(*DETECTOR_SIZE)
    assert the_style.detector.cutaway is not None  # the publication preset cuts a wedge away
    image = renderers.get(the_style, detector=True).draw(build_scene(event(), the_style))
    check_image("detector_publication", image, update_baselines)


def test_detector_wireframe(renderers, update_baselines):
    wire = [f"detector.{part}.representation=wireframe" for part in DETECTOR_PARTS]
    # Every edge of every part: the busiest picture, so the smallest.
    the_style = style("canvas.width=200", "canvas.height=150", *wire, "detector.cutaway=null")
    image = renderers.get(the_style, detector=True).draw(build_scene(event(), the_style))
    check_image("detector_wireframe", image, update_baselines)


def test_transverse_view_of_a_track_pair(renderers, update_baselines):
    the_style = style(preset="transverse")
    assert the_style.camera.preset == "transverse"
    # Soft opposite charges bend visibly, the other way from each other.
    physics = event(
        tracks=[tracks("muons", "Muon", [4.0, 6.0], [0.2, -0.1], [0.4, 2.5], [1.0, -1.0], "muon")]
    )
    check_image(
        "transverse_track_pair", draw(renderers, physics, the_style, True), update_baselines
    )


# ---- the comparison itself ------------------------------------------------------------------


def test_changed_track_colour_fails_the_comparison(
    renderers, update_baselines, tmp_path, monkeypatch
):
    """The tolerance is tight: a muon drawn a slightly different red must not pass."""
    if update_baselines:
        pytest.skip("compares against the baseline, which is being rewritten")
    copy = tmp_path / "baselines"
    copy.mkdir()
    shutil.copy(BASELINES / "muon_track.png", copy)
    # The failing comparison writes its picture beside the baselines: keep it in tmp_path.
    monkeypatch.setattr(image_compare, "BASELINES", copy)

    physics, the_style = muon()
    check_image("muon_track", draw(renderers, physics, the_style), update=False)
    for color in ("#c41a1c", "#1f77b4"):  # 32 levels less red; another hue
        physics, recoloured = muon(color)
        with pytest.raises(AssertionError, match="pixels differ"):
            check_image("muon_track", draw(renderers, physics, recoloured), update=False)
    assert (tmp_path / "output" / "muon_track.png").is_file()


def test_rendering_twice_is_bit_identical(renderers):
    physics, the_style = muon()
    physics.jets.append(jets("jets", "Jet", [0.5], [1.2], [150.0], 0.4))
    physics.met = Met("MET", 50.0, -2.0)
    scene = build_scene(physics, the_style)
    shared = renderers.get(the_style)
    first = shared.draw(scene)
    again = shared.draw(scene)
    with Renderer(the_style) as fresh:
        other = fresh.draw(scene)
    assert np.array_equal(first, again)
    assert np.array_equal(first, other)
    # And drawing another event in between leaves nothing behind.
    shared.draw(build_scene(event(met=Met("MET", 10.0, 0.0)), the_style))
    assert np.array_equal(first, shared.draw(scene))


#: The baselines this module writes (other modules keep their own in the same folder).
NAMES = (
    "muon_track",
    "electron_track",
    "photon_tower",
    "jet_cone",
    "fat_jet",
    "tau",
    "met_arrow",
    "vertices",
    "isotracks_pfcands",
    "detector_publication",
    "detector_wireframe",
    "transverse_track_pair",
)


def test_baselines_exist_and_are_small():
    missing = [n for n in NAMES if not (BASELINES / f"{n}.png").is_file()]
    assert not missing, f"no baselines for {missing}: run pytest --update-baselines"
    sizes = {n: (BASELINES / f"{n}.png").stat().st_size for n in NAMES}
    # 60 KB: the detector pictures outline 790 muon chambers and 72 HCAL wedges (about 50 KB
    # at 240 x 180); everything else is well under 30 KB.
    big = [f"{n}.png ({size} bytes)" for n, size in sizes.items() if size > 60_000]
    assert not big, f"baselines over 60 KB: {', '.join(big)}"
