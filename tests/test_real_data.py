"""Real CMS files end to end through the pipeline, and the Phoenix export checked against physics.

Every NanoAOD file in ../shared/data/nanoaod renders its first three events to PNG and to
Phoenix JSON. These tests must run wherever the suite runs: without the shared folder they fail
(see the ``shared_data`` fixture), they never skip.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import uproot
from conftest import NANOAOD_FILES
from PIL import Image

from ispyrender.config.loader import load_style
from ispyrender.config.style import Style
from ispyrender.jobs.render import RenderOptions, render_events
from ispyrender.rendering.renderer import Renderer
from ispyrender.scene.detector import build_detector
from ispyrender.scene.primitives import Scene
from ispyrender.sources.nanoaod import Dataset

FILES = NANOAOD_FILES

#: Small and fast: no anti-aliasing, no labels (so that every pixel that differs from the
#: detector-only picture is physics).
FAST = [
    "canvas.width=320",
    "canvas.height=180",
    "canvas.anti_aliasing=none",
    "labels.show=false",
]


@pytest.fixture(scope="module")
def fast_style() -> Style:
    return load_style("publication", FAST)


@pytest.fixture(scope="module")
def detector_only(fast_style) -> np.ndarray:
    """The picture of an event with nothing in it."""
    with Renderer(fast_style, build_detector(fast_style.detector)) as renderer:
        return renderer.draw(Scene())


def test_every_shared_file_is_covered(shared_data):
    found = {p.name for p in (shared_data / "nanoaod").glob("*.root")}
    assert found == set(FILES), "add new shared files to FILES (or remove old ones)"


@pytest.mark.parametrize("name", FILES)
def test_first_events_render_to_png_and_phoenix(
    name, shared_data, fast_style, detector_only, tmp_path
):
    path = shared_data / "nanoaod" / name
    with Dataset([str(path)]) as dataset:
        # missing_luminosityBlock.root holds only two events.
        entries = list(range(min(3, dataset.num_entries)))
        assert len(entries) >= 2
        pngs = render_events(dataset, entries, fast_style, RenderOptions(tmp_path / "png"))
        jsons = render_events(
            dataset, entries, fast_style, RenderOptions(tmp_path / "json", format="phoenix")
        )
        storage = dataset.inputs[0].storage
    assert storage == ("RNTuple" if "rntuple" in name else "TTree")

    assert [r.index for r in pngs.written] == entries
    drawn_pixels = []
    for result in pngs.written:
        assert result.path is not None and result.path.suffix == ".png"
        with Image.open(result.path) as im:
            im.verify()
        with Image.open(result.path) as im:
            image = np.asarray(im.convert("RGB"))
        assert image.shape == (180, 320, 3)
        # Not blank: the physics objects change the picture. Some events are nearly empty
        # (the first 2015 ttbar event has only a primary vertex and a MET arrow pointing
        # almost straight at the camera).
        changed = np.abs(image.astype(int) - detector_only.astype(int)).max(axis=-1) > 8
        assert changed.sum() >= 3, f"{result.path.name}: nothing drawn"
        drawn_pixels.append(int(changed.sum()))
    assert max(drawn_pixels) > 100, drawn_pixels
    # Only the pictures: no temporary or probe files.
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == sorted(
        r.path.name for r in pngs.written
    )

    assert [r.index for r in jsons.written] == entries
    for png_result, result in zip(pngs.written, jsons.written, strict=True):
        data = json.loads(result.path.read_text())
        key = f"Run {result.run} Event {result.event}"
        assert list(data) == [key]
        event = data[key]
        assert event["run number"] == result.run == png_result.run
        assert event["event number"] == result.event == png_result.event
        assert event["units"] == "length: mm, energy: MeV"
        drawn = {"Tracks", "Jets", "CaloClusters", "MissingEnergy", "Vertices"} & set(event)
        assert drawn, f"{key} of {name} exports nothing"
        for tracks in event.get("Tracks", {}).values():
            for track in tracks:
                pos = np.asarray(track["pos"])
                assert pos.ndim == 2 and pos.shape[1] == 3 and len(pos) >= 2
                assert np.all(np.isfinite(pos))
        for jets in event.get("Jets", {}).values():
            for jet in jets:
                assert {"eta", "phi", "energy", "coneR"} <= set(jet)


# ---- Phoenix geometry against the physics, on the built-in sample ----------------------------


@pytest.fixture(scope="module")
def sample_export(tmp_path_factory) -> tuple[dict, list[dict]]:
    """Every event of the built-in sample exported to Phoenix JSON, and its raw branches."""
    from ispyrender.sources.sample import sample_path

    path = sample_path()
    out = tmp_path_factory.mktemp("phoenix")
    style = load_style("publication")
    with Dataset([str(path)]) as dataset:
        entries = list(range(dataset.num_entries))
        render_events(dataset, entries, style, RenderOptions(out, format="phoenix"))
    with uproot.open(path) as file:
        raw = file["Events"].arrays(library="np")
    events = []
    for i in entries:
        (data,) = json.loads((out / f"1_{1 + i // 10}_{1001 + i}.json").read_text()).values()
        events.append(data)
    return raw, events


def _sorted_by_pt(raw: dict, coll: str, i: int, min_pt: float) -> dict[str, np.ndarray]:
    pt = raw[f"{coll}_pt"][i].astype(float)
    order = [k for k in np.argsort(-pt, kind="stable") if pt[k] >= min_pt]
    fields = [k.split("_", 1)[1] for k in raw if k.startswith(f"{coll}_")]
    return {f: raw[f"{coll}_{f}"][i].astype(float)[order] for f in fields}


def test_muon_tracks_lie_on_their_helix_circle(sample_export):
    """Inside the solenoid (3.8 T) a track is a circle of radius pT / (0.2998 * 3.8) m in the
    transverse plane; positive charges turn clockwise seen from +z."""
    raw, events = sample_export
    checked = 0
    for i, event in enumerate(events):
        muons = _sorted_by_pt(raw, "Muon", i, min_pt=3.0)
        exported = event.get("Tracks", {}).get("Muon", [])
        assert len(exported) == len(muons["pt"])
        for k, track in enumerate(exported):
            pos = np.asarray(track["pos"]) / 1000.0  # mm -> m
            pt, phi, q = muons["pt"][k], muons["phi"][k], muons["charge"][k]
            radius = pt / (0.2998 * 3.8)
            # Force q v x B with B along +z: towards (sin phi, -cos phi) for q > 0.
            centre = pos[0, :2] + q * radius * np.array([np.sin(phi), -np.cos(phi)])
            r_xy = np.hypot(pos[:, 0], pos[:, 1])
            # Inside the tracker and |z| < 1.5 m: well within the uniform 3.8 T region.
            inner = pos[(r_xy < 1.2) & (np.abs(pos[:, 2]) < 1.5)]
            if len(inner) < 10:
                continue  # a forward muon leaves |z| < 1.5 m within a few steps
            distance = np.hypot(inner[:, 0] - centre[0], inner[:, 1] - centre[1])
            # 0.1 mm: the tracker's energy loss (26 MeV/m) tightens the curve slightly. A radius
            # off by the 0.07 % of 0.3 instead of 0.2998 would be 1.8 mm at 3 GeV, 25 mm at 40.
            assert distance == pytest.approx(radius, abs=1e-4), (i, k, pt)
            # The first step leaves along phi.
            step = pos[1, :2] - pos[0, :2]
            assert np.arctan2(step[1], step[0]) == pytest.approx(phi, abs=0.02)
            checked += 1
    assert checked >= 4


def test_jets_match_the_input(sample_export):
    raw, events = sample_export
    checked = 0
    for i, event in enumerate(events):
        jets = _sorted_by_pt(raw, "Jet", i, min_pt=20.0)
        exported = event.get("Jets", {}).get("AK4Jets", [])
        assert len(exported) == len(jets["pt"])
        for k, jet in enumerate(exported):
            eta, phi, pt, mass = jets["eta"][k], jets["phi"][k], jets["pt"][k], jets["mass"][k]
            energy = np.sqrt((pt * np.cosh(eta)) ** 2 + mass**2)
            assert jet["eta"] == pytest.approx(eta, rel=1e-6)
            assert jet["phi"] == pytest.approx(phi, rel=1e-6)
            assert jet["energy"] == pytest.approx(energy * 1000.0, rel=1e-5)  # MeV
            assert jet["et"] == pytest.approx(pt * 1000.0, rel=1e-6)
            assert jet["coneR"] == 0.4
            checked += 1
    assert checked >= 10


def test_met_matches_the_input(sample_export):
    raw, events = sample_export
    min_pt = load_style("publication").collections.met.min_pt
    checked = 0
    for i, event in enumerate(events):
        pt, phi = float(raw["MET_pt"][i]), float(raw["MET_phi"][i])
        if pt < min_pt:  # the style leaves imbalances within the resolution out
            assert "MissingEnergy" not in event
            continue
        checked += 1
        (met,) = event["MissingEnergy"]["MET"]
        assert met["etx"] == pytest.approx(pt * np.cos(phi) * 1000.0, rel=1e-6, abs=1e-3)
        assert met["ety"] == pytest.approx(pt * np.sin(phi) * 1000.0, rel=1e-6, abs=1e-3)
    assert checked >= 5


def test_primary_vertex_matches_the_input(sample_export):
    raw, events = sample_export
    for i, event in enumerate(events):
        (pv,) = event["Vertices"]["PrimaryVertices"]
        for c in "xyz":
            assert pv[c] == pytest.approx(float(raw[f"PV_{c}"][i]) * 10.0, rel=1e-6)  # cm -> mm


def test_shared_folder_is_where_the_tests_expect(shared_data: Path):
    assert (shared_data / "README.md").is_file()
