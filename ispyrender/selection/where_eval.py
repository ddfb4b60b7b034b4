"""The ``--where`` language, part two: evaluating a parsed expression on numpy columns, chunk
by chunk of a NanoAOD dataset, vectorised over events (see :mod:`ispyrender.selection.where`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from ispyrender.sources.nanoaod import Dataset

from ispyrender.selection.where_parse import (
    Binary,
    Branch,
    Call,
    Compare,
    Expr,
    Index,
    Logical,
    Node,
    Number,
    Unary,
    branches_to_read,
    check_branches,
    counter_source,
    parse_where,
    snippet,
)

__all__ = ["evaluate", "select_where"]


# -- evaluation -------------------------------------------------------------------------------


class _ColumnLike(Protocol):
    @property
    def content(self) -> np.ndarray: ...
    @property
    def offsets(self) -> np.ndarray | None: ...


@dataclass(frozen=True)
class _Value:
    """Values of one node over a chunk: per event (``offsets is None``) or per object."""

    data: np.ndarray  # bool, int64 or float64
    valid: np.ndarray | None = None  # False where an object is missing; None: all present
    offsets: np.ndarray | None = None

    @property
    def is_bool(self) -> bool:
        return bool(self.data.dtype == np.bool_)


def _and_masks(*masks: np.ndarray | None) -> np.ndarray | None:
    present = [m for m in masks if m is not None]
    if not present:
        return None
    out = present[0]
    for m in present[1:]:
        out = out & m
    return out


def _numeric(array: np.ndarray) -> np.ndarray:
    """int64/float64/bool: 64-bit arithmetic avoids uint8/int16 wrap-around and overflow."""
    if array.dtype == np.bool_:
        return array
    if array.dtype == np.uint64 and len(array) and int(array.max()) > _INT64_MAX:
        return array.astype(np.float64)  # beyond int64: approximately, not wrapped round
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    return array.astype(np.float64, copy=False)


_INT64_MIN = np.iinfo(np.int64).min
_INT64_MAX = np.iinfo(np.int64).max
_OVERFLOW = (
    "integer overflow: the result leaves the 64-bit range (|x| < 9.2e18) that integers are "
    "computed in; write a number as a float (e.g. 2.0 for 2) to compute in floating point"
)


def _overflows(op: str, a: np.ndarray, b: np.ndarray, result: np.ndarray) -> np.ndarray:
    """Where int64 ``a op b`` wrapped round (``result`` is numpy's wrapped answer)."""
    if op == "+":
        return ((a ^ result) & (b ^ result)) < 0
    if op == "-":
        return ((a ^ b) & (a ^ result)) < 0
    # a * b: exact when result // a gives b back (a wrapped product never does, as |a| is
    # below 2**63 and a wrap is a multiple of 2**64), except MIN * -1, which wraps to MIN.
    divisor = np.where(a == 0, 1, a)
    return ((a != 0) & (result // divisor != b)) | ((a == -1) & (b == _INT64_MIN))


def _present(mask: np.ndarray, valid: np.ndarray | None) -> bool:
    """Whether ``mask`` holds anywhere the value is present (a missing object is 0)."""
    return bool((mask if valid is None else mask & valid).any())


_COMPARE_UFUNCS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_ARITHMETIC_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply}


class _Evaluator:
    def __init__(self, expr: Expr, columns: Mapping[str, _ColumnLike], n_events: int) -> None:
        self.expr = expr
        self.columns = columns
        self.n = n_events
        self.loaded: dict[str, _Value] = {}

    # reading

    def column(self, name: str, node: Node) -> _Value:
        if name in self.loaded:
            return self.loaded[name]
        column = self.columns.get(name)
        if column is not None:
            value = self.convert(name, column, node)
        else:
            source = counter_source(name, self.columns.keys())
            counted = self.columns.get(source) if source is not None else None
            if counted is None or counted.offsets is None:
                raise self.expr.error(node, f"branch {name!r} was not read")
            value = _Value(np.diff(np.asarray(counted.offsets)).astype(np.int64))
        self.loaded[name] = value
        return value

    def convert(self, name: str, column: _ColumnLike, node: Node) -> _Value:
        content = np.asarray(column.content)
        if content.dtype.kind not in "biuf":
            raise self.expr.error(node, f"branch {name!r} holds {content.dtype} values")
        content = _numeric(content)
        if column.offsets is None:
            return _Value(content)
        offsets = np.asarray(column.offsets, dtype=np.int64)
        if offsets[0] != 0 or len(content) != offsets[-1]:
            # Normalise so that object i of the chunk is content[i]: broadcasting relies on it.
            content = content[offsets[0] : offsets[-1]]
            offsets = offsets - offsets[0]
        return _Value(content, None, offsets)

    # helpers

    def broadcast(self, values: Sequence[_Value], node: Node) -> list[_Value]:
        """Bring per-event and per-object values to a common shape."""
        jagged = [v for v in values if v.offsets is not None]
        if not jagged:
            return list(values)
        offsets = jagged[0].offsets
        assert offsets is not None
        for other in jagged[1:]:
            if other.offsets is not offsets and not np.array_equal(
                np.asarray(other.offsets), offsets
            ):
                raise self.expr.error(
                    node,
                    "this combines objects of different collections (or of different sizes); "
                    "index them (Muon_pt[0]) or reduce them (any(...), max(...)) first",
                )
        counts = np.diff(offsets)
        out = []
        for v in values:
            if v.offsets is None:
                valid = None if v.valid is None else np.repeat(v.valid, counts)
                v = _Value(np.repeat(v.data, counts), valid, offsets)
            out.append(v)
        return out

    def number(self, value: _Value) -> _Value:
        if value.is_bool:
            return _Value(value.data.astype(np.int64), value.valid, value.offsets)
        return value

    def condition(self, value: _Value, node: Node) -> _Value:
        if not value.is_bool:
            text = snippet(self.expr.text, node.start, node.end)
            raise self.expr.error(
                node, f"this is a number, not a condition; compare it, e.g. '{text} > 0'"
            )
        # A missing object makes the condition false (see the module docstring).
        data = value.data if value.valid is None else value.data & value.valid
        return _Value(data, None, value.offsets)

    def collection(self, value: _Value, node: Node, func: str) -> np.ndarray:
        if value.offsets is None:
            raise self.expr.error(
                node,
                f"{func}() needs a collection such as Muon_pt, but this has one value per event",
            )
        return value.offsets

    # nodes

    def compute(self, node: Node) -> _Value:
        return _DISPATCH[type(node)](self, node)

    def eval_number(self, node: Number) -> _Value:
        dtype = np.int64 if isinstance(node.value, int) else np.float64
        return _Value(np.full(self.n, node.value, dtype=dtype))

    def eval_branch(self, node: Branch) -> _Value:
        return self.column(node.name, node)

    def eval_index(self, node: Index) -> _Value:
        value = self.column(node.name, node)
        if value.offsets is None:
            raise self.expr.error(
                node, f"{node.name!r} has one value per event, not a collection; drop the index"
            )
        offsets, i = value.offsets, node.index
        counts = np.diff(offsets)
        if i >= 0:
            present, positions = counts > i, offsets[:-1] + i
        else:
            present, positions = counts >= -i, offsets[1:] + i
        data = np.zeros(len(counts), dtype=value.data.dtype)
        data[present] = value.data[positions[present]]
        # Columns are always complete, so presence alone decides validity.
        return _Value(data, present)

    def eval_unary(self, node: Unary) -> _Value:
        operand = self.compute(node.operand)
        if node.op == "not":
            c = self.condition(operand, node.operand)
            return _Value(~c.data, None, c.offsets)
        operand = self.number(operand)
        if node.op == "-":
            self.check_min(operand, node)
        data = np.negative(operand.data) if node.op == "-" else operand.data
        return _Value(data, operand.valid, operand.offsets)

    def check_min(self, value: _Value, node: Node) -> None:
        """-x and abs(x) of int64's lowest value wrap round to it: an error."""
        if value.data.dtype == np.int64 and _present(value.data == _INT64_MIN, value.valid):
            raise self.expr.error(node, _OVERFLOW)

    def eval_binary(self, node: Binary) -> _Value:
        left, right = self.broadcast(
            [self.number(self.compute(node.left)), self.number(self.compute(node.right))], node
        )
        with np.errstate(all="ignore"):
            if node.op in _ARITHMETIC_UFUNCS:
                data = _ARITHMETIC_UFUNCS[node.op](left.data, right.data)
                if data.dtype == np.int64 and _present(
                    _overflows(node.op, left.data, right.data, data),
                    _and_masks(left.valid, right.valid),
                ):
                    raise self.expr.error(node, _OVERFLOW)
            else:
                ufunc = np.true_divide if node.op == "/" else np.power
                data = ufunc(left.data.astype(np.float64), right.data.astype(np.float64))
        return _Value(data, _and_masks(left.valid, right.valid), left.offsets)

    def eval_logical(self, node: Logical) -> _Value:
        conditions = [self.condition(self.compute(o), o) for o in node.operands]
        conditions = self.broadcast(conditions, node)
        data = conditions[0].data
        for c in conditions[1:]:
            data = (data & c.data) if node.op == "and" else (data | c.data)
        return _Value(data, None, conditions[0].offsets)

    def eval_compare(self, node: Compare) -> _Value:
        operands = [self.number(self.compute(o)) for o in node.operands]
        results: list[_Value] = []
        for op, a, b in zip(node.ops, operands, operands[1:], strict=False):
            a, b = self.broadcast([a, b], node)
            with np.errstate(invalid="ignore"):
                data = _COMPARE_UFUNCS[op](a.data, b.data)
            # NaN compares false under every operator, "!=" included.
            for side in (a, b):
                if side.data.dtype.kind == "f":
                    data &= ~np.isnan(side.data)
            valid = _and_masks(a.valid, b.valid)
            if valid is not None:
                data &= valid
            results.append(_Value(data, None, a.offsets))
        results = self.broadcast(results, node)
        data = results[0].data
        for r in results[1:]:
            data = data & r.data
        return _Value(data, None, results[0].offsets)

    def eval_call(self, node: Call) -> _Value:
        func = node.func
        if func == "len":
            arg = node.args[0]
            value = self.compute(arg)
            return _Value(np.diff(self.collection(value, arg, func)))
        if func == "abs":
            value = self.number(self.compute(node.args[0]))
            self.check_min(value, node)
            return _Value(np.abs(value.data), value.valid, value.offsets)
        if func in ("min", "max") and len(node.args) > 1:
            values = self.broadcast([self.number(self.compute(a)) for a in node.args], node)
            ufunc = np.minimum if func == "min" else np.maximum
            data = values[0].data
            for v in values[1:]:
                data = ufunc(data, v.data)  # propagates NaN, as documented
            return _Value(data, _and_masks(*(v.valid for v in values)), values[0].offsets)
        arg = node.args[0]
        value = self.compute(arg)
        reduce_conditions = func in ("any", "all")
        value = self.condition(value, arg) if reduce_conditions else self.number(value)
        offsets = self.collection(value, arg, func)
        counts = np.diff(offsets)
        if func in ("any", "all"):
            hits = _segment_sum(value.data.astype(np.int64), offsets)
            return _Value(hits > 0 if func == "any" else hits == counts)
        # A missing element (from broadcasting a missing per-event value) spoils the result.
        valid = None
        if value.valid is not None:
            valid = _segment_sum((~value.valid).astype(np.int64), offsets) == 0
        if func == "sum":
            totals = _segment_sum(value.data, offsets)
            if value.data.dtype == np.int64 and _present(
                _sum_overflows(value.data, offsets), valid
            ):
                raise self.expr.error(node, _OVERFLOW)
            return _Value(totals, valid)
        present = counts > 0
        data = np.zeros(len(counts), dtype=value.data.dtype)
        if present.any():
            ufunc = np.minimum if func == "min" else np.maximum
            # Starting only at non-empty events makes each segment end where the next starts.
            data[present] = ufunc.reduceat(value.data, offsets[:-1][present])
        return _Value(data, present if valid is None else present & valid)


# Explicit node-type dispatch (no name lookups built from strings).
_DISPATCH: dict[type[Node], Callable[[_Evaluator, Any], _Value]] = {
    Number: _Evaluator.eval_number,
    Branch: _Evaluator.eval_branch,
    Index: _Evaluator.eval_index,
    Unary: _Evaluator.eval_unary,
    Binary: _Evaluator.eval_binary,
    Logical: _Evaluator.eval_logical,
    Compare: _Evaluator.eval_compare,
    Call: _Evaluator.eval_call,
}


def _segment_sum(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-event sums of a flat array (empty events give 0)."""
    n = len(offsets) - 1
    if data.dtype.kind == "f":
        # bincount adds in order, exactly as a Python loop would (reduceat mishandles empties).
        events = np.repeat(np.arange(n), np.diff(offsets))
        return np.bincount(events, weights=data, minlength=n)
    totals = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(data, out=totals[1:])
    return totals[offsets[1:]] - totals[offsets[:-1]]


def _sum_overflows(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per event: whether the exact int64 sum leaves the range (the running sum wraps, and
    wraps back, so the wrapped total alone cannot tell). Events whose sum of magnitudes is
    far below 2**63 cannot; the few others are summed exactly in Python."""
    n = len(offsets) - 1
    events = np.repeat(np.arange(n), np.diff(offsets))
    bound = np.bincount(events, weights=np.abs(data.astype(np.float64)), minlength=n)
    over = np.zeros(n, dtype=bool)
    for event in np.flatnonzero(bound >= 2.0**62):
        exact = sum(int(x) for x in data[offsets[event] : offsets[event + 1]])
        over[event] = not _INT64_MIN <= exact <= _INT64_MAX
    return over


def evaluate(expr: Expr, columns: Mapping[str, _ColumnLike], n_events: int) -> np.ndarray:
    """The per-event pass mask of ``expr`` over one chunk of ``n_events`` events.

    ``columns`` maps branch names to :class:`~ispyrender.sources.nanoaod.Column` (anything with
    numpy ``content`` and ``offsets``); a missing counter ``nColl`` is counted from a ``Coll_``
    column. Vectorised: the work is numpy operations over whole columns, never a Python loop
    over events.
    """
    evaluator = _Evaluator(expr, columns, n_events)
    value = evaluator.compute(expr.root)
    if value.offsets is not None:
        raise expr.error(
            expr.root,
            "this gives one result per object, not per event; use any(...) or all(...), or "
            "index an object such as Muon_pt[0]",
        )
    return np.asarray(evaluator.condition(value, expr.root).data, dtype=bool)


# -- datasets ---------------------------------------------------------------------------------


def _ranges(
    dataset: Dataset, entries: np.ndarray | None, chunk_size: int
) -> list[tuple[int, int, int]]:
    """(input, start, stop) spans covering ``entries``; nearby entries share a span."""
    spans: list[tuple[int, int, int]] = []
    for index, info in enumerate(dataset.inputs):
        if entries is None:
            if info.num_entries:
                spans.append((index, 0, info.num_entries))
            continue
        lo, hi = np.searchsorted(entries, [info.first_entry, info.first_entry + info.num_entries])
        local = entries[lo:hi] - info.first_entry
        if not len(local):
            continue
        # Split where the gap is wider than a chunk: reading across it would be wasted work.
        breaks = np.flatnonzero(np.diff(local) > chunk_size) + 1
        for part in np.split(local, breaks):
            spans.append((index, int(part[0]), int(part[-1]) + 1))
    return spans


def select_where(
    dataset: Dataset,
    expr: Expr | str,
    entries: Sequence[int] | None = None,
    *,
    limit: int | None = None,
    chunk_size: int = 50_000,
) -> list[int]:
    """Sorted global entries passing ``expr`` (among ``entries`` when given).

    Reads only the branches the expression names, one chunk at a time, so memory stays flat.
    With ``limit``, reading stops once that many events have passed.
    """
    if isinstance(expr, str):
        expr = parse_where(expr)
    available = dataset.available_branches()
    check_branches(expr, available)
    wanted = None if entries is None else np.unique(np.asarray(entries, dtype=np.int64))
    names = sorted(branches_to_read(expr, available))
    if not names:
        # A constant such as "1 < 2": one evaluation decides for every event.
        passes = bool(evaluate(expr, {}, 1)[0])
        chosen = (
            []
            if not passes
            else (list(range(dataset.num_entries)) if wanted is None else wanted.tolist())
        )
        return chosen if limit is None else chosen[:limit]
    passing: list[np.ndarray] = []
    found = 0
    ranges = _ranges(dataset, wanted, chunk_size)
    for info, start, columns in dataset.iter_chunks(names, chunk_size, ranges):
        n = len(next(iter(columns.values())))
        hits = np.flatnonzero(evaluate(expr, columns, n)) + info.first_entry + start
        if wanted is not None:
            hits = hits[np.isin(hits, wanted, assume_unique=True)]
        passing.append(hits)
        found += len(hits)
        if limit is not None and found >= limit:
            break
    result = np.concatenate(passing).tolist() if passing else []
    return result if limit is None else result[:limit]
