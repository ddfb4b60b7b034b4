"""Which events to draw: one :class:`Selection` for every command and the Python API.

Entries (``--events``), ids (``--ids``, ``--ids-file``), a condition (``--where``) and a limit
(``--max-events``) are parsed here and resolved against any
:class:`~ispyrender.sources.base.EventSource` into sorted global entry numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ispyrender.selection.entries import (
    EventId,
    parse_events,
    parse_ids,
    read_ids_file,
    resolve_selection,
)

if TYPE_CHECKING:
    from ispyrender.sources.base import EventSource

__all__ = ["EventId", "Selection", "parse_events", "parse_ids", "read_ids_file"]


@dataclass(frozen=True)
class Selection:
    """The events chosen by entries and/or ids (their union), then ``where``, then the first
    ``max_events``. Text is parsed as the command line gives it: ``events="0,3,10:20"``,
    ``ids="315267:205:197713878"``; an empty selection chooses every event."""

    events: str | Sequence[int | slice] | None = None
    ids: str | Sequence[EventId] | None = None
    ids_file: str | Path | None = None
    where: str | None = None
    max_events: int | None = None

    def event_ids(self) -> list[EventId] | None:
        """The ids of ``ids`` and ``ids_file`` together, parsed (None when neither is given)."""
        found: list[EventId] = []
        if self.ids is not None:
            found += parse_ids(self.ids) if isinstance(self.ids, str) else list(self.ids)
        if self.ids_file is not None:
            found += read_ids_file(self.ids_file)
        return found if (self.ids is not None or self.ids_file is not None) else None

    def resolve(self, source: EventSource) -> list[int]:
        """Sorted global entries of ``source``; a one-line SelectionError when none match."""
        events = parse_events(self.events) if isinstance(self.events, str) else self.events
        return resolve_selection(
            source,
            events=events,
            ids=self.event_ids(),
            max_events=self.max_events,
            where=self.where,
        )
