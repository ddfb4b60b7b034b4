"""The built-in sample: deterministic, NanoAOD-shaped and physically consistent."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from ispyrender.jobs.inspect import inspect_dataset
from ispyrender.sources import sample
from ispyrender.sources.nanoaod import Dataset


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample.write_sample(tmp_path_factory.mktemp("sample") / "sample.root")


@pytest.fixture(scope="module")
def events(sample_file: Path) -> ak.Array:
    with uproot.open(sample_file) as f:
        return f["Events"].arrays()


def _mass(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, m: np.ndarray) -> float:
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + m**2)
    return float(np.sqrt(e.sum() ** 2 - px.sum() ** 2 - py.sum() ** 2 - pz.sum() ** 2))


def _vectors(ev: ak.Record, coll: str) -> tuple[np.ndarray, ...]:
    return tuple(
        np.asarray(ev[f"{coll}_{f}"], dtype=np.float64) for f in ("pt", "eta", "phi", "mass")
    )


def test_deterministic_arrays(tmp_path: Path, events: ak.Array) -> None:
    again = sample.write_sample(tmp_path / "again.root")
    with uproot.open(again) as f:
        other = f["Events"].arrays()
    assert other.fields == events.fields
    for name in events.fields:
        assert ak.to_list(other[name]) == ak.to_list(events[name]), name
    # A different seed gives different events.
    assert ak.to_list(sample.build_sample(seed=1)["MET_pt"]) != ak.to_list(events["MET_pt"])


def test_branch_names_and_types(sample_file: Path) -> None:
    with uproot.open(sample_file) as f:
        tree = f["Events"]
        types = tree.typenames()
        assert tree.num_entries == sample.NUM_EVENTS
    assert types["event"] == "uint64_t" and types["run"] == "uint32_t"
    assert types["nMuon"] in ("int32_t", "uint32_t")
    assert types["Muon_pt"] == "float[]" and types["Muon_charge"] == "int32_t[]"
    for coll, fields in {
        "Muon": "pt eta phi mass charge dxy dz pdgId",
        "Electron": "pt eta phi mass charge dxy dz pdgId",
        "Photon": "pt eta phi mass",
        "Jet": "pt eta phi mass btagDeepFlavB",
        "FatJet": "pt eta phi mass",
        "Tau": "pt eta phi mass charge",
        "IsoTrack": "pt eta phi dxy dz pdgId charge",
        "SV": "x y z",
    }.items():
        assert f"n{coll}" in types
        for field in fields.split():
            assert f"{coll}_{field}" in types
    for name in ("genWeight", "PV_x", "PV_y", "PV_z", "PV_npvs", "MET_pt", "MET_phi"):
        assert name in types


def test_topologies_and_masses(events: ak.Array) -> None:
    n_top = len(sample.TOPOLOGIES)
    for i in range(sample.NUM_EVENTS):
        ev = events[i]
        kind = sample.TOPOLOGIES[i % n_top]
        if kind in ("Z->mumu", "Z->ee"):
            coll = "Muon" if kind == "Z->mumu" else "Electron"
            assert len(ev[f"{coll}_pt"]) == 2
            assert 75 < _mass(*_vectors(ev, coll)) < 107
            assert sorted(ev[f"{coll}_charge"].tolist()) == [-1, 1]
            pdg = 13 if coll == "Muon" else 11
            assert sorted(ev[f"{coll}_pdgId"].tolist()) == [-pdg, pdg]
            # pdgId and charge agree: negative pdgId is the positive antilepton.
            pdg_ids = np.asarray(ev[f"{coll}_pdgId"])
            assert (np.sign(pdg_ids) == -np.asarray(ev[f"{coll}_charge"])).all()
        elif kind == "H->gammagamma":
            assert len(ev["Photon_pt"]) == 2
            assert 120 < _mass(*_vectors(ev, "Photon")) < 130
        elif kind == "ttbar->l+jets":
            assert len(ev["Muon_pt"]) + len(ev["Electron_pt"]) == 1
            assert len(ev["Jet_pt"]) == 4
            assert int(np.sum(np.asarray(ev["Jet_btagDeepFlavB"]) > 0.5)) == 2
            assert ev["MET_pt"] > 5
            if len(ev["FatJet_pt"]):
                assert 150 < float(ev["FatJet_mass"][0]) < 195
        else:
            assert ev["MET_pt"] >= 150 and len(ev["Jet_pt"]) >= 3
        for coll in ("Muon", "Electron"):
            assert (np.abs(np.asarray(ev[f"{coll}_eta"])) < 2.4).all()
        tracks = np.asarray(ev["IsoTrack_pt"])
        assert len(tracks) >= 3 and ((tracks >= 1) & (tracks <= 10)).all()
    charges = ak.flatten(events["IsoTrack_charge"]).to_numpy()
    assert set(charges.tolist()) == {-1, 1}
    assert (ak.flatten(events["IsoTrack_pdgId"]).to_numpy() == 211 * charges).all()
    fat = ak.num(events["FatJet_pt"]).to_numpy()
    assert 0 < fat.sum() < sample.NUM_EVENTS


def test_primary_vertex_near_beam_spot(events: ak.Array) -> None:
    assert np.allclose(events["PV_x"].to_numpy(), 0.01, atol=0.005)
    assert np.allclose(events["PV_y"].to_numpy(), 0.04, atol=0.005)
    assert (np.abs(events["PV_z"].to_numpy()) < 15).all()


def test_reads_as_simulation_with_nothing_essential_missing(sample_file: Path) -> None:
    with Dataset([str(sample_file)]) as ds:
        assert ds.is_simulation and ds.num_entries == sample.NUM_EVENTS
        report = inspect_dataset(ds)
    lacking = [m for m in report.missing if "lacks" in m or "pdgId" in m]
    assert lacking == []


def test_sample_path_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = sample.sample_path()
    assert first.parent == tmp_path / "ispyrender"
    assert f"v{sample.GENERATOR_VERSION}" in first.name and first.is_file()
    mtime = first.stat().st_mtime_ns
    assert sample.sample_path() == first and first.stat().st_mtime_ns == mtime
    # No temporary files are left beside it.
    assert [p.name for p in first.parent.iterdir()] == [first.name]
