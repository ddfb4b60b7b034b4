"""One odd value must not break a picture or a file: a generated NanoAOD file of 23 events,
each with one non-finite or impossible value among sane objects, and a 24th whose Muon_dz
disagrees in length with Muon_pt.

Each event gives a picture with the detector and its sane objects, the odd object is left out
with one warning per collection (naming the branch and the entries), every JSON file is
strict (a parser that refuses NaN and Infinity reads it), and no absurd number reaches a
label."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

#: (branch, value) of each event's odd value: inf, NaN, 1e30 and negative values in pT, eta,
#: phi, mass, MET and the vertex.
ODD: list[tuple[str, float]] = [
    ("Muon_pt", math.inf), ("Muon_pt", math.nan), ("Muon_pt", 1e30), ("Muon_pt", -5.0),
    ("Muon_eta", 1e6), ("Muon_eta", math.nan), ("Muon_phi", math.inf), ("Muon_phi", 1e6),
    ("Electron_pt", 1e30), ("Electron_eta", -math.inf), ("Jet_pt", math.inf),
    ("Jet_pt", 1e30), ("Jet_eta", 1e6), ("Jet_mass", math.nan), ("Jet_mass", -1e30),
    ("Photon_pt", 1e30), ("Photon_phi", math.nan), ("MET_pt", math.inf), ("MET_pt", math.nan),
    ("MET_pt", 1e30), ("MET_phi", math.nan), ("PV_x", math.nan), ("PV_z", 1e9),
]  # fmt: skip


def _odd_file(path: Path) -> Path:
    n = len(ODD) + 1  # the last event: sane values, but a Muon_dz of the wrong length
    # Every event: an opposite-sign muon pair (a mass to print), a third muon, an electron, a
    # jet and a photon apart from them, MET and a vertex: all sane.
    base = {
        "Muon": {"pt": [45.0, 40.0, 20.0], "eta": [0.3, -0.5, 1.1], "phi": [0.2, 2.9, -1.5],
                 "charge": [1, -1, 1], "mass": [0.1057] * 3},
        "Electron": {"pt": [30.0], "eta": [-1.2], "phi": [1.4], "charge": [-1],
                     "mass": [0.0005]},
        "Jet": {"pt": [80.0], "eta": [0.8], "phi": [-2.4], "mass": [9.0]},
        "Photon": {"pt": [25.0], "eta": [1.6], "phi": [-0.6], "mass": [0.0]},
    }  # fmt: skip
    collections: dict[str, dict[str, list[list[float]]]] = {
        c: {f: [] for f in fields} for c, fields in base.items()
    }
    scalars: dict[str, list[float]] = {k: [] for k in ("MET_pt", "MET_phi", "PV_x", "PV_y", "PV_z")}
    for branch, value in [*ODD, ("", 0.0)]:
        for c, fields in base.items():
            for f, values in fields.items():
                row = [float(v) for v in values]
                if branch == f"{c}_{f}":
                    row[0] = value
                collections[c][f].append(row)
        sane = {"MET_pt": 35.0, "MET_phi": 1.0, "PV_x": 0.01, "PV_y": 0.02, "PV_z": 1.5}
        for k in scalars:
            scalars[k].append(value if branch == k else sane[k])
    data: dict[str, object] = {
        c: ak.zip({f: ak.Array(rows) for f, rows in fields.items()})
        for c, fields in collections.items()
    }
    data.update({k: np.array(v) for k, v in scalars.items()})
    # A branch with a counter of its own (nMuon_dz): it can disagree with Muon_pt's nMuon.
    data["Muon_dz"] = ak.Array([[0.0, 0.0, 0.0]] * (n - 1) + [[0.0, 0.0]])
    data["run"] = np.full(n, 1, dtype=np.uint32)
    data["luminosityBlock"] = np.full(n, 1, dtype=np.uint32)
    data["event"] = np.arange(1, n + 1, dtype=np.uint64)
    with uproot.recreate(path) as file:
        types = {
            k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in data.items()
        }
        file.mktree("Events", types, title="Events")
        file["Events"].extend(data)
    return path


def _strict(text: str) -> object:
    def refuse(token: str) -> object:
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def odd_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _odd_file(tmp_path_factory.mktemp("odd") / "odd.root")


def test_each_odd_value_leaves_its_object_out_and_the_rest_drawn(odd_file: Path) -> None:
    from ispyrender.config.loader import load_style
    from ispyrender.physics import EventBuilder
    from ispyrender.physics.quantities import leading_masses
    from ispyrender.scene.event import build_scene
    from ispyrender.scene.labels import event_labels
    from ispyrender.sources import open_source

    style = load_style("publication", ["labels.masses=true"])
    with open_source([str(odd_file)]) as source:
        builder = EventBuilder(source, style)
        events = list(builder.events(range(len(source))))
    assert len(events) == len(ODD) + 1
    mismatched = events.pop()
    assert not any(t.collection == "muons" for t in mismatched.tracks)
    assert mismatched.mismatched == {"muons": "Muon_dz has 2 values where Muon_pt has 3"}
    assert mismatched.photons is not None and mismatched.met is not None  # the rest is drawn
    for (branch, value), event in zip(ODD, events, strict=True):
        muons = next(t for t in event.tracks if t.collection == "muons")
        # The sane muons are drawn; an odd muon is left out (or, at -5 GeV, below any pT).
        assert len(muons) == (2 if branch.startswith("Muon_") else 3), (branch, value)
        assert np.all(np.isfinite(muons.pt)) and np.all(muons.pt < 7000)
        if branch.startswith(("MET_",)):
            assert event.met is None
        if branch.startswith("PV_"):
            assert "vertices" in event.skipped_nan
        scene = build_scene(event, style)
        assert scene.metres_per_gev is None or 1e-4 < scene.metres_per_gev < 1.0, branch
        block = event_labels(event, scene, style)
        text = " ".join([*block.info, *block.masses, block.energy_scale, *block.left_out])
        assert "nan" not in text.lower() and "inf" not in text.lower(), (branch, text)
        for mass in leading_masses(event):
            assert 0 <= mass.value < 14000, (branch, mass)
    warnings = builder.nan_warnings()
    assert warnings, "the odd values are said"
    muon_line = next(w for w in warnings if " muons " in w)
    assert "Muon_pt/eta/phi" in muon_line and "entries" in muon_line
    assert (
        "Muon_dz has 2 values where Muon_pt has 3 (entry 23): its muons are not drawn there"
        in warnings
    )


def test_a_batch_of_odd_events_writes_strict_json_everywhere(
    odd_file: Path, tmp_path: Path
) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "ispyrender", *args], capture_output=True, text=True, timeout=600
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result

    tiny = ["--set", "canvas.width=320", "--set", "canvas.height=180"]
    out = tmp_path / "png"
    result = run("render", str(odd_file), "--keep-going", "-o", str(out), *tiny)
    assert result.returncode == 0, result.stderr
    assert len(list(out.glob("*.png"))) == len(ODD) + 1
    assert "left out" in result.stderr and "NaN or impossible values" in result.stderr
    assert "Muon_dz has 2 values where Muon_pt has 3 (entry 23)" in result.stderr
    manifest = _strict((out / "manifest.json").read_text())
    assert isinstance(manifest, dict) and len(manifest["events"]) == len(ODD) + 1
    for fmt, suffix in (("phoenix", ".json"), ("glb", ".glb")):
        folder = tmp_path / fmt
        assert run("render", str(odd_file), "-f", fmt, "-q", "-o", str(folder)).returncode == 0
        for path in folder.glob(f"*{suffix}"):
            if suffix == ".glb":
                data = path.read_bytes()
                length = int.from_bytes(data[12:16], "little")
                _strict(data[20 : 20 + length].decode())
            else:
                _strict(path.read_text())
    site = tmp_path / "site"
    assert run("gallery", str(odd_file), "-q", "-o", str(site), *tiny).returncode == 0
    index = (site / "index.html").read_text()
    for block in index.split('<script type="application/json"')[1:]:
        _strict(block.split(">", 1)[1].split("</script>", 1)[0])
