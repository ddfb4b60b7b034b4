"""Damaged input data, by class: bytes flipped in the compressed baskets and pages of NanoAOD
files (TTree and RNTuple; zlib, LZMA and zstd), and .ig files with bad CRCs, member
JSON of the wrong shape, nesting past any iSpy document, missing or renamed columns and
collections, values of the wrong type, truncated archives and zip bombs.

Every case ends in one line ``error: ...`` that names the file, with a non-zero exit code and
no partial files, or in a correct result; never a traceback, a hang or unbounded memory. With
``--keep-going``, an input whose event ids cannot be read is skipped (a failed input in the
manifest) and events whose data cannot be read are failed events; the rest are rendered.

The variants are generated here from the real files (deterministically: flips land in the
baskets of the branches the commands read). Most run in-process through every stage a command
takes (open, ids, --where, read and build the events, the scene, inspect), where anything but
an IspyError fails; a sample of each class runs as the real command line under a 3 GiB
address-space limit and a timeout, two at a time.
"""

from __future__ import annotations

import concurrent.futures
import copy
import json
import re
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uproot
from limited import limited_command
from PIL import Image

from ispyrender.config.loader import load_style
from ispyrender.errors import InputError, IspyError
from ispyrender.jobs.batch import open_inputs
from ispyrender.jobs.batch.worker import _raw_events
from ispyrender.jobs.inspect import inspect_source
from ispyrender.physics import EventBuilder
from ispyrender.physics.ispy import physics_event
from ispyrender.scene.event import build_scene
from ispyrender.selection import Selection
from ispyrender.sources import open_source
from ispyrender.sources.ispy import MAX_JSON_DEPTH, MAX_MEMBER_BYTES, _loads, parse_event
from ispyrender.sources.nanoaod import EVENT_ID_BRANCHES, UnreadableEntries

MEMORY_LIMIT = 3 << 30
TIMEOUT_S = 120
SMALL = ["--set", "canvas.width=160", "--set", "canvas.height=90"]
STYLE = load_style("publication", [])
FIX = "download or copy it again"

RNTUPLE = "cmsopendata2015_ttbar_19980_NANOAOD_RNTupleImporter_rntuple_v1-0-0-1.root"
#: NanoAOD files and how many flips each gets: zlib, LZMA, per-branch zlib, and an RNTuple.
NANO_FLIPS = {
    "nano_dimuon.root": 30,
    "EGamma_2022E_v13.root": 10,
    "NanoAODv5_sample.root": 8,
    RNTUPLE: 12,
}


# ---- running the stages -----------------------------------------------------------------------


def stages(path: Path, where: str | None = None, inspect: bool = True) -> str | None:
    """Every stage a command takes over ``path`` (render's, then inspect's): None when all
    went through, the one-line message otherwise. Anything but an IspyError propagates and
    fails the test."""
    try:
        with open_source([str(path)]) as source:
            source.ids()
            where_ok = where if source.supports_where else None
            entries = Selection(where=where_ok, max_events=5).resolve(source)
            builder = EventBuilder(source, STYLE)
            for physics in builder.events(entries):
                build_scene(physics, STYLE)
            if inspect:
                inspect_source(source)
    except IspyError as exc:
        message = str(exc)
        assert "\n" not in message
        if isinstance(exc, InputError):
            assert str(path) in message, message
        return message
    return None


def cli(args: list[Any]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*limited_command(MEMORY_LIMIT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def no_partial_files(out: Path) -> list[Path]:
    """The files in ``out`` (none of them temporary, every PNG complete)."""
    files = sorted(p for p in out.rglob("*") if p.is_file()) if out.exists() else []
    assert not [p for p in files if p.name.endswith((".tmp", ".irtmp"))], files
    for png in (p for p in files if p.suffix == ".png"):
        with Image.open(png) as im:
            im.load()
    return files


def assert_one_line_or_success(proc: subprocess.CompletedProcess[str], damaged: Path) -> bool:
    """True when the command succeeded; otherwise it must have said one line naming the file."""
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    if proc.returncode == 0:
        return True
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert str(damaged) in lines[0] and FIX in lines[0], lines[0]
    return False


# ---- NanoAOD: flipped bytes -------------------------------------------------------------------


def read_branches(path: Path) -> set[str]:
    """What the stages read: the ids, the style's branches, and the collection counters."""
    with open_source([str(path)]) as source:
        wanted = set(EventBuilder(source, STYLE).branches) | set(EVENT_ID_BRANCHES)
        wanted |= {b for b in source.available_branches() if b[:1] == "n" and b[1:2].isupper()}
    return wanted


def flip_offsets(path: Path, count: int) -> list[int]:
    """``count`` offsets spread over the baskets (TTree) or pages (RNTuple) of the branches
    read: a basket's key header for every fifth one, its compressed data for the others; and
    a few over the whole file (directory, streamers, tree metadata)."""
    size = path.stat().st_size
    spread = [size * (2 * k + 1) // 8 for k in range(4)]
    tree = uproot.open(path)["Events"]
    wanted = read_branches(path)
    if hasattr(tree, "branches"):
        present = set(tree.keys())
        baskets: list[tuple[int, int]] = []
        for name in sorted(wanted & present):
            branch = tree[name]
            n = branch.num_baskets
            seeks, sizes = branch.member("fBasketSeek")[:n], branch.member("fBasketBytes")[:n]
            baskets += [(int(s), int(b)) for s, b in zip(seeks, sizes, strict=True) if s > 0]
        headers = 30
    else:
        baskets = rntuple_pages(tree, wanted)
        headers = 0
    baskets.sort()
    picked = [baskets[i * len(baskets) // count] for i in range(min(count, len(baskets)))]
    offsets = [
        seek + 7 * k % headers
        if headers and k % 5 == 0
        else seek + headers + (7919 * k) % max(1, nbytes - headers)
        for k, (seek, nbytes) in enumerate(picked)
    ]
    return sorted(set(offsets + spread))


def rntuple_pages(rntuple: Any, wanted: set[str]) -> list[tuple[int, int]]:
    """(offset, size) of the pages of the fields in ``wanted``: by the name of the column's
    field or of the top-level field above it (imported NanoAOD keeps Muon_pt's data in a
    "Muon_pt" field of a "_collectionNN" record; the flat "Muon_pt" projects onto it)."""
    fields = rntuple.field_records

    def names(field: int) -> set[str]:
        found = {str(fields[field].field_name)}
        while fields[field].parent_field_id != field:
            field = fields[field].parent_field_id
        return found | {str(fields[field].field_name)}

    pages = []
    for cluster in rntuple.page_link_list:
        for column in rntuple.column_records:
            if names(column.field_id) & wanted:
                links = cluster[column.idx].pages
                pages += [(int(p.locator.offset), int(p.locator.num_bytes)) for p in links]
    return pages


def flipped(src: Path, offset: int, folder: Path) -> Path:
    data = bytearray(src.read_bytes())
    data[offset] ^= 0xFF
    out = folder / f"{src.stem}_at_{offset}{src.suffix}"
    out.write_bytes(data)
    return out


@pytest.mark.parametrize("name", list(NANO_FLIPS))
def test_flipped_bytes_in_nanoaod(shared_data: Path, tmp_path: Path, name: str) -> None:
    src = shared_data / "nanoaod" / name
    offsets = flip_offsets(src, NANO_FLIPS[name])
    said: dict[int, str | None] = {}
    for offset in offsets:
        damaged = flipped(src, offset, tmp_path)
        said[offset] = stages(damaged, where="nMuon >= 0")
        damaged.unlink()
    damaged_said = [m for m in said.values() if m and FIX in m]
    # The flips land in what is read: a good share must be noticed (else this tests nothing).
    assert len(damaged_said) >= len(offsets) // 4, said
    for message in damaged_said:
        assert "Traceback" not in message and len(message) < 600


def test_the_message_names_file_branch_and_entries(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "nanoaod" / "nano_dimuon.root"
    branch = uproot.open(src)["Events"]["Muon_pt"]
    seek, nbytes = int(branch.member("fBasketSeek")[0]), int(branch.member("fBasketBytes")[0])
    damaged = flipped(src, seek + nbytes - 6, tmp_path)
    with open_source([str(damaged)]) as source, pytest.raises(UnreadableEntries) as caught:
        list(source.read(range(40), ["Muon_pt"]))
    message = str(caught.value)
    assert f"ROOT file {str(damaged)!r} is damaged: branch 'Muon_pt' of entries 0 to 39" in message
    assert message.endswith(FIX)
    assert caught.value.entries == range(0, 40)


# ---- NanoAOD: --keep-going ----------------------------------------------------------------------


def damaged_basket(src: Path, branch: str, basket: int, folder: Path) -> Path:
    """``src`` with a byte flipped near the end of one basket's compressed data."""
    b = uproot.open(src)["Events"][branch]
    seek, nbytes = int(b.member("fBasketSeek")[basket]), int(b.member("fBasketBytes")[basket])
    return flipped(src, seek + nbytes - 6, folder)


def test_keep_going_skips_an_input_whose_ids_cannot_be_read(
    shared_data: Path, tmp_path: Path
) -> None:
    bad = damaged_basket(shared_data / "nanoaod" / "nano_dimuon.root", "run", 0, tmp_path)
    good = shared_data / "nanoaod" / "nano_dy.root"
    warnings: list[str] = []
    source, broken = open_inputs([str(bad), str(good)], warnings.append)
    with source:
        assert source.paths == (str(good),)
        assert len(source.ids().run) == 40
    assert [b["input"] for b in broken] == [str(bad)]
    assert "branch 'run'" in broken[0]["error"] and FIX in broken[0]["error"]
    assert len(warnings) == 1 and str(bad) in warnings[0]
    # Alone, the error itself.
    with pytest.raises(InputError, match="branch 'run' of entries 0 to 39"):
        open_inputs([str(bad)])


def test_a_damaged_basket_fails_only_its_events(shared_data: Path, tmp_path: Path) -> None:
    # PFCands_pt of pfnano.root has three baskets: entries 0-3, 4-7 and 8-9.
    bad = damaged_basket(shared_data / "nanoaod" / "pfnano.root", "PFCands_pt", 1, tmp_path)
    with open_source([str(bad)]) as source:
        branches = EventBuilder(source, STYLE).branches
        got = list(_raw_events(source, list(range(10)), branches))
    assert [idx for idx, _ in got] == list(range(10))
    failed = [idx for idx, raw in got if isinstance(raw, Exception)]
    assert failed == [4, 5, 6, 7]
    assert all("branch 'PFCands_pt'" in str(raw) for idx, raw in got if idx in failed)


# ---- iSpy: generated variants -------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_doc(shared_data: Path) -> dict[str, Any]:
    """The event of the real .ig file with the most kinds of objects, every collection cut to
    its first 40 rows (and the associations to those rows), so that variants are quick."""
    rows = 40
    best: tuple[int, dict[str, Any]] | None = None
    with zipfile.ZipFile(shared_data / "ig" / "Hto4l_120-130GeV.ig") as archive:
        for name in archive.namelist():
            if not name.startswith("Events/"):
                continue
            doc = _loads(archive.read(name).decode())
            doc["Collections"] = {k: v[:rows] for k, v in doc["Collections"].items()}
            doc["Associations"] = {
                k: [a for a in v if a[0][1] < rows and a[1][1] < rows]
                for k, v in doc["Associations"].items()
            }
            kinds = len(ig_counts(doc))
            if best is None or kinds > best[0]:
                best = (kinds, doc)
    assert best is not None and best[0] >= 9
    return best[1]


def ig_counts(doc: dict[str, Any]) -> dict[str, int]:
    return physics_event(parse_event(json.dumps(doc)), STYLE).counts


def write_ig(path: Path, *members: bytes | str, method: int = zipfile.ZIP_DEFLATED) -> Path:
    """An .ig file with ``members`` as its events (Events/Run_1/Event_2, _3, ...)."""
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("Header", '"CMSSW_5_3_36"')
        for i, member in enumerate(members):
            archive.writestr(f"Events/Run_1/Event_{i + 2}", member)
    return path


#: The collections and columns the drawing reads (others are never looked at).
USED = {
    "Event_V2": None,
    "GlobalMuons_V1": None,
    "GsfElectrons_V2": None,
    "Tracks_V3": None,
    "Extras_V1": None,
    "Points_V1": None,
    "Photons_V1": ("energy", "et", "eta", "phi"),
    "PFJets_V1": None,
    "PFMETs_V1": None,
    "Vertices_V1": None,
    "EBRecHits_V2": None,
    "HBRecHits_V2": None,
    "MuonChambers_V1": None,
}
#: Values of the wrong type or out of any range: text, null, a list of the wrong length, an
#: object, infinity, a number past 64 bits.
WRONG_VALUES: tuple[Any, ...] = ("abc", None, [1.0, 2.0], {"x": 1}, float("inf"), -(2**70))


def variants(doc: dict[str, Any]) -> Iterator[tuple[str, str | bytes]]:
    """(name, member text) for every generated way the event document can be wrong."""
    # The document itself: not an object, sections of the wrong type, rows that are not rows.
    for name, text in {
        "list": "[]",
        "null": "null",
        "string": '"event"',
        "number": "42",
        "empty": "{}",
        "not-json": '{"Types": {',
        "not-utf8": b"\xff\xfe{\x00",
        # iSpy writes bare nan tokens: here for every decimal number.
        "nan-everywhere": re.sub(r"(?<=[\[ ])-?\d+\.\d+(e-?\d+)?", "nan", json.dumps(doc)),
    }.items():
        yield name, text
    for section in ("Types", "Collections", "Associations"):
        for value in ([], "x", 5, None):
            broken = copy.copy(doc)
            broken[section] = value
            yield f"{section}-is-{type(value).__name__}", json.dumps(broken)
    for name, value in {
        "collection-not-list": 5,
        "rows-not-lists": [5, "x"],
        "row-is-object": [{"pt": 1}],
    }.items():
        broken = copy.deepcopy(doc)
        broken["Collections"]["Tracks_V3"] = value
        yield name, json.dumps(broken)
    for name, value in {
        "types-not-pairs": [[1, "double"]],
        "types-string": "pt",
        "types-empty-pairs": [[]],
    }.items():
        broken = copy.deepcopy(doc)
        broken["Types"]["Tracks_V3"] = value
        yield name, json.dumps(broken)
    for name, value in {
        "links-flat": [[1, 2]],
        "links-text": [[["a", "b"], [0, "x"]]],
        "links-huge": [[[10, 2**70], [12, 0]]],
        "links-negative": [[[10, -1], [12, -3]]],
        "links-past-the-rows": [[[10, 0], [12, 10**6]]],
        "links-null": None,
    }.items():
        for association in ("TrackExtras_V1", "MuonGlobalPoints_V1", "GsfElectronExtras_V1"):
            broken = copy.deepcopy(doc)
            broken["Associations"][association] = value
            yield f"{association}-{name}", json.dumps(broken)
    # Nesting past any iSpy document (iSpy's is 5 deep).
    yield "deep-array", "[" * 100_000 + "]" * 100_000
    yield "deep-object", '{"a":' * 50_000 + "1" + "}" * 50_000
    just_past = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    yield "deep-in-types", json.dumps(doc).replace('"Types": {', f'"Types": {{"Deep": {just_past},')
    deep_rows = copy.deepcopy(doc)
    deep_rows["Collections"]["Tracks_V3"][0][0] = json.loads("[" * 900 + "]" * 900)
    yield "deep-in-a-row", json.dumps(deep_rows)
    # Collections and columns missing or renamed, rows cut short or too long.
    for collection in USED:
        for change in ("drop", "rename", "drop-types", "short-rows", "long-rows"):
            broken = copy.deepcopy(doc)
            if change == "drop":
                del broken["Collections"][collection]
            elif change == "rename":
                broken["Collections"]["X" + collection] = broken["Collections"].pop(collection)
            elif change == "drop-types":
                del broken["Types"][collection]
            elif change == "short-rows":
                broken["Collections"][collection] = [
                    r[: len(r) // 2] for r in doc["Collections"][collection]
                ]
            else:
                broken["Collections"][collection] = [
                    [*r, 1, "x"] for r in doc["Collections"][collection]
                ]
            yield f"{collection}-{change}", json.dumps(broken)
        for i, (column, _) in enumerate(doc["Types"][collection]):
            wanted = USED[collection]
            if wanted is not None and column not in wanted:
                continue
            renamed = copy.deepcopy(doc)
            renamed["Types"][collection][i][0] = column + "_renamed"
            yield f"{collection}.{column}-renamed", json.dumps(renamed)
            # Wrong types: in every row of the collection.
            for value in WRONG_VALUES:
                broken = copy.deepcopy(doc)
                for row in broken["Collections"][collection]:
                    if i < len(row):
                        row[i] = value
                yield f"{collection}.{column}={value!r}", json.dumps(broken)


def test_every_ig_variant_is_drawn_or_refused_in_one_line(
    base_doc: dict[str, Any], tmp_path: Path
) -> None:
    assert stages(write_ig(tmp_path / "base.ig", json.dumps(base_doc))) is None
    outcomes: dict[str, str | None] = {}
    for name, text in variants(base_doc):
        path = write_ig(tmp_path / "variant.ig", text)
        outcomes[name] = stages(path)
    refused = {k: v for k, v in outcomes.items() if v is not None}
    # Every refusal says what to do; the classes that cannot be drawn are refused.
    assert all(FIX in m for m in refused.values()), refused
    for must in (
        "list",
        "null",
        "not-json",
        "deep-array",
        "deep-object",
        "deep-in-types",
        "deep-in-a-row",
        "Types-is-list",
        "rows-not-lists",
        "types-not-pairs",
        "TrackExtras_V1-links-text",
        "Event_V2.run='abc'",
        "Event_V2.event=-1180591620717411303424",
        "Extras_V1.pos_1='abc'",
        "Extras_V1.pos_1=[1.0, 2.0]",
        "EBRecHits_V2.front_1=[1.0, 2.0]",
        "MuonChambers_V1.back_4=None",
        "Vertices_V1.pos=[1.0, 2.0]",
        "PFMETs_V1.pt='abc'",
        "Extras_V1.pos_1-renamed",
    ):
        assert must in refused, (must, outcomes.get(must))
    assert "nested" in refused["deep-array"]
    # Values that are only odd (infinite, unused columns, links to rows that do not exist)
    # are drawn without them.
    for fine in (
        "Tracks_V3.pt=inf",
        "Photons_V1.eta=inf",
        "TrackExtras_V1-links-past-the-rows",
        "TrackExtras_V1-links-negative",
        "Tracks_V3-drop",
        "Tracks_V3-rename",
    ):
        assert outcomes[fine] is None, (fine, outcomes[fine])


def ig_file(tmp_path: Path, base_doc: dict[str, Any]) -> Path:
    return write_ig(tmp_path / "small.ig", json.dumps(base_doc))


def member_data_span(path: Path, name: str) -> tuple[int, int]:
    """Where the compressed data of member ``name`` lies in the file."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    with path.open("rb") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = (int.from_bytes(fh.read(2), "little") for _ in range(2))
    start = info.header_offset + 30 + name_len + extra_len
    return start, start + info.compress_size


def test_damaged_ig_archives(base_doc: dict[str, Any], tmp_path: Path) -> None:
    good = ig_file(tmp_path, base_doc)
    data = good.read_bytes()
    start, stop = member_data_span(good, "Events/Run_1/Event_2")
    outcomes: dict[str, str | None] = {}
    # A bad CRC or bad deflate data: bytes flipped inside the member's compressed data.
    for k in range(12):
        offset = start + (stop - start) * (2 * k + 1) // 24
        path = flipped(good, offset, tmp_path)
        outcomes[f"member-flip-{offset}"] = stages(path)
    # Anywhere: local headers, the directory, its end record.
    for k in range(30):
        offset = len(data) * (2 * k + 1) // 60
        path = flipped(good, offset, tmp_path)
        outcomes[f"file-flip-{offset}"] = stages(path)
    for offset in range(len(data) - 22, len(data)):  # the end-of-directory record, each byte
        outcomes[f"end-flip-{offset}"] = stages(flipped(good, offset, tmp_path))
    # Cut short anywhere.
    for k in range(16):
        length = len(data) * k // 16 + 40
        path = tmp_path / f"cut_{length}.ig"
        path.write_bytes(data[:length])
        try:
            outcomes[f"cut-{length}"] = stages(path)
        except IspyError as exc:  # not even recognised as a zip
            outcomes[f"cut-{length}"] = str(exc)
    # Compression iSpy does not write (and zipfile inflates without a bound): refused.
    bzip2 = write_ig(tmp_path / "bz2.ig", json.dumps(base_doc), method=zipfile.ZIP_BZIP2)
    outcomes["bzip2"] = stages(bzip2)
    for name, said in outcomes.items():
        if said is not None:
            assert FIX in said or "not an iSpy" in said or "not a ROOT" in said, (name, said)
    member_flips = [v for k, v in outcomes.items() if k.startswith("member-flip")]
    assert all(v is not None for v in member_flips), outcomes  # CRC-32 catches every one
    assert outcomes["bzip2"] is not None and "method 12" in outcomes["bzip2"]
    assert all(v is not None for k, v in outcomes.items() if k.startswith("cut-"))


def test_a_damaged_ig_event_fails_alone(base_doc: dict[str, Any], tmp_path: Path) -> None:
    text = json.dumps(base_doc)
    # The header (ids) of the middle event reads; the rest of it is cut short.
    path = write_ig(tmp_path / "three.ig", text, text[: len(text) * 9 // 10], text)
    with open_source([str(path)]) as source:
        assert len(source.ids().event) == 3
        got = list(_raw_events(source, [0, 1, 2], ()))
    assert [idx for idx, _ in got] == [0, 1, 2]
    assert [isinstance(raw, InputError) for _, raw in got] == [False, True, False]
    assert "Event_3" in str(got[1][1]) and FIX in str(got[1][1])


def test_an_ig_event_with_a_bad_crc_fails_alone(base_doc: dict[str, Any], tmp_path: Path) -> None:
    """A flipped byte in one member's compressed data (its ids cannot be read at all): that
    event is named from its member and fails alone; the others are read."""
    text = json.dumps(base_doc)
    path = write_ig(tmp_path / "three.ig", text, text, text, method=zipfile.ZIP_STORED)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("Events/Run_1/Event_3")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with open_source([str(path)]) as source:
        ids = source.ids()
        # The damaged one is named by its member: run 1, event 3 (and lumi 0).
        assert len(ids.event) == 3 and (ids.run[1], ids.event[1]) == (1, 3)
        got = list(_raw_events(source, [0, 1, 2], ()))
    assert [isinstance(raw, InputError) for _, raw in got] == [False, True, False]


# ---- the command line ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    #: (files folder, work folder) -> (arguments, the damaged file)
    args: Callable[[Path, Path], tuple[list[Any], Path]]
    #: "error": one line naming the file; "either": that or exit 0 and complete files
    expect: str = "error"
    #: what the error line must say besides the file's name
    says: str = ""


def make_fixtures(shared: Path, files: Path, base_doc: dict[str, Any]) -> None:
    """The damaged files the command-line cases read."""
    nano = shared / "nanoaod"
    for name, branch, basket in (
        ("nano_dimuon.root", "run", 0),
        ("nano_dimuon.root", "Muon_pt", 0),
        ("nano_dimuon.root", "nMuon", 0),
        ("EGamma_2022E_v13.root", "Electron_pt", 0),
        ("pfnano.root", "PFCands_pt", 1),
    ):
        made = damaged_basket(nano / name, branch, basket, files)
        made.rename(files / f"{Path(name).stem}_{branch}_{basket}.root")
    # An RNTuple page that render reads: the first flip that its reading notices.
    for offset in flip_offsets(nano / RNTUPLE, NANO_FLIPS[RNTUPLE]):
        candidate = flipped(nano / RNTUPLE, offset, files)
        said = stages(candidate, inspect=False)
        if said is not None and "is damaged: branch" in said:
            candidate.rename(files / "rntuple.root")
            break
        candidate.unlink()
    assert (files / "rntuple.root").exists()
    good = write_ig(files / "good.ig", json.dumps(base_doc))
    start, stop = member_data_span(good, "Events/Run_1/Event_2")
    flipped(good, (start + stop) // 2, files).rename(files / "bad_crc.ig")
    write_ig(files / "list.ig", "[]")
    write_ig(files / "deep.ig", "[" * 100_000 + "]" * 100_000)
    wrong = copy.deepcopy(base_doc)
    for row in wrong["Collections"]["Extras_V1"]:
        row[0] = "abc"
    write_ig(files / "wrong_type.ig", json.dumps(wrong))
    (files / "cut.ig").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    zip_bomb(files / "bomb.ig")
    lying = bytearray((files / "bomb.ig").read_bytes())
    # The central directory's size of the event member, 1 GiB, said to be 1000 bytes.
    at = lying.rindex(b"PK\x01\x02")
    assert int.from_bytes(lying[at + 24 : at + 28], "little") == 1 << 30
    lying[at + 24 : at + 28] = (1000).to_bytes(4, "little")
    (files / "bomb_lying.ig").write_bytes(lying)


def zip_bomb(path: Path) -> None:
    """An .ig of about 1 MB whose event member inflates to 1 GiB of zeros."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("Header", '"CMSSW_5_3_36"')
        info = zipfile.ZipInfo("Events/Run_1/Event_2")
        info.compress_type = zipfile.ZIP_DEFLATED
        block = bytes(1 << 24)
        with archive.open(info, "w", force_zip64=True) as member:
            for _ in range(64):
                member.write(block)
    assert path.stat().st_size < 2 << 20


def _render(damaged: str, *extra: Any) -> Callable[[Path, Path], tuple[list[Any], Path]]:
    def args(files: Path, work: Path) -> tuple[list[Any], Path]:
        src = files / damaged
        return ["render", src, "--out", work / "out", "--quiet", *SMALL, *extra], src

    return args


def _command(
    command: str, damaged: str, *extra: Any
) -> Callable[[Path, Path], tuple[list[Any], Path]]:
    def args(files: Path, work: Path) -> tuple[list[Any], Path]:
        src = files / damaged
        out = [] if command == "inspect" else ["--out", work / "out", "--quiet"]
        return [command, src, *out, *extra], src

    return args


MB = f"{MAX_MEMBER_BYTES >> 20} MB"
CASES = [
    Case("render-run-basket", _render("nano_dimuon_run_0.root", "-n", "3"), says="'run'"),
    Case("render-muon-basket", _render("nano_dimuon_Muon_pt_0.root", "-n", "3"), says="Muon_pt"),
    Case("where-on-counter", _render("nano_dimuon_nMuon_0.root", "--where", "nMuon>=2")),
    Case("where-then-muons", _render("nano_dimuon_Muon_pt_0.root", "--where", "nMuon>=2")),
    Case("inspect-counter", _command("inspect", "nano_dimuon_nMuon_0.root"), says="nMuon"),
    Case("inspect-ids", _command("inspect", "nano_dimuon_run_0.root"), says="'run'"),
    Case(
        "figure-lzma",
        _command("figure", "EGamma_2022E_v13_Electron_pt_0.root", "-n", "1", "--scale", "0.2"),
        says="Electron_pt",
    ),
    Case("render-rntuple", _render("rntuple.root"), says="branch"),
    Case("inspect-rntuple", _command("inspect", "rntuple.root"), "either"),
    Case("ig-bad-crc", _render("bad_crc.ig"), says="CRC"),
    Case("ig-list", _render("list.ig"), says="the document is a list"),
    Case("ig-deep", _command("inspect", "deep.ig"), says="nested"),
    Case("ig-wrong-type", _render("wrong_type.ig"), says="Extras"),
    Case("ig-cut", _command("inspect", "cut.ig"), says="truncated"),
    Case("ig-bomb-render", _render("bomb.ig"), says=MB),
    Case("ig-bomb-inspect", _command("inspect", "bomb.ig"), says=MB),
    Case("ig-bomb-lying", _render("bomb_lying.ig"), says="CRC"),
]


@pytest.fixture(scope="module")
def files(
    shared_data: Path, base_doc: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    folder = tmp_path_factory.mktemp("damaged")
    make_fixtures(shared_data, folder, base_doc)
    return folder


@pytest.fixture(scope="module")
def runs(
    files: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[subprocess.CompletedProcess[str], Path, Path]]:
    """Every case as a real process, two at a time (the machine has two cores)."""
    root = tmp_path_factory.mktemp("damaged-runs")

    def one(case: Case) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
        work = root / case.name
        work.mkdir()
        args, damaged = case.args(files, work)
        return cli(args), work, damaged

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([c.name for c in CASES], pool.map(one, CASES), strict=True))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_command_line(case: Case, runs: dict[str, Any]) -> None:
    proc, work, damaged = runs[case.name]
    succeeded = assert_one_line_or_success(proc, damaged)
    written = no_partial_files(work / "out")
    if case.expect == "error":
        assert not succeeded
        assert case.says in proc.stderr, proc.stderr
    if not succeeded:
        assert not written, written  # the read fails before the first picture


def test_keep_going_renders_what_can_be_read(
    shared_data: Path, files: Path, tmp_path: Path
) -> None:
    # Inputs are drawn from the branches they all have: the good one is pfnano.root too.
    good = shared_data / "nanoaod" / "pfnano.root"
    bad_ids = files / "nano_dimuon_run_0.root"
    bad_basket = files / "pfnano_PFCands_pt_1.root"
    results = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        args = ["render", bad_ids, bad_basket, good, "--out", out, "--keep-going", "-j", jobs]
        name = ["--set", "output.name_template={run}_{lumi}_{event}_{index}.png"]
        results[jobs] = (cli([*args, *SMALL, *name, "--events", "0:13"]), out)
    for proc, out in results.values():
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert (
            lines[0].startswith("warning: skipping unreadable input") and str(bad_ids) in lines[0]
        )
        assert lines[-1].startswith("error: 4 of 13 events failed")
        manifest = json.loads((out / "manifest.json").read_text())
        assert [f["input"] for f in manifest["failed_inputs"]] == [str(bad_ids)]
        events = manifest["events"]
        failed = [(e["input"], e["entry"]) for e in events if e.get("error")]
        assert failed == [(str(bad_basket), entry) for entry in (4, 5, 6, 7)]
        assert all("branch 'PFCands_pt'" in e["error"] for e in events if e.get("error"))
        pngs = [p for p in no_partial_files(out) if p.suffix == ".png"]
        assert len(pngs) == 9  # 6 of the damaged file, 3 of the good one
