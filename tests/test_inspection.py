"""inspect_dataset on real files: multiplicities, MET sources and what a render would miss."""

from __future__ import annotations

import json
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot
from conftest import NANOAOD_FILES

from ispyrender.jobs.inspect import inspect_dataset
from ispyrender.sources.nanoaod import Dataset

FILES = sorted(NANOAOD_FILES)


@pytest.mark.parametrize("name", FILES)
def test_every_file_inspects_and_serialises(name: str, shared_data: Path) -> None:
    path = shared_data / "nanoaod" / name
    with Dataset([str(path)]) as ds:
        report = inspect_dataset(ds)
    assert report.num_events == ds.num_entries
    assert report.kind == ("simulation" if ds.is_simulation else "collision data")
    assert report.run_range is not None and report.run_range[0] <= report.run_range[1]
    assert [i.path for i in report.inputs] == [str(path)]
    assert "MET" in report.met_sources
    names = [c.name for c in report.collections]
    assert "Jet" in names and "Muon" in names
    data = json.loads(json.dumps(report.to_dict()))
    assert data["num_events"] == ds.num_entries and isinstance(data["missing"], list)
    assert data["files"][0]["path"] == str(path) and data["files"][0]["storage"] in (
        "TTree",
        "RNTuple",
    )
    assert data["collections"]["Jet"]["max"] == report.collections[names.index("Jet")].max
    assert data["kind"] == report.kind and data["met_sources"] == report.met_sources


def test_dimuon_multiplicities_match_counters(shared_data: Path) -> None:
    path = shared_data / "nanoaod" / "nano_dimuon.root"
    with uproot.open(path) as f:
        n_muon = f["Events"]["nMuon"].array(library="np")
    with Dataset([str(path)]) as ds:
        report = inspect_dataset(ds)
    muon = next(c for c in report.collections if c.name == "Muon")
    assert muon.mean == pytest.approx(float(np.mean(n_muon)), abs=1e-3)
    assert muon.max == int(n_muon.max())
    assert muon.counted_from == "nMuon"
    assert muon.events_with == int(np.count_nonzero(n_muon))
    assert report.kind == "collision data" and report.run_range == (315267, 315267)
    assert any("GenPart" in m and "collision data" in m for m in report.missing)
    assert any("IsoTrack" in m and "pdgId" in m for m in report.missing)


def test_missing_lumi_and_runs_tree(shared_data: Path) -> None:
    with Dataset([str(shared_data / "nanoaod" / "missing_luminosityBlock.root")]) as ds:
        report = inspect_dataset(ds)
    assert any(m.startswith("no luminosityBlock") for m in report.missing)
    assert any(m.startswith("no Runs tree") for m in report.missing)
    assert not report.inputs[0].has_luminosity_block


def test_rntuple_and_pfnano(shared_data: Path) -> None:
    with Dataset(
        [
            str(
                shared_data / "nanoaod" / "cmsopendata2015_ttbar_19980_NANOAOD_"
                "RNTupleImporter_rntuple_v1-0-0-1.root"
            )
        ]
    ) as ds:
        report = inspect_dataset(ds)
    assert report.inputs[0].storage == "RNTuple"
    assert any(m.startswith("IsoTrack: absent") for m in report.missing)
    with Dataset([str(shared_data / "nanoaod" / "pfnano.root")]) as ds:
        report = inspect_dataset(ds)
    pf = next(c for c in report.collections if c.name == "PFCands")
    assert pf.max > 1000
    assert not any(m.startswith("PFCands") for m in report.missing)


def test_v13_has_charges_and_deepmet(shared_data: Path) -> None:
    with Dataset([str(shared_data / "nanoaod" / "EGamma_2022E_v13.root")]) as ds:
        report = inspect_dataset(ds)
    assert not any(m.startswith("IsoTrack") for m in report.missing)
    assert "DeepMETResolutionTune" in report.met_sources


def test_counts_from_pt_when_counter_is_missing(tmp_path: Path) -> None:
    # Write Muon_pt with a counter name that is not nMuon, as a slimming tool might.
    path = tmp_path / "odd.root"
    with uproot.recreate(path) as f:
        f.mktree(
            "Events",
            {"run": np.uint32, "event": np.uint64, "Muon_pt": "var * float32"},
            counter_name=lambda counted: "cnt" + counted,
        )
        f["Events"].extend(
            {
                "run": np.ones(3, np.uint32),
                "event": np.arange(3, dtype=np.uint64),
                "Muon_pt": ak.Array([[1.0, 2.0], [], [3.0, 4.0, 5.0]]),
            }
        )
    with Dataset([str(path)]) as ds:
        report = inspect_dataset(ds)
    muon = next(c for c in report.collections if c.name == "Muon")
    assert (muon.counted_from, muon.max, muon.mean) == (
        "Muon_pt",
        3,
        pytest.approx(5 / 3, abs=1e-3),
    )
    assert any(m.startswith("Muon: lacks") and "Muon_charge" in m for m in report.missing)
    assert any(m.startswith("Jet: absent") for m in report.missing)


def _scouting_file(path: Path) -> Path:
    """A file with ScoutingNANO's collection names and none of standard NanoAOD's."""
    import awkward as ak
    import numpy as np
    import uproot

    def objects(n: int, charge: bool = False) -> ak.Array:
        one = {"pt": 30.0, "eta": 0.5, "phi": 1.0, "m": 0.1} | ({"charge": 1} if charge else {})
        return ak.Array([[one] * n] * 3)

    columns = {
        "run": np.ones(3, np.uint32),
        "luminosityBlock": np.ones(3, np.uint32),
        "event": np.arange(3, dtype=np.uint64),
        "ScoutingMuonVtx": objects(2, charge=True),
        "ScoutingPFJet": objects(3),
        "ScoutingPhoton": objects(1),
        "ScoutingMET_pt": np.full(3, 30.0, np.float32),
        "ScoutingMET_phi": np.zeros(3, np.float32),
    }
    types = {
        k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in columns.items()
    }
    with uproot.recreate(path) as file:
        file.mktree("Events", types)
        file["Events"].extend(columns)
    return path


def test_scouting_nano_is_listed_and_nothing_to_draw_is_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = _scouting_file(tmp_path / "scouting.root")
    done = subprocess.run(
        [sys.executable, "-m", "ispyrender", "inspect", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)["collections"]
    assert {"ScoutingMuonVtx", "ScoutingPFJet", "ScoutingPhoton"} <= set(listed)
    assert listed["ScoutingPFJet"]["max"] == 3
    for command in ("render", "figure", "gallery", "animate"):
        out = tmp_path / command
        done = subprocess.run(
            [sys.executable, "-m", "ispyrender", command, str(path), "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: nothing to draw"), lines
        assert "ScoutingMuonVtx" in lines[0] and "ScoutingNANO" in lines[0]
        assert not out.exists()


def test_inspect_ids_lists_the_events_to_pick(shared_data: Path, tmp_path: Path) -> None:
    """inspect --ids: RUN:LUMI:EVENT one a line (what --ids-file reads) of the events passing
    --where, checked against the branches read with uproot; --json adds the entries."""
    import subprocess
    import sys

    path = shared_data / "nanoaod" / "nano_dimuon.root"
    ispy = [sys.executable, "-m", "ispyrender", "inspect", str(path), "--ids"]
    done = subprocess.run([*ispy, "--where", "nMuon >= 2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    tree = uproot.open(path)["Events"]
    b = tree.arrays(["run", "luminosityBlock", "event", "nMuon"], library="np")
    keep = b["nMuon"] >= 2
    expected = [
        f"{r}:{lu}:{e}"
        for r, lu, e in zip(*(b[k][keep] for k in ("run", "luminosityBlock", "event")), strict=True)
    ]
    assert done.stdout.split() == expected and 0 < len(expected) < tree.num_entries
    listed = json.loads(
        subprocess.run([*ispy, "--json", "-n", "2"], capture_output=True, text=True).stdout
    )
    assert listed == [
        {
            "entry": i,
            "run": int(b["run"][i]),
            "lumi": int(b["luminosityBlock"][i]),
            "event": int(b["event"][i]),
        }
        for i in (0, 1)
    ]
    # The list is an --ids-file as it is.
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(done.stdout)
    from ispyrender.selection import Selection
    from ispyrender.sources import open_source

    with open_source([str(path)]) as source:
        assert Selection(ids_file=ids_file).resolve(source) == list(np.flatnonzero(keep))
