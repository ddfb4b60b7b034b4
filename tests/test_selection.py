"""Parsing --events/--ids and resolving them against real datasets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ispyrender.errors import SelectionError
from ispyrender.selection.entries import parse_events, parse_ids, read_ids_file, resolve_selection
from ispyrender.sources.nanoaod import Dataset


@pytest.fixture(scope="module")
def dimuon(shared_data: Path) -> Iterator[Dataset]:
    with Dataset([str(shared_data / "nanoaod" / "nano_dimuon.root")]) as ds:
        yield ds


@pytest.fixture(scope="module")
def nolumi(shared_data: Path) -> Iterator[Dataset]:
    with Dataset([str(shared_data / "nanoaod" / "missing_luminosityBlock.root")]) as ds:
        yield ds


# -- parse_events -------------------------------------------------------------------------------


def test_parse_events_forms() -> None:
    assert parse_events("0,3,10:20") == [0, 3, slice(10, 20)]
    assert parse_events(" :5 , 10: ,-1") == [slice(None, 5), slice(10, None), -1]
    assert parse_events("0:10:2") == [slice(0, 10, 2)]


@pytest.mark.parametrize(
    ("text", "column"),
    [("0,x,3", 3), ("1:2:3:4", 1), ("0, 1.5", 4), ("0,,2", 3), ("5,a:b", 3)],
)
def test_parse_events_reports_the_column(text: str, column: int) -> None:
    with pytest.raises(SelectionError, match=f"column {column}"):
        parse_events(text)


def test_parse_events_rejects_empty_and_zero_step() -> None:
    with pytest.raises(SelectionError, match="empty"):
        parse_events("  ")
    with pytest.raises(SelectionError, match="zero step"):
        parse_events("0:10:0")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 10**6).map(str),
            st.tuples(st.integers(0, 999), st.integers(0, 999)).map(lambda t: f"{t[0]}:{t[1]}"),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_parse_events_roundtrip(tokens: list[str]) -> None:
    parsed = parse_events(",".join(tokens))
    assert len(parsed) == len(tokens)
    for token, item in zip(tokens, parsed, strict=True):
        if ":" in token:
            a, b = token.split(":")
            assert item == slice(int(a), int(b))
        else:
            assert item == int(token)


# -- parse_ids / read_ids_file ------------------------------------------------------------------


def test_parse_ids() -> None:
    assert parse_ids("1:2:3, 315267:9") == [(1, 2, 3), (315267, None, 9)]


@pytest.mark.parametrize("text", ["1", "1:2:3:4", "a:b", "1:-2:3", "1:2,,"])
def test_parse_ids_rejects(text: str) -> None:
    with pytest.raises(SelectionError, match="column") as info:
        parse_ids(text)
    assert "\n" not in str(info.value)


def test_read_ids_file(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text(
        "# wanted events\n1:2:3\n\n4:5:6, 7:8  # two on a line\n   \n9:10:11 12:13:14\n"
    )
    assert read_ids_file(path) == [(1, 2, 3), (4, 5, 6), (7, None, 8), (9, 10, 11), (12, 13, 14)]


def test_read_ids_file_errors(tmp_path: Path) -> None:
    with pytest.raises(SelectionError, match="does not exist"):
        read_ids_file(tmp_path / "none.txt")
    with pytest.raises(SelectionError, match="directory"):
        read_ids_file(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(SelectionError, match="no ids"):
        read_ids_file(empty)
    bad = tmp_path / "bad.txt"
    bad.write_text("1:2:3\n1:2:x\n")
    with pytest.raises(SelectionError, match="line 2"):
        read_ids_file(bad)


# -- resolve_selection --------------------------------------------------------------------------


def test_no_selection_is_everything(dimuon: Dataset) -> None:
    assert resolve_selection(dimuon) == list(range(40))
    assert resolve_selection(dimuon, max_events=5) == [0, 1, 2, 3, 4]


def test_events_are_sorted_and_unique(dimuon: Dataset) -> None:
    assert resolve_selection(dimuon, events="10:13,3,0,3,12") == [0, 3, 10, 11, 12]
    assert resolve_selection(dimuon, events="35:") == [35, 36, 37, 38, 39]
    assert resolve_selection(dimuon, events="-1,:2") == [0, 1, 39]
    assert resolve_selection(dimuon, events=[5, slice(0, 2)], max_events=2) == [0, 1]
    assert resolve_selection(dimuon, events="30:40") == list(range(30, 40))


def test_out_of_range(dimuon: Dataset) -> None:
    with pytest.raises(SelectionError, match=r"40, 100, 50:.*0 to 39"):
        resolve_selection(dimuon, events="1,40,100,50:60")
    # A range that runs past the end is not clipped to the events that exist: 10: says "to
    # the end".
    with pytest.raises(SelectionError, match=r"out of range: 30:100; valid entries are 0 to 39"):
        resolve_selection(dimuon, events="30:100")
    with pytest.raises(SelectionError, match=r"out of range: 39999:9000000000"):
        resolve_selection(dimuon, events="39999:9000000000")


def test_empty_result(dimuon: Dataset) -> None:
    with pytest.raises(SelectionError, match="matches no events"):
        resolve_selection(dimuon, events="5:5")


def test_bad_max_events(dimuon: Dataset) -> None:
    with pytest.raises(SelectionError, match="max-events"):
        resolve_selection(dimuon, max_events=0)


def test_ids_found(dimuon: Dataset) -> None:
    run, lumi, event = dimuon.event_ids()
    assert lumi is not None
    wanted = f"{run[7]}:{lumi[7]}:{event[7]},{run[2]}:{event[2]}"
    assert resolve_selection(dimuon, ids=wanted) == [2, 7]
    # ids and events combine as a union
    assert resolve_selection(dimuon, ids=[(int(run[7]), None, int(event[7]))], events="0") == [0, 7]


def test_ids_not_found_are_listed(dimuon: Dataset) -> None:
    run, lumi, event = dimuon.event_ids()
    assert lumi is not None
    missing = ",".join(f"1:{n}" for n in range(8))
    with pytest.raises(SelectionError) as info:
        resolve_selection(dimuon, ids=f"{run[0]}:{lumi[0]}:{event[0]},{missing}")
    message = str(info.value)
    assert "1:0, 1:1, 1:2, 1:3, 1:4 and 3 more" in message
    # A wrong lumi does not match.
    with pytest.raises(SelectionError, match="not found"):
        resolve_selection(dimuon, ids=f"{run[0]}:{int(lumi[0]) + 1}:{event[0]}")


def test_ids_without_lumi_in_file(nolumi: Dataset) -> None:
    run, lumi, event = nolumi.event_ids()
    assert lumi is None
    # The lumi part cannot be checked, so it is ignored rather than failing.
    assert resolve_selection(nolumi, ids=f"{run[1]}:99:{event[1]}") == [1]
