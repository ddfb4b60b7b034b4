"""Choosing which events to draw: ``--events`` entry lists, ``--ids`` run/lumi/event lists,
``--where`` conditions (parsed and evaluated in :mod:`ispyrender.selection.where`).

Entry numbers are global (counted across all inputs in the order given) and use Python's
half-open ranges, so ``0,3,10:20`` means entries 0, 3 and 10..19. Every malformed or empty
selection is a one-line :class:`~ispyrender.errors.SelectionError` that says what to change.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from ispyrender.errors import SelectionError
from ispyrender.selection.where import Expr, check_branches, load_selection, select_where
from ispyrender.sources.nanoaod import Dataset

if TYPE_CHECKING:
    from ispyrender.sources.base import EventSource

__all__ = ["EventId", "parse_events", "parse_ids", "read_ids_file", "resolve_selection"]

#: (run, lumi or None when not given, event)
EventId: TypeAlias = tuple[int, int | None, int]

_INT = re.compile(r"^[+-]?\d+$", re.ASCII)
_UINT = re.compile(r"^\d+$", re.ASCII)
_MAX_LISTED = 5
#: Ids are compared as NanoAOD stores them: run and lumi as int64 here, event as uint64.
_RUN_LUMI_MAX = 2**63 - 1
_EVENT_MAX = 2**64 - 1
#: Entry numbers (any larger is out of range of any input); --events 1e5000 is not an entry.
_ENTRY_MAX = 2**63 - 1
#: An ids file is text of ids: this is far more than a file of a million ids needs.
_IDS_FILE_MAX = 64 * 2**20


def _quote(text: str, limit: int = 60) -> str:
    """User text for a one-line message: whole, or its start and its length."""
    return (
        repr(text) if len(text) <= limit else f"{text[: limit - 3]!r}... ({len(text)} characters)"
    )


def _whole(text: str, largest: int) -> int | None:
    """The whole number ``text`` (digits, maybe signed) when its size is at most ``largest``;
    None otherwise (without int() on thousands of digits, which Python refuses)."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) > len(str(largest)):
        return None
    value = int(digits)
    return sign * value if value <= largest else None


def _tokens(text: str, offset: int = 0) -> list[tuple[str, int]]:
    """Split on commas, keeping each stripped token with its 1-based column in ``text``."""
    tokens: list[tuple[str, int]] = []
    pos = 0
    for raw in text.split(","):
        stripped = raw.strip()
        column = pos + (len(raw) - len(raw.lstrip())) + 1 + offset
        tokens.append((stripped, column))
        pos += len(raw) + 1
    return tokens


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        shown += f" and {len(items) - _MAX_LISTED} more"
    return shown


def parse_events(text: str) -> list[int | slice]:
    """Parse ``--events`` text such as ``0,3,10:20,:5,10:`` (steps ``a:b:s`` are accepted too)."""
    if not text.strip():
        raise SelectionError("--events is empty; give entry numbers or ranges like 0,3,10:20")
    result: list[int | slice] = []
    for token, column in _tokens(text):
        if not token:
            raise SelectionError(
                f"--events {_quote(text)}: empty entry at column {column}; remove the extra comma"
            )
        parts = token.split(":")
        bad = next((p for p in parts if p.strip() and not _INT.match(p.strip())), None)
        if bad is not None or len(parts) > 3:
            raise SelectionError(
                f"--events {_quote(text)}: {_quote(token)} at column {column} is not an entry "
                "number or a range; use forms like 7, 10:20, :5 or 10:"
            )
        numbers = [_whole(p.strip(), _ENTRY_MAX) if p.strip() else None for p in parts]
        if any(p.strip() and n is None for p, n in zip(parts, numbers, strict=True)):
            raise SelectionError(
                f"--events {_quote(text)}: {_quote(token, 30)} at column {column} is out of "
                "range: entry numbers are below 2**63"
            )
        if len(parts) == 1:
            assert numbers[0] is not None
            result.append(numbers[0])
            continue
        start, stop, *rest = numbers
        step = rest[0] if rest else None
        if step == 0:
            raise SelectionError(
                f"--events {_quote(text)}: range {_quote(token)} at column {column} has a zero "
                "step; use a positive step such as 0:100:10"
            )
        result.append(slice(start, stop, step))
    return result


def _parse_id(token: str, where: str) -> EventId:
    parts = [p.strip() for p in token.split(":")]
    if len(parts) not in (2, 3) or not all(_UINT.match(p) for p in parts):
        raise SelectionError(
            f"{where}: {_quote(token)} is not an event id; use RUN:LUMI:EVENT or RUN:EVENT "
            "with non-negative integers, e.g. 315267:12:123456"
        )
    names = ("run", "event") if len(parts) == 2 else ("run", "lumi", "event")
    numbers = []
    for name, part in zip(names, parts, strict=True):
        largest = _EVENT_MAX if name == "event" else _RUN_LUMI_MAX
        number = _whole(part, largest)
        if number is None:
            raise SelectionError(
                f"{where}: the {name} number of {_quote(token, 30)} is out of range (at most "
                f"{largest}); check the id"
            )
        numbers.append(number)
    if len(numbers) == 2:
        return numbers[0], None, numbers[1]
    return numbers[0], numbers[1], numbers[2]


def parse_ids(text: str) -> list[EventId]:
    """Parse ``--ids`` text: comma-separated ``RUN:LUMI:EVENT`` (or ``RUN:EVENT``) ids."""
    if not text.strip():
        raise SelectionError("--ids is empty; give ids like 315267:12:123456,315267:123457")
    ids: list[EventId] = []
    for token, column in _tokens(text):
        if not token:
            raise SelectionError(
                f"--ids {_quote(text)}: empty id at column {column}; remove the extra comma"
            )
        ids.append(_parse_id(token, f"--ids {_quote(text)} at column {column}"))
    return ids


def read_ids_file(path: str | Path) -> list[EventId]:
    """Read ids from a file: one per line or comma separated, ``#`` comments, blank lines."""
    p = Path(path)
    try:
        with p.open("rb") as fh:  # at most a bounded amount: /dev/zero is a "file" too
            data = fh.read(_IDS_FILE_MAX + 1)
        if len(data) > _IDS_FILE_MAX:
            raise SelectionError(
                f"ids file {str(p)!r} is larger than {_IDS_FILE_MAX // 2**20} MB; pass a text "
                "file of RUN:LUMI:EVENT ids"
            )
        text = data.decode("utf-8")
    except FileNotFoundError as exc:
        raise SelectionError(f"ids file {str(p)!r} does not exist; check the path") from exc
    except IsADirectoryError as exc:
        raise SelectionError(f"ids file {str(p)!r} is a directory; pass a text file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SelectionError(
            f"cannot read ids file {str(p)!r} ({type(exc).__name__}); pass a UTF-8 text file"
        ) from exc
    ids: list[EventId] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0]
        for token, column in _tokens(content):
            # Whitespace also separates ids, so "1:2:3 1:2:4" on one line works.
            for word in token.split():
                ids.append(_parse_id(word, f"ids file {str(p)!r} line {lineno} column {column}"))
    if not ids:
        raise SelectionError(
            f"ids file {str(p)!r} contains no ids; write one RUN:LUMI:EVENT per line"
        )
    return ids


def _resolve_entries(spec: Sequence[int | slice], n: int) -> list[int]:
    chosen: list[int] = []
    out_of_range: list[str] = []
    for item in spec:
        if isinstance(item, slice):
            start = item.start
            # Python would silently give nothing for a start past the end; the user surely
            # meant events that exist, so say so.
            stop = item.stop
            # ... and a stop past the end names events that do not exist either (an open
            # range, 10:, is the way to say "to the end").
            past_end = stop is not None and (stop > n or stop < -n)
            if start is not None and (start >= n or start < -n) and (item.step or 1) > 0:
                past_end = True
            if past_end:
                out_of_range.append(
                    f"{'' if start is None else start}:{'' if stop is None else stop}"
                )
                continue
            chosen.extend(range(n)[item])
        else:
            index = item + n if item < 0 else item
            if not 0 <= index < n:
                out_of_range.append(str(item))
                continue
            chosen.append(index)
    if out_of_range:
        raise SelectionError(
            f"entries out of range: {_listed(out_of_range)}; valid entries are 0 to {n - 1} "
            f"({n} events)"
            if n
            else f"entries out of range: {_listed(out_of_range)}; the inputs contain no events"
        )
    return chosen


def _resolve_ids(source: EventSource, ids: Sequence[EventId]) -> list[int]:
    known = source.ids()
    run, lumi, event = known.run, known.lumi, known.event
    # Compare as int64/uint64 on the numpy side: one vectorised pass per id, no Python loop
    # over events, which matters for large inputs.
    run64 = run.astype(np.int64, copy=False)
    event64 = event.astype(np.uint64, copy=False)
    lumi64 = None if lumi is None else lumi.astype(np.int64, copy=False)
    chosen: list[int] = []
    missing: list[str] = []
    for r, lb, ev in ids:
        mask = (run64 == r) & (event64 == np.uint64(ev))
        if lb is not None and lumi64 is not None:
            mask &= lumi64 == lb
        hits = np.flatnonzero(mask)
        if hits.size == 0:
            missing.append(f"{r}:{lb}:{ev}" if lb is not None else f"{r}:{ev}")
        chosen.extend(int(h) for h in hits)
    if missing:
        raise SelectionError(
            f"event ids not found in the inputs: {_listed(missing)}; check them with "
            "'ispyrender inspect' or drop the lumi part (RUN:EVENT)"
        )
    return chosen


def resolve_selection(
    source: EventSource,
    events: str | Sequence[int | slice] | None = None,
    ids: str | Sequence[EventId] | None = None,
    max_events: int | None = None,
    where: str | Expr | None = None,
) -> list[int]:
    """Sorted unique global entries chosen by ``events`` and/or ``ids`` (their union).

    With neither, every entry is chosen. ``where`` (a ``--where`` expression or named
    selection, see :mod:`ispyrender.selection.where`) then keeps the entries that pass it, and
    ``max_events`` finally keeps the first N.
    """
    if max_events is not None and max_events < 1:
        raise SelectionError(f"--max-events {max_events} must be at least 1")
    expr: Expr | None = None
    if where is not None:
        if not source.supports_where:
            n = len(source)
            inputs = " ".join(shlex.quote(p) for p in source.paths[:3])
            inputs += " ..." if len(source.paths) > 3 else ""
            raise SelectionError(
                f"--where reads NanoAOD branches, and {source.kind} files have none: pick "
                f"events by entry (--events 0:{min(n, 5)}; there are {n}, 0 to {n - 1}) or by id "
                f"(--ids RUN:LUMI:EVENT, as listed by: ispyrender inspect {inputs} --ids)"
            )
        # Parse and check the names before any reading, so that typos fail at once.
        expr = where if isinstance(where, Expr) else load_selection(where)
        check_branches(expr, source.available_branches())
    n = len(source)
    if isinstance(events, str):
        events = parse_events(events)
    if isinstance(ids, str):
        ids = parse_ids(ids)
    chosen_entries: list[int] | None = None
    if events is None and ids is None:
        if n == 0:
            raise SelectionError(
                "selection matches no events: the inputs contain no events; pass other files"
            )
        if expr is None:
            stop = n if max_events is None else min(n, max_events)
            return list(range(stop))
    else:
        chosen: set[int] = set()
        if events is not None:
            chosen.update(_resolve_entries(events, n))
        if ids is not None:
            chosen.update(_resolve_ids(source, ids))
        chosen_entries = sorted(chosen)
        if not chosen_entries:
            raise SelectionError(
                "selection matches no events (the ranges given are empty); check --events/--ids "
                f"against the {n} events of the inputs"
            )
    if expr is None:
        assert chosen_entries is not None
        result = chosen_entries
    else:
        # The limit lets "--where ... -n 5" stop reading once five events have passed.
        assert isinstance(source, Dataset)
        result = select_where(source, expr, chosen_entries, limit=max_events)
        if not result:
            considered = n if chosen_entries is None else len(chosen_entries)
            label = f"{expr.origin} ({expr.text})" if expr.name else f"--where {_quote(expr.text)}"
            raise SelectionError(
                f"selection matches no events: {label} matched none of the {considered} events "
                "considered; loosen it or check the values with 'ispyrender inspect'"
            )
    if max_events is not None:
        result = result[:max_events]
    return result
