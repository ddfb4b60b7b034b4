"""iSpy (.ig) input: parsing, geometry worked out by hand, and rendering every event of the
real file in ../shared/data/ig."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ispyrender.config.loader import load_style
from ispyrender.errors import InputError
from ispyrender.physics.ispy import bezier, physics_event
from ispyrender.scene.event import build_scene
from ispyrender.scene.primitives import Hexahedra, Polylines
from ispyrender.sources.ispy import IspySource, parse_event


def build_ig_scene(event, style):
    """The iSpy path through the stages: physics objects, then the scene."""
    physics = physics_event(event, style)
    return build_scene(physics, style), physics


def _doc(collections: dict, types: dict, associations: dict | None = None) -> str:
    return json.dumps(
        {"Types": types, "Collections": collections, "Associations": associations or {}}
    )


def test_bare_nan_tokens_are_read_as_nan():
    text = (
        '{"Types": {"Event_V2": [["run","int"],["event","int"],["ls","int"]],'
        ' "PFTaus_V1": [["eta","double"],["x","double"]]},'
        ' "Collections": {"Event_V2": [[1, 2, 3]], "PFTaus_V1": [[0.5, nan], [-nan, 1]]},'
        ' "Associations": {}}'
    )
    ev = parse_event(text)
    assert (ev.run, ev.event, ev.lumi) == (1, 2, 3)
    taus = ev.rows("PFTaus")
    assert np.isnan(taus[0]["x"]) and np.isnan(taus[1]["eta"])


def test_bezier_ends_on_the_states_and_leaves_along_their_directions():
    p0, d0 = np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0])
    p3, d3 = np.array([1.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0])
    curve = bezier(p0, d0, p3, d3)
    assert np.allclose(curve[0], p0) and np.allclose(curve[-1], p3)
    first = curve[1] - curve[0]
    last = curve[-1] - curve[-2]
    # Tangents at the ends are along the stored directions (within the sampling step).
    assert first[1] < 0.1 * first[0]
    assert last[0] < 0.1 * last[1]


def _hit_event(energy: float) -> str:
    cols = ["energy", "eta", "phi", "time", "detid"]
    cols += [f"front_{i}" for i in range(1, 5)] + [f"back_{i}" for i in range(1, 5)]
    front = [[1.3, -0.01, -0.01], [1.3, 0.01, -0.01], [1.3, 0.01, 0.01], [1.3, -0.01, 0.01]]
    back = [[1.52, y, z] for _, y, z in front]
    row = [energy, 0.0, 0.0, 0.0, 1, *front, *back]
    return _doc(
        {"Event_V2": [[5, 6, 7]], "EBRecHits_V2": [row]},
        {
            "Event_V2": [["run", "int"], ["event", "int"], ["ls", "int"]],
            "EBRecHits_V2": [[c, "x"] for c in cols],
        },
    )


def test_rec_hit_depth_grows_with_energy():
    style = load_style(
        "publication", ["collections.ecal_hits.scale=0.1", "collections.ecal_hits.min_energy=1"]
    )
    scene, physics = build_ig_scene(parse_event(_hit_event(5.0)), style)
    (hits,) = [p for p in scene.primitives if isinstance(p, Hexahedra)]
    # 5 GeV x 0.1 m/GeV = 0.5 m deep, along the cell's axis (+x here).
    depth = hits.corners[0, 4:, 0] - hits.corners[0, :4, 0]
    assert np.allclose(depth, 0.5)
    assert physics.counts["ecal_hits"] == 1
    # Below min_energy: not drawn.
    scene, _ = build_ig_scene(parse_event(_hit_event(0.5)), style)
    assert not [p for p in scene.primitives if isinstance(p, Hexahedra)]


@pytest.fixture(scope="module")
def ig_path(shared_data: Path) -> Path:
    path = shared_data / "ig" / "Hto4l_120-130GeV.ig"
    assert path.exists(), f"{path} is missing: the tests need ../shared/data beside the project"
    return path


def test_real_file_events_and_objects(ig_path):
    events = IspySource([str(ig_path)])
    assert len(events) == 11
    style = load_style("publication")
    ev = events.event(0)
    scene, _ = build_ig_scene(ev, style)
    groups = {p.group for p in scene.primitives}
    assert {"Muon", "Track", "EcalRecHits"} <= groups
    muons = next(p for p in scene.primitives if isinstance(p, Polylines) and p.group == "Muon")
    for path in muons.paths:
        # Muon system points lie outside the calorimeters; the line starts near the beam.
        r = np.hypot(path[:, 0], path[:, 1])
        assert r[0] < 0.2 and r.max() > 3.0


def test_cli_renders_every_event_of_the_ig_file(ig_path, tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ispyrender",
            "render",
            str(ig_path),
            "--out",
            str(out),
            "--set",
            "canvas.width=192",
            "--set",
            "canvas.height=108",
            "--set",
            "canvas.anti_aliasing=none",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.png"))
    assert len(files) == 11
    for f in files:
        im = Image.open(f)
        assert im.size == (192, 108)
        assert int(im.text["ispyrender.run"]) > 190000
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3)
        assert len(np.unique(pixels, axis=0)) > 20  # not blank


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--where", "nMuon > 1"], "--where reads NanoAOD branches"),
        (["--events", "40"], "entries out of range: 40"),
        # A range past the end is an error too, not clipped to the events that exist.
        (["--events", "20:9000000000"], "entries out of range: 20:9000000000"),
        (["--ids", "1:1"], "event ids not found in the inputs: 1:1"),
    ],
)
def test_bad_ig_requests(ig_path, tmp_path, args, message):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "ispyrender", "render", str(ig_path), "--out", str(out), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_not_a_zip(tmp_path):
    bad = tmp_path / "x.ig"
    bad.write_text("not a zip")
    with pytest.raises(InputError, match=r"not an iSpy \.ig file"):
        IspySource([str(bad)])


def test_newer_ispy_collection_names_are_read(ig_path):  # type: ignore[no-untyped-def]
    """iSpy files written by CMSSW from 2016 on keep the vertices in PrimaryVertices_V1 and the
    chambers in MatchingCSCs_V1: the same event with its collections renamed so gives the same
    vertex (not the origin) and chambers."""
    import zipfile

    style = load_style("publication")
    with zipfile.ZipFile(ig_path) as archive:
        name = next(n for n in archive.namelist() if n.startswith("Events/"))
        doc = json.loads(archive.read(name).decode().replace("nan", "NaN"))
    old = physics_event(parse_event(json.dumps(doc)), style)
    renames = {"Vertices_V1": "PrimaryVertices_V1", "MuonChambers_V1": "MatchingCSCs_V1"}
    for section in ("Types", "Collections"):
        doc[section] = {renames.get(k, k): v for k, v in doc[section].items()}
    new = physics_event(parse_event(json.dumps(doc)), style)
    assert "PrimaryVertices_V1" in doc["Collections"] and "MatchingCSCs_V1" in doc["Collections"]
    assert np.abs(new.vertices[0].positions[0]).sum() > 0  # not the origin
    assert np.array_equal(new.vertices[0].positions, old.vertices[0].positions)
    assert new.chambers is not None and old.chambers is not None
    assert np.array_equal(new.chambers.corners, old.chambers.corners)
