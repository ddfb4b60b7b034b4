"""Reading real NanoAOD files (TTree and RNTuple) and rejecting bad inputs with one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
import uproot
from conftest import NANOAOD_FILES

from ispyrender.errors import InputError
from ispyrender.sources.nanoaod import Dataset, EventRecord
from ispyrender.sources.paths import expand_inputs

FILES = sorted(NANOAOD_FILES)
RNTUPLE = "cmsopendata2015_ttbar_19980_NANOAOD_RNTupleImporter_rntuple_v1-0-0-1.root"
V5 = "NanoAODv5_sample.root"
V13 = "EGamma_2022E_v13.root"
DRAW_BRANCHES = [
    "nMuon",
    "Muon_pt",
    "Muon_eta",
    "Muon_charge",
    "Jet_pt",
    "MET_pt",
    "MET_phi",
    "PV_z",
    "IsoTrack_charge",  # present only in v13: must simply be absent elsewhere
    "PFCands_pt",  # present only in pfnano
    "NoSuch_branch",
]


@pytest.fixture(scope="module")
def datasets(shared_data: Path) -> Iterator[dict[str, Dataset]]:
    opened = {name: Dataset([str(shared_data / "nanoaod" / name)]) for name in FILES}
    yield opened
    for ds in opened.values():
        ds.close()


def _reference(path: Path, branches: list[str], entry: int) -> dict[str, Any]:
    with uproot.open(path) as f:
        tree = f["Events"]
        return {
            b: ak.to_list(tree[b].array(entry_start=entry, entry_stop=entry + 1)[0])
            for b in branches
        }


def test_every_shared_file_is_listed(shared_data: Path) -> None:
    assert RNTUPLE in FILES and "missing_luminosityBlock.root" in FILES and len(FILES) >= 8


@pytest.mark.parametrize("name", FILES)
def test_open_and_read_every_file(
    name: str, datasets: dict[str, Dataset], shared_data: Path
) -> None:
    ds = datasets[name]
    path = shared_data / "nanoaod" / name
    with uproot.open(path) as f:
        expected_entries = f["Events"].num_entries
    assert ds.num_entries == expected_entries > 0
    info = ds.inputs[0]
    assert info.path == str(path)
    assert info.storage == ("RNTuple" if name == RNTUPLE else "TTree")
    assert {"run", "event", "Jet_pt"} <= info.branches
    assert not any(b.startswith("_collection") or "." in b for b in info.branches)
    assert ds.available_branches() == set(info.branches)

    run, lumi, event = ds.event_ids()
    assert len(run) == len(event) == ds.num_entries
    assert event.dtype == np.uint64
    assert (lumi is None) == (name == "missing_luminosityBlock.root")

    records = list(ds.iter_events(None, DRAW_BRANCHES))
    assert [r.index for r in records] == list(range(ds.num_entries))
    assert [r.event for r in records] == event.tolist()
    last = records[-1]
    assert last.entry == ds.num_entries - 1 and last.source == str(path)
    assert "NoSuch_branch" not in last.values
    assert ("IsoTrack_charge" in last.values) == ("IsoTrack_charge" in info.branches)
    assert ("PFCands_pt" in last.values) == (name == "pfnano.root")
    # Values agree with a direct uproot read of the same entry.
    checked = ["Jet_pt", "MET_pt", "nMuon", "Muon_charge"]
    for branch, expected in _reference(path, checked, last.entry).items():
        assert np.asarray(last.values[branch]).tolist() == pytest.approx(expected)
    assert isinstance(last.values["Jet_pt"], np.ndarray) and last.values["Jet_pt"].ndim == 1
    assert np.ndim(last.values["MET_pt"]) == 0


def test_simulation_flag(datasets: dict[str, Dataset]) -> None:
    assert not datasets["nano_dimuon.root"].is_simulation
    assert not datasets[V13].is_simulation
    assert datasets["nano_dy.root"].is_simulation
    assert datasets[RNTUPLE].is_simulation


def test_rntuple_drops_collection_fields(datasets: dict[str, Dataset]) -> None:
    ds = datasets[RNTUPLE]
    assert ds.inputs[0].compression == "ZLIB(1)"
    records = list(ds.iter_events([3], ["Muon_pt", "nMuon"]))
    assert len(records) == 1
    assert set(records[0].values) == {"Muon_pt", "nMuon"}
    assert records[0].values["Muon_pt"].tolist() == pytest.approx([33.3, 31.3], abs=0.05)


def test_missing_luminosity_block(datasets: dict[str, Dataset]) -> None:
    ds = datasets["missing_luminosityBlock.root"]
    assert not ds.inputs[0].has_lumi and not ds.inputs[0].has_runs_tree
    assert all(r.lumi is None for r in ds.iter_events(None, ["Jet_pt"]))


def test_v13_integer_types_are_kept(datasets: dict[str, Dataset]) -> None:
    ds = datasets[V13]
    assert ds.inputs[0].compression == "LZMA(9)"
    rec = next(iter(ds.iter_events([0], ["nMuon", "Electron_jetIdx", "Electron_cutBased"])))
    assert rec.values["nMuon"].dtype == np.int32
    assert rec.values["Electron_jetIdx"].dtype == np.int16
    assert rec.values["Electron_cutBased"].dtype == np.uint8
    assert rec.lumi is not None


def test_nan_values_pass_through(datasets: dict[str, Dataset]) -> None:
    ds = datasets[V13]
    values = [
        r.values["DeepMETResolutionTune_pt"]
        for r in ds.iter_events(None, ["DeepMETResolutionTune_pt"])
    ]
    assert int(np.isnan(np.array(values, dtype=np.float64)).sum()) == 4


def test_chunking_matches_one_big_read(datasets: dict[str, Dataset]) -> None:
    ds = datasets[V5]
    branches = ["Muon_pt", "nJet", "Jet_eta", "MET_phi", "GenPart_pdgId"]
    small = list(ds.iter_events(None, branches, chunk_size=7))
    big = list(ds.iter_events(None, branches, chunk_size=10_000))
    assert len(small) == len(big) == 1000
    for a, b in zip(small, big, strict=True):
        assert (a.index, a.run, a.lumi, a.event) == (b.index, b.run, b.lumi, b.event)
        for branch in branches:
            np.testing.assert_array_equal(a.values[branch], b.values[branch])


def test_chunking_bounds_every_read(
    datasets: dict[str, Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = datasets[V5]
    spans: list[int] = []
    original = uproot.behaviors.TBranch.TBranch.array

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        spans.append(kwargs["entry_stop"] - kwargs["entry_start"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(uproot.behaviors.TBranch.TBranch, "array", spy)
    assert sum(1 for _ in ds.iter_events(None, ["Jet_pt"], chunk_size=7)) == 1000
    assert spans and max(spans) <= 7
    # A sparse selection reads a few small windows, not the entries in between.
    spans.clear()
    records = list(ds.iter_events([0, 500, 999], ["Jet_pt"], chunk_size=50))
    assert [r.entry for r in records] == [0, 500, 999]
    assert sum(spans) <= 3 * 50 * 4  # run, luminosityBlock, event, Jet_pt per window


def test_multiple_inputs_are_numbered_globally(shared_data: Path) -> None:
    a, b = (str(shared_data / "nanoaod" / n) for n in ("nano_dimuon.root", "nano_dy.root"))
    with Dataset([a, b]) as ds:
        assert ds.num_entries == 80
        assert ds.is_simulation  # any input simulated
        assert [i.first_entry for i in ds.inputs] == [0, 40]
        recs = list(ds.iter_events([39, 40, 79], ["Muon_pt"]))
        assert [(r.source, r.entry, r.index) for r in recs] == [
            (a, 39, 39),
            (b, 0, 40),
            (b, 39, 79),
        ]
        assert [r.is_simulation for r in recs] == [False, True, True]
        assert ds.locate(40) == (ds.inputs[1], 0)
        run, lumi, _event = ds.event_ids()
        assert run[0] == 315267 and run[40] == 1 and lumi is not None


def test_glob_expansion_is_sorted(shared_data: Path) -> None:
    with Dataset([str(shared_data / "nanoaod" / "nano_d*.root")]) as ds:
        assert [Path(i.path).name for i in ds.inputs] == ["nano_dimuon.root", "nano_dy.root"]


def test_urls_are_kept_as_given() -> None:
    url = "root://eospublic.cern.ch//eos/opendata/cms/x*.root"
    assert expand_inputs([url, "https://example.org/a.root"]) == [url, "https://example.org/a.root"]


def test_iter_events_rejects_bad_entries(datasets: dict[str, Dataset]) -> None:
    ds = datasets["nano_dy.root"]
    with pytest.raises(IndexError):
        list(ds.iter_events([40], ["Jet_pt"]))
    assert list(ds.iter_events([], ["Jet_pt"])) == []
    rec = next(iter(ds.iter_events([5], [])))
    assert isinstance(rec, EventRecord) and rec.values == {}


# -- bad inputs ---------------------------------------------------------------------------------


def _one_line_error(inputs: list[str]) -> str:
    with pytest.raises(InputError) as info:
        Dataset(inputs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_nonexistent_path(tmp_path: Path) -> None:
    assert "does not exist" in _one_line_error([str(tmp_path / "nope.root")])


def test_directory(tmp_path: Path) -> None:
    assert "is a directory" in _one_line_error([str(tmp_path)])


@pytest.mark.parametrize("command", ["render", "inspect", "figure", "gallery", "animate"])
def test_fifo_and_devices_are_refused_without_waiting(tmp_path: Path, command: str) -> None:
    """Opening a FIFO waits for a writer forever: every command refuses one (and a character
    device) at once, as the one-line error of a file that is not regular."""
    import os
    import subprocess
    import sys

    fifo = tmp_path / "events.root"
    os.mkfifo(fifo)
    for path, what in ((fifo, "is a FIFO"), (Path("/dev/zero"), "not a regular file")):
        done = subprocess.run(
            [sys.executable, "-m", "ispyrender", command, str(path)]
            + ([] if command == "inspect" else ["--out", str(tmp_path / "out")]),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        assert done.stderr.startswith("error:") and what in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "out").exists()


def test_text_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.root"
    text.write_text("hello, not ROOT\n")
    assert "not a ROOT file" in _one_line_error([str(text)])


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.root"
    empty.write_bytes(b"")
    assert "not a ROOT file" in _one_line_error([str(empty)])


def test_truncated_file(tmp_path: Path, shared_data: Path) -> None:
    data = (shared_data / "nanoaod" / "nano_dy.root").read_bytes()
    cut = tmp_path / "cut.root"
    cut.write_bytes(data[: len(data) // 2])
    assert "truncated" in _one_line_error([str(cut)])


def test_corrupt_file(tmp_path: Path, shared_data: Path) -> None:
    data = bytearray((shared_data / "nanoaod" / "nano_dy.root").read_bytes())
    # Keep the header (so the size check passes) but scramble everything after it.
    data[100:] = bytes(len(data) - 100)
    bad = tmp_path / "zeros.root"
    bad.write_bytes(bytes(data))
    message = _one_line_error([str(bad)])
    assert "zeros.root" in message and ("corrupt" in message or "cannot read" in message)


def test_no_events_tree(tmp_path: Path) -> None:
    path = tmp_path / "other.root"
    with uproot.recreate(path) as f:
        f.mktree("Other", {"x": np.float32})
        f["Other"].extend({"x": np.arange(3, dtype=np.float32)})
    message = _one_line_error([str(path)])
    assert "no 'Events' tree" in message and "'Other'" in message


def test_plain_ntuple(tmp_path: Path) -> None:
    path = tmp_path / "plain.root"
    with uproot.recreate(path) as f:
        f.mktree("Events", {"x": np.float64, "y": np.float64})
        f["Events"].extend({"x": np.zeros(4), "y": np.ones(4)})
    message = _one_line_error([str(path)])
    assert "not NanoAOD" in message and "x, y" in message


def test_glob_matching_nothing(tmp_path: Path) -> None:
    assert "matches no files" in _one_line_error([str(tmp_path / "*.root")])


def test_no_inputs() -> None:
    assert "no input files" in _one_line_error([])


def test_one_bad_input_among_good_ones(tmp_path: Path, shared_data: Path) -> None:
    good = str(shared_data / "nanoaod" / "nano_dy.root")
    message = _one_line_error([good, str(tmp_path / "missing.root")])
    assert "missing.root" in message
