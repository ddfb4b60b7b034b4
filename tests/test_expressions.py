"""The --where language: parsing, errors, vectorised evaluation against a per-event oracle."""

from __future__ import annotations

import ast
import math
import operator
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ispyrender.errors import SelectionError
from ispyrender.selection.entries import resolve_selection
from ispyrender.selection.where import (
    Expr,
    branches_to_read,
    check_branches,
    evaluate,
    list_selections,
    load_selection,
    parse_where,
    select_where,
)
from ispyrender.sources.nanoaod import Column, Dataset

NAN = float("nan")

# -- helpers ------------------------------------------------------------------------------------


def jagged(lists: list[list[Any]], dtype: Any) -> Column:
    counts = np.array([len(x) for x in lists], dtype=np.int64)
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    content = np.array([v for x in lists for v in x], dtype=dtype)
    return Column(content, offsets)


def scalar(values: list[Any], dtype: Any) -> Column:
    return Column(np.array(values, dtype=dtype), None)


# Three events: two muons, none, three; no nJet counter (counted from Jet_pt).
COLUMNS: dict[str, Column] = {
    "nMuon": scalar([2, 0, 3], np.uint32),
    "Muon_pt": jagged([[40.0, 15.0], [], [25.0, 22.0, 5.0]], np.float32),
    "Muon_eta": jagged([[0.5, -2.6], [], [-1.0, 2.0, NAN]], np.float32),
    "Muon_tightId": jagged([[True, False], [], [False, True, True]], np.bool_),
    "Jet_pt": jagged([[50.0], [35.0, 31.0, 30.5, 30.1], []], np.float32),
    "Jet_nConst": jagged([[200], [10, 20, 30, 255], []], np.uint8),
    "MET_pt": scalar([10.0, 150.0, NAN], np.float32),
    "PV_npvs": scalar([-30000, 5, 32767], np.int16),
    "HLT_IsoMu24": scalar([True, False, True], np.bool_),
}


def passes(text: str, columns: dict[str, Column] | None = None) -> list[bool]:
    cols = COLUMNS if columns is None else columns
    n = len(next(iter(cols.values()))) if cols else 3
    return evaluate(parse_where(text), cols, n).tolist()


# -- precedence and operators -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1 + 2 * 3 == 7",
        "(1 + 2) * 3 == 9",
        "10 - 4 - 3 == 3",
        "8 / 4 / 2 == 1",
        "-2 ** 2 == -4",
        "2 ** 3 ** 2 == 512",
        "2 ** -1 == 0.5",
        "- - 3 == 3",
        "+3 == 3",
        "7 / 2 == 3.5",
        "1e3 == 1000 and .5 == 0.5 and 2.5e-1 == 0.25",
        "not 1 > 2 and 3 > 2",
        "1 > 2 and 3 > 2 or 1 < 2",
        "not (1 > 2 and (3 > 2 or 1 < 2))",
        "1 < 2 < 3 and 3 > 2 >= 2 and not 1 < 3 < 2",
        "1 < 2 && !(2 < 1) || 1 > 2",
        "abs(-3) == 3 and abs(2 - 5) * 2 == 6",
        "max(1, 5, 3) == 5 and min(4, 2) == 2",
        "not not 1 < 2",
    ],
)
def test_constant_expressions_are_true(text: str) -> None:
    assert passes(text) == [True, True, True]


@pytest.mark.parametrize(
    "text", ["1 > 2 and 3 > 2 or 1 > 2", "not 1 < 2", "1 < 3 < 2", "2 ** 3 ** 2 == 64"]
)
def test_constant_expressions_are_false(text: str) -> None:
    assert passes(text) == [False, False, False]


def test_precedence_builds_the_expected_tree() -> None:
    root = parse_where("not a > 1 and b < 2 or c == 3").root
    assert type(root).__name__ == "Logical" and root.op == "or"  # type: ignore[attr-defined]
    conjunction = root.operands[0]  # type: ignore[attr-defined]
    assert conjunction.op == "and"
    assert type(conjunction.operands[0]).__name__ == "Unary"
    # long conjunctions stay flat (no deep trees)
    flat = parse_where(" and ".join(f"x{i} > {i}" for i in range(300))).root
    assert len(flat.operands) == 300  # type: ignore[attr-defined]


# -- branches, indexing, counts -----------------------------------------------------------------


def test_indexing_and_missing_objects() -> None:
    assert passes("Muon_pt[0] > 20") == [True, False, True]
    assert passes("Muon_pt[1] > 20") == [False, False, True]
    assert passes("Muon_pt[-1] < 10") == [False, False, True]
    assert passes("Muon_pt[-2] == 40") == [True, False, False]
    # a missing object makes the comparison false, whichever way it is written
    assert passes("Muon_pt[2] > 1") == [False, False, True]
    assert passes("Muon_pt[2] <= 1") == [False, False, False]
    assert passes("Muon_pt[2] != 1") == [False, False, True]
    assert passes("not (Muon_pt[2] > 1)") == [True, True, False]
    assert passes("Muon_pt[7] > 0 or MET_pt > 100") == [False, True, False]
    assert passes("Muon_pt[-4] > 0") == [False, False, False]
    # missing stays missing through arithmetic
    assert passes("Muon_pt[1] - Muon_pt[0] < 0") == [True, False, True]
    assert passes("abs(Muon_pt[1] * 0) == 0") == [True, False, True]


def test_counts_from_counter_len_and_offsets() -> None:
    assert passes("nMuon >= 2") == [True, False, True]
    assert passes("len(Muon_pt) == nMuon") == [True, True, True]
    # no nJet branch: counted from Jet_pt's offsets
    assert passes("nJet >= 4 and Jet_pt[3] > 30") == [False, True, False]
    assert passes("nJet == len(Jet_nConst)") == [True, True, True]
    expr = parse_where("nJet > 1 and nMuon > 0")
    assert expr.branches() == {"nJet", "nMuon"}
    assert branches_to_read(expr, set(COLUMNS)) == {"Jet_pt", "nMuon"}
    # without Coll_pt, another branch of the collection gives the counts
    assert branches_to_read(parse_where("nJet > 1"), {"Jet_nConst"}) == {"Jet_nConst"}


def test_branches_lists_every_name_read() -> None:
    expr = parse_where("nMuon >= 2 and abs(Muon_eta[1]) < 2.4 or any(Jet_pt > MET_pt)")
    assert expr.branches() == {"nMuon", "Muon_eta", "Jet_pt", "MET_pt"}
    assert parse_where("len(Muon_pt) > 1").branches() == {"Muon_pt"}
    assert parse_where("1 < 2").branches() == set()


def test_abs_and_arithmetic() -> None:
    assert passes("abs(Muon_eta[1]) > 2.5") == [True, False, False]
    assert passes("Muon_pt[0] + Muon_pt[1] > 50") == [True, False, False]
    assert passes("Muon_pt[0] / Muon_pt[1] > 1") == [True, False, True]
    assert passes("Muon_pt[0] ** 2 == 1600") == [True, False, False]
    assert passes("-Muon_pt[0] < -30") == [True, False, False]
    assert passes("MET_pt / 0 > 1e300") == [True, True, False]  # inf, inf, nan


def test_nan_compares_false_even_with_not_equal() -> None:
    assert passes("MET_pt > 0") == [True, True, False]
    assert passes("MET_pt != 12345") == [True, True, False]
    assert passes("MET_pt == MET_pt") == [True, True, False]
    assert passes("not (MET_pt > 0)") == [False, False, True]
    assert passes("Muon_eta[2] < 10 or Muon_eta[2] >= 10") == [False, False, False]
    assert passes("max(Muon_eta) > -10") == [True, False, False]  # NaN propagates through max


def test_small_integer_types_do_not_wrap() -> None:
    assert passes("Jet_nConst[0] + 100 > 255") == [True, False, False]
    assert passes("Jet_nConst[0] - 250 < 0") == [True, True, False]
    assert passes("Jet_nConst[-1] == 255") == [False, True, False]
    assert passes("PV_npvs - 10000 < -32768") == [True, False, False]
    assert passes("PV_npvs * 2 == 65534") == [False, False, True]
    assert passes("nMuon - 3 < 0") == [True, True, False]  # uint32 minus
    assert passes("PV_npvs / 2 == 2.5") == [False, True, False]


def test_boolean_branches_are_conditions() -> None:
    assert passes("HLT_IsoMu24") == [True, False, True]
    assert passes("HLT_IsoMu24 and Muon_tightId[0]") == [True, False, False]
    assert passes("not Muon_tightId[1]") == [True, True, False]  # missing -> false -> not
    assert passes("Muon_tightId[0] == 1 or Muon_tightId[2] == 1") == [True, False, True]
    assert passes("sum(Muon_tightId) == 2") == [False, False, True]


def test_reductions_over_collections() -> None:
    assert passes("any(Muon_pt > 30)") == [True, False, False]
    assert passes("all(Muon_pt > 10)") == [True, True, False]  # all() of nothing is true
    assert passes("any(Muon_pt > 20 and abs(Muon_eta) < 2.4)") == [True, False, True]
    assert passes("sum(Jet_pt) > 100") == [False, True, False]
    assert passes("sum(Jet_pt) == 0") == [False, False, True]
    assert passes("sum(Jet_nConst) == 315") == [False, True, False]
    assert passes("max(Jet_pt) > 40") == [True, False, False]
    assert passes("min(Jet_pt) < 31") == [False, True, False]
    assert passes("min(Jet_pt) < 1e9 or max(Jet_pt) > -1") == [True, True, False]  # empty
    assert passes("any(Muon_pt > MET_pt)") == [True, False, False]  # per-event broadcast
    assert passes("any(Muon_pt * 2 > Muon_pt[0] + 20)") == [True, False, True]
    assert passes("max(Muon_pt[0], Jet_pt[0]) > 45") == [True, False, False]


def test_shape_errors() -> None:
    with pytest.raises(SelectionError, match="one result per object"):
        passes("Muon_pt > 20")
    with pytest.raises(SelectionError, match="different collections"):
        passes("any(Muon_pt > Jet_pt)")
    with pytest.raises(SelectionError, match="one value per event, not a collection"):
        passes("MET_pt[0] > 1")
    with pytest.raises(SelectionError, match="needs a collection"):
        passes("sum(MET_pt) > 1")
    with pytest.raises(SelectionError, match=r"column 1 \('nMuon'\): this is a number"):
        passes("nMuon")
    with pytest.raises(SelectionError, match="not a condition"):
        passes("any(Muon_pt)")


def test_empty_chunk() -> None:
    empty = {"Muon_pt": jagged([], np.float32), "nMuon": scalar([], np.uint32)}
    mask = evaluate(parse_where("nMuon > 1 and any(Muon_pt > 2)"), empty, 0)
    assert mask.dtype == np.bool_ and mask.shape == (0,)


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("nMuon >= 2 and > 3", 16, "('and >'): expected a value after 'and'"),
        ("nMuon >= 2 and", 15, "(end of text, after 'and'): expected a value after 'and'"),
        ("(nMuon > 1", 11, "expected ')' to close the '(' at column 1"),
        ("nMuon > 1)", 10, "unmatched ')'"),
        ("Muon_pt[a] > 1", 9, "whole number"),
        ("Muon_pt[0.5] > 1", 9, "whole number"),
        ("Muon_pt[0 > 1", 11, "expected ']'"),
        ("nMuon = 2", 7, "use '=='"),
        ("foo(Muon_pt) > 1", 1, "unknown function 'foo'"),
        ("2x > 1", 1, "malformed number '2x'"),
        ("nMuon > 1 nJet > 2", 11, "expected an operator, 'and', 'or' or the end after '1'"),
        ("nMuon > 1 & nJet > 2", 11, "use 'and'"),
        ("1 + not x", 5, "'not' cannot follow '+'"),
        ("abs() > 1", 1, "abs() takes one argument"),
        ("abs(1, 2) > 1", 1, "abs() takes one argument"),
        ("len(Muon_pt[0]) > 1", 1, "len() takes a collection branch"),
        ("() > 1", 2, "empty parentheses"),
        ("nMuon + 1", 1, "this is a number, not a condition"),
        ("nMuon > 1 and 2", 15, "'and' joins conditions, but this is a number"),
        ("not 3", 5, "needs a condition"),
        ("any(Muon_pt + 1)", 5, "any() needs a condition"),
        ("Muon_pt > 1 µ", 13, "unexpected character 'µ'"),
    ],
)
def test_errors_point_at_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(SelectionError) as info:
        parse_where(text)
    message = str(info.value)
    assert message.startswith("--where: ")
    assert f"column {column} " in message
    assert fragment in message
    assert "\n" not in message


def test_empty_and_oversized_expressions() -> None:
    with pytest.raises(SelectionError, match="--where is empty"):
        parse_where("   ")
    with pytest.raises(SelectionError, match="longer than"):
        parse_where("1 < 2 and " * 2000 + "1 < 2")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 500 + "1 < 2" + ")" * 500,
        "not " * 500 + "x",
        "- " * 500 + "1 < 2",
        "1 + " * 300 + "1 > 0",
    ],
)
def test_deep_nesting_is_a_selection_error_not_a_crash(text: str) -> None:
    with pytest.raises(SelectionError, match="nested too deeply"):
        parse_where(text)


def test_unknown_branch_lists_the_closest_names() -> None:
    available = {"Muon_pt", "Muon_ptErr", "Muon_eta", "nMuon", "Jet_pt", "MET_pt"}
    expr = parse_where("nMuon >= 2 and Muon_ptt[0] > 20")
    with pytest.raises(SelectionError) as info:
        check_branches(expr, available)
    assert str(info.value).startswith(
        "--where: unknown branch 'Muon_ptt'; closest: Muon_pt, Muon_ptErr"
    )
    with pytest.raises(SelectionError, match="unknown branch 'Zzz'; no similar branch"):
        check_branches(parse_where("Zzz > 1"), available)
    # counters of existing collections are known even without the n<Coll> branch
    check_branches(parse_where("nJet > 1 and nMuon > 1"), available)
    with pytest.raises(SelectionError, match="unknown branch 'nTau'"):
        check_branches(parse_where("nTau > 1"), available)


# -- no input can run code ----------------------------------------------------------------------

HOSTILE = [
    "__import__('os').system('touch /tmp/ispy_pwned')",
    '__import__("os").system("x") > 0',
    "Muon_pt.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0",
    "(lambda x: x)(1) > 0",
    "nMuon > 1; import os",
    "exec('x')",
    "eval('1') > 0",
    "open('/etc/passwd')",
    "Muon_pt[0].real > 1",
    "'a' == 'a'",
    "[x for x in Muon_pt]",
    "{1: 2}",
    "nMuon := 3",
    "getattr(Muon_pt, 'x') > 1",
    "globals()",
    "Muon_pt[::1] > 0",
    "f'{1}'",
    "x if y else z",
    "nMuon @ 2",
    "`ls`",
    "$HOME > 1",
    "nMuon > 1 \\\n and 2",
    "print(1) or 1 < 2",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_no_input_can_run_code(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append("os.system"))
    with pytest.raises(SelectionError) as info:
        expr = load_selection(text)
        check_branches(expr, set(COLUMNS))
        evaluate(expr, COLUMNS, 3)
    assert "\n" not in str(info.value)
    assert calls == []
    assert not Path("/tmp/ispy_pwned").exists()


def test_the_module_never_evaluates_text_as_python() -> None:
    """No eval/exec/compile/__import__/getattr anywhere in ispyrender.selection.where."""
    import ispyrender.selection.where as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    forbidden = {"eval", "exec", "compile", "__import__", "getattr", "globals", "locals"}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    # re.compile builds regular expressions for the tokenizer; it is not Python's compile.
    used |= {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and not (n.attr == "compile" and isinstance(n.value, ast.Name) and n.value.id == "re")
    }
    assert not used & forbidden
    assert not any(isinstance(n, ast.Import) and n.names[0].name == "ast" for n in ast.walk(tree))


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("nMuon_pt[]()0123456789.,<>=!&|+-*/ andornt'\"`;:@$\\")),
        max_size=40,
    )
)
def test_any_text_parses_or_gives_a_selection_error(text: str) -> None:
    try:
        expr = parse_where(text)
    except SelectionError as exc:
        assert "\n" not in str(exc)
        return
    assert all(name.isidentifier() for name in expr.branches())


# -- property test: vectorised evaluation == per-event oracle ------------------------------------
#
# Random jagged events and random expressions from the grammar. The oracle parses the same text
# with Python's own parser (this is test code; the language is Python's syntax for what they
# share, so this also checks precedence and associativity independently of ispyrender's parser)
# and interprets it event by event in plain Python with the documented semantics.

_MUON = ("Muon_pt", "Muon_eta", "Muon_charge")
_JET = ("Jet_pt", "Jet_nConst")
_FLOATS = st.one_of(
    st.sampled_from([0.0, -0.0, NAN, math.inf, 1.5, 20.0, 30.0]),
    st.floats(-200, 200, width=32),
)


@st.composite
def event_columns(draw: st.DrawFn) -> dict[str, Column]:
    n = draw(st.integers(0, 6))
    n_mu = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    n_jet = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))

    def split(values: list[Any], counts: list[int]) -> list[list[Any]]:
        out, pos = [], 0
        for c in counts:
            out.append(values[pos : pos + c])
            pos += c
        return out

    def flat(strategy: st.SearchStrategy[Any], counts: list[int]) -> list[list[Any]]:
        total = sum(counts)
        return split(draw(st.lists(strategy, min_size=total, max_size=total)), counts)

    def per_event(strategy: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(strategy, min_size=n, max_size=n))

    return {
        "nMuon": scalar(n_mu, np.uint32),
        "Muon_pt": jagged(flat(_FLOATS, n_mu), np.float32),
        "Muon_eta": jagged(flat(_FLOATS, n_mu), np.float32),
        "Muon_charge": jagged(flat(st.sampled_from([-1, 1]), n_mu), np.int32),
        "Muon_tight": jagged(flat(st.booleans(), n_mu), np.bool_),
        "Jet_pt": jagged(flat(_FLOATS, n_jet), np.float32),
        "Jet_nConst": jagged(flat(st.integers(0, 255), n_jet), np.uint8),
        "MET_pt": scalar(per_event(_FLOATS), np.float32),
        "PV_npvs": scalar(per_event(st.integers(-300, 300)), np.int16),
        "HLT_flag": scalar(per_event(st.booleans()), np.bool_),
    }


# Python's binding powers: or 1, and 2, not 3, comparisons 4, + - 5, * / 6, sign 7, ** 8, atom 9
Rendered = tuple[str, int]
ATOM = 9


def paren(r: Rendered, needed: bool) -> Rendered:
    return (f"({r[0]})", ATOM) if needed else r


@st.composite
def spaced(draw: st.DrawFn, op: str) -> str:
    return op if draw(st.booleans()) else f" {op} "


@st.composite
def maybe_paren(draw: st.DrawFn, r: Rendered) -> Rendered:
    return paren(r, draw(st.integers(0, 6)) == 0)


@st.composite
def num_event(draw: st.DrawFn, depth: int) -> Rendered:
    i = draw(st.integers(-3, 3))
    leaves = [
        str(draw(st.integers(0, 300))),
        draw(st.sampled_from(["2.5", "1e1", ".5", "20.0", "0"])),
        "MET_pt",
        "PV_npvs",
        "nMuon",
        "nJet",
        "len(Jet_pt)",
        f"{draw(st.sampled_from(_MUON + _JET))}[{i}]",
        f"Muon_tight[{i}]",
    ]
    leaf: Rendered = (draw(st.sampled_from(leaves)), ATOM)
    if depth <= 0:
        return leaf
    kind = draw(st.integers(0, 8))
    sub = num_event(depth - 1)
    if kind == 0:
        return leaf
    if kind == 1:
        x = draw(sub)
        return (f"-{paren(x, x[1] < 7)[0]}", 7)
    if kind == 2:
        return (f"abs({draw(sub)[0]})", ATOM)
    if kind == 3:
        op = draw(st.sampled_from("+-*/"))
        return draw(binary(op, draw(sub), draw(sub)))
    if kind == 4:
        x = draw(sub)
        return (f"{paren(x, x[1] <= 8)[0]} ** 2", 8)
    if kind in (5, 6):
        func = draw(st.sampled_from(["sum", "max", "min"]))
        coll = draw(st.sampled_from(["Muon", "Jet"]))
        return (f"{func}({draw(num_coll(coll, depth - 1))[0]})", ATOM)
    if kind == 7:
        func = draw(st.sampled_from(["max", "min"]))
        return (f"{func}({draw(sub)[0]}, {draw(sub)[0]})", ATOM)
    return draw(maybe_paren(draw(sub)))


@st.composite
def binary(draw: st.DrawFn, op: str, left: Rendered, right: Rendered) -> Rendered:
    level = {"+": 5, "-": 5, "*": 6, "/": 6}[op]
    a = paren(left, left[1] < level)
    b = paren(right, right[1] <= level)
    return (f"{a[0]}{draw(spaced(op))}{b[0]}", level)


@st.composite
def num_coll(draw: st.DrawFn, coll: str, depth: int) -> Rendered:
    leaf: Rendered = (draw(st.sampled_from(_MUON if coll == "Muon" else _JET)), ATOM)
    if depth <= 0:
        return leaf
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return leaf
    if kind == 1:
        x = draw(num_coll(coll, depth - 1))
        return (f"-{paren(x, x[1] < 7)[0]}", 7)
    if kind == 2:
        return (f"abs({draw(num_coll(coll, depth - 1))[0]})", ATOM)
    op = draw(st.sampled_from("+-*/"))
    other = draw(st.one_of(num_coll(coll, depth - 1), num_event(depth - 1)))
    mine = draw(num_coll(coll, depth - 1))
    pair = (mine, other) if draw(st.booleans()) else (other, mine)
    return draw(binary(op, *pair))


@st.composite
def compare(draw: st.DrawFn, operands: list[Rendered]) -> Rendered:
    parts = [paren(operands[0], operands[0][1] <= 4)[0]]
    for r in operands[1:]:
        parts.append(draw(spaced(draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="])))))
        parts.append(paren(r, r[1] <= 4)[0])
    return ("".join(parts), 4)


@st.composite
def logical(draw: st.DrawFn, a: Rendered, b: Rendered) -> Rendered:
    op = draw(st.sampled_from(["and", "or"]))
    level = 2 if op == "and" else 1
    return (f"{paren(a, a[1] < level)[0]} {op} {paren(b, b[1] < level)[0]}", level)


@st.composite
def cond_event(draw: st.DrawFn, depth: int) -> Rendered:
    kind = draw(st.integers(0, 7 if depth > 0 else 1))
    i = draw(st.integers(-3, 3))
    if kind == 0:
        return (draw(st.sampled_from(["HLT_flag", f"Muon_tight[{i}]"])), ATOM)
    sub_num = num_event(max(depth - 1, 0))
    if kind in (1, 2):
        count = draw(st.integers(2, 3))
        return draw(compare([draw(sub_num) for _ in range(count)]))
    if kind == 3:
        return draw(logical(draw(cond_event(depth - 1)), draw(cond_event(depth - 1))))
    if kind == 4:
        x = draw(cond_event(depth - 1))
        return (f"not {paren(x, x[1] < 3)[0]}", 3)
    if kind in (5, 6):
        func = draw(st.sampled_from(["any", "all"]))
        coll = draw(st.sampled_from(["Muon", "Jet"]))
        return (f"{func}({draw(cond_coll(coll, depth - 1))[0]})", ATOM)
    return draw(maybe_paren(draw(cond_event(depth - 1))))


@st.composite
def cond_coll(draw: st.DrawFn, coll: str, depth: int) -> Rendered:
    kind = draw(st.integers(0, 4 if depth > 0 else 1))
    if kind == 0 and coll == "Muon":
        return ("Muon_tight", ATOM)
    sub = max(depth - 1, 0)
    if kind <= 2:
        mine = draw(num_coll(coll, sub))
        other = draw(st.one_of(num_coll(coll, sub), num_event(sub)))
        return draw(compare([mine, other] if draw(st.booleans()) else [other, mine]))
    if kind == 3:
        other = draw(st.one_of(cond_coll(coll, sub), cond_event(sub)))
        return draw(logical(draw(cond_coll(coll, sub)), other))
    x = draw(cond_coll(coll, sub))
    return (f"not {paren(x, x[1] < 3)[0]}", 3)


# A missing boolean object is (False, absent); a missing number (0, absent).
_BOOLEAN = {"Muon_tight", "HLT_flag"}


class _Overflow(Exception):
    """An int64 result the vectorised code would wrap; the example is discarded."""


Item = tuple[Any, bool]  # (value, present)


def _lift(f: Callable[..., Item], *values: Any) -> Any:
    lengths = {len(v) for v in values if isinstance(v, list)}
    assert len(lengths) <= 1, "the generator only combines one collection at a time"
    if not lengths:
        return f(*values)
    (n,) = lengths
    return [f(*[v[k] if isinstance(v, list) else v for v in values]) for k in range(n)]


def _num(item: Item) -> Item:
    value, ok = item
    return (int(value) if isinstance(value, bool) else value, ok)


def _cond(item: Item) -> Item:
    value, ok = item
    assert isinstance(value, bool)
    return (value and ok, True)


def _isnan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _checked(x: Any) -> Any:
    if isinstance(x, int) and abs(x) >= 2**62:
        raise _Overflow
    return x


def _divide(a: Any, b: Any) -> float:
    a, b = float(a), float(b)
    if b == 0:
        if a == 0 or math.isnan(a):
            return NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _power(a: Any, b: Any) -> float:
    try:
        return float(a) ** float(b)
    except OverflowError:
        return math.inf


_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _divide,
    ast.Pow: _power,
}
_CMP: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def _relation(test: Callable[[Any, Any], bool]) -> Callable[[Item, Item], Item]:
    """One comparison: false when a side is missing or NaN, whatever the operator."""

    def relation(x: Item, y: Item) -> Item:
        (u, ok_u), (v, ok_v) = _num(x), _num(y)
        return (bool(ok_u and ok_v and not _isnan(u) and not _isnan(v) and test(u, v)), True)

    return relation


def _oracle(node: ast.AST, event: dict[str, Any]) -> Any:
    """Per-event value: (value, present), or a list of them for a collection."""
    if isinstance(node, ast.Expression):
        return _oracle(node.body, event)
    if isinstance(node, ast.Constant):
        return (node.value, True)
    if isinstance(node, ast.Name):
        name = node.id
        if name in event:
            value = event[name]
            return [(x, True) for x in value] if isinstance(value, list) else (value, True)
        return (len(event[name[1:] + "_pt"]), True)  # counter without its branch
    if isinstance(node, ast.Subscript):
        index = ast.literal_eval(node.slice)
        items = event[node.value.id]  # type: ignore[attr-defined]
        if -len(items) <= index < len(items):
            return (items[index], True)
        return (False if node.value.id in _BOOLEAN else 0, False)  # type: ignore[attr-defined]
    if isinstance(node, ast.UnaryOp):
        operand = _oracle(node.operand, event)
        if isinstance(node.op, ast.Not):
            return _lift(lambda x: (not _cond(x)[0], True), operand)
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return _lift(lambda x: (_num(x)[0] * sign, x[1]), operand)
    if isinstance(node, ast.BinOp):
        func = _ARITH[type(node.op)]

        def arith(a: Item, b: Item) -> Item:
            (x, ok_a), (y, ok_b) = _num(a), _num(b)
            if not (ok_a and ok_b):
                return (0, False)
            return (_checked(func(x, y)), True)

        return _lift(arith, _oracle(node.left, event), _oracle(node.right, event))
    if isinstance(node, ast.BoolOp):
        combine = all if isinstance(node.op, ast.And) else any
        values = [_oracle(v, event) for v in node.values]
        return _lift(lambda *xs: (combine(_cond(x)[0] for x in xs), True), *values)
    if isinstance(node, ast.Compare):
        operands = [_oracle(node.left, event)] + [_oracle(c, event) for c in node.comparators]
        results = []
        for op, a, b in zip(node.ops, operands, operands[1:], strict=False):
            results.append(_lift(_relation(_CMP[type(op)]), a, b))
        return _lift(lambda *rs: (all(r[0] for r in rs), True), *results)
    if isinstance(node, ast.Call):
        func = node.func.id  # type: ignore[attr-defined]
        args = [_oracle(a, event) for a in node.args]
        if func == "abs":
            return _lift(lambda x: (abs(_num(x)[0]), x[1]), args[0])
        if func == "len":
            return (len(args[0]), True)
        if func in ("min", "max") and len(args) > 1:

            def extreme(*xs: Item) -> Item:
                nums = [_num(x) for x in xs]
                if not all(ok for _, ok in nums):
                    return (0, False)
                values = [v for v, _ in nums]
                if any(_isnan(v) for v in values):
                    return (NAN, True)
                return ((min if func == "min" else max)(values), True)

            return _lift(extreme, *args)
        items = args[0]
        assert isinstance(items, list)
        if func in ("any", "all"):
            truth = [_cond(x)[0] for x in items]
            return ((any if func == "any" else all)(truth), True)
        nums = [_num(x) for x in items]
        if not all(ok for _, ok in nums):
            return (0, False)
        values = [v for v, _ in nums]
        if func == "sum":
            total = 0
            for v in values:
                total = _checked(total + v)
            return (total, True)
        if not values:
            return (0, False)
        if any(_isnan(v) for v in values):
            return (NAN, True)
        return ((min if func == "min" else max)(values), True)
    raise AssertionError(f"oracle cannot interpret {ast.dump(node)}")


def _events(columns: dict[str, Column]) -> Iterator[dict[str, Any]]:
    n = len(columns["nMuon"])
    for i in range(n):
        event: dict[str, Any] = {}
        for name, col in columns.items():
            value = col.value(i)
            event[name] = value.tolist() if isinstance(value, np.ndarray) else value.item()
        yield event


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(columns=event_columns(), rendered=cond_event(3))
def test_vectorised_evaluation_matches_the_per_event_oracle(
    columns: dict[str, Column], rendered: Rendered
) -> None:
    text = rendered[0]
    expr = parse_where(text)
    tree = ast.parse(text, mode="eval")  # the oracle's independent parse of the test's text
    try:
        expected = [_cond(_oracle(tree, event))[0] for event in _events(columns)]
    except _Overflow:
        assume(False)
    got = evaluate(expr, columns, len(columns["nMuon"]))
    assert got.dtype == np.bool_
    assert got.tolist() == expected, text


# -- real data ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dimuon(shared_data: Path) -> Iterator[Dataset]:
    with Dataset([str(shared_data / "nanoaod" / "nano_dimuon.root")]) as ds:
        yield ds


def _reference(
    dataset: Dataset, test: Callable[[dict[str, Any]], bool], names: list[str]
) -> list[int]:
    return [record.index for record in dataset.iter_events(None, names) if test(record.values)]


def test_real_file_two_muons(dimuon: Dataset) -> None:
    entries = select_where(dimuon, "nMuon >= 2")
    assert len(entries) == 33  # as documented in shared/data/README.md
    assert select_where(dimuon, "len(Muon_pt) >= 2") == entries
    assert select_where(dimuon, parse_where("nMuon >= 2"), chunk_size=7) == entries
    assert entries == _reference(dimuon, lambda v: len(v["Muon_pt"]) >= 2, ["Muon_pt"])


def test_real_file_named_dimuon_matches_a_python_loop(dimuon: Dataset) -> None:
    def dimuon_cut(v: dict[str, Any]) -> bool:
        pt, eta = v["Muon_pt"], v["Muon_eta"]
        return bool(
            len(pt) >= 2 and pt[0] > 20 and pt[1] > 10 and abs(eta[0]) < 2.4 and abs(eta[1]) < 2.4
        )

    expected = _reference(dimuon, dimuon_cut, ["Muon_pt", "Muon_eta"])
    assert 0 < len(expected) < 40
    assert select_where(dimuon, load_selection("@dimuon")) == expected
    assert resolve_selection(dimuon, where="dimuon") == expected


def test_resolve_selection_order_of_operations(dimuon: Dataset) -> None:
    two = select_where(dimuon, "nMuon >= 2")
    in_first_ten = [e for e in two if e < 10]
    # --events first, then --where, then --max-events
    assert resolve_selection(dimuon, events="0:10", where="nMuon >= 2") == in_first_ten
    assert (
        resolve_selection(dimuon, events="0:10", where="nMuon >= 2", max_events=2)
        == (in_first_ten[:2])
    )
    assert resolve_selection(dimuon, where="nMuon >= 2", max_events=3) == two[:3]
    assert select_where(dimuon, "nMuon >= 2", limit=4) == two[:4]
    assert select_where(dimuon, "nMuon >= 2", [39, 0, 5, 5]) == [e for e in two if e in (0, 5, 39)]
    assert select_where(dimuon, "1 < 2", [3, 1]) == [1, 3]
    assert select_where(dimuon, "2 < 1") == []


def test_resolve_selection_errors(dimuon: Dataset) -> None:
    with pytest.raises(
        SelectionError, match="matches no events: --where 'nMuon >= 50' matched none of the 40"
    ):
        resolve_selection(dimuon, where="nMuon >= 50")
    with pytest.raises(SelectionError, match="matched none of the 2 events considered"):
        resolve_selection(dimuon, events="1,2", where="nMuon > 100")
    with pytest.raises(SelectionError, match="unknown branch 'Muon_ptt'; closest: Muon_pt"):
        resolve_selection(dimuon, where="Muon_ptt[0] > 1")
    with pytest.raises(SelectionError, match="syntax error at column 8"):
        resolve_selection(dimuon, where="nMuon >")


# -- named selections ---------------------------------------------------------------------------


def test_named_selections_ship_and_parse() -> None:
    selections = {s.name: s for s in list_selections()}
    assert {"dimuon", "dielectron", "diphoton", "high_met", "multijet"} <= set(selections)
    for selection in selections.values():
        assert selection.description
        expr = load_selection(f"@{selection.name}")
        assert isinstance(expr, Expr) and expr.name == selection.name
        assert expr.text == selection.where
    assert selections["high_met"].where == "MET_pt > 100"
    assert load_selection("@multijet").branches() == {"nJet", "Jet_pt"}


def test_named_selection_rule() -> None:
    assert load_selection("dimuon").name == "dimuon"  # bare name of a shipped selection
    assert load_selection(" @dimuon ").name == "dimuon"
    plain = load_selection("HLT_IsoMu24")  # any other word is an expression
    assert plain.name is None and plain.branches() == {"HLT_IsoMu24"}
    assert load_selection("(dimuon)").branches() == {"dimuon"}  # parentheses force a branch
    with pytest.raises(SelectionError, match="unknown named selection '@nope'; available: @die"):
        load_selection("@nope")


def test_cli_where_and_selections(tmp_path: Path, shared_data: Path) -> None:
    from typer.testing import CliRunner

    from ispyrender.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["selections"])
    assert listed.exit_code == 0 and "@dimuon" in listed.output and "MET_pt > 100" in listed.output
    source = str(shared_data / "nanoaod" / "nano_dimuon.root")
    bad = runner.invoke(
        app, ["render", source, "--where", "nMuon >= 2 and > 3", "-o", str(tmp_path)]
    )
    assert bad.exit_code == 2
    assert "syntax error at column 16 ('and >')" in bad.output
    ok = runner.invoke(
        app,
        [
            "render",
            source,
            "--where",
            "nMuon >= 3",
            "-n",
            "2",
            "-f",
            "phoenix",
            "-q",
            "-o",
            str(tmp_path),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert len(list(tmp_path.glob("*.json"))) == 2
