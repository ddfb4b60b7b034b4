"""Physics objects: what is drawn, in metres and GeV, before any drawing.

:class:`EventBuilder` is the one way in: made once per job from the source and the style (which
branches to read, what to warn about), it turns each raw event of the source into a
:class:`~ispyrender.physics.objects.PhysicsEvent`, whichever the file format.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ispyrender.config.style import Style
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.sources.base import EventSource

__all__ = ["EventBuilder", "PhysicsEvent", "mismatch_warnings", "skipped_warnings"]


class EventBuilder:
    """Raw events of one source -> physics objects, as one style asks."""

    def __init__(self, source: EventSource, style: Style) -> None:
        from ispyrender.physics.nanoaod import branch_plan

        self.source = source
        self.style = style
        self.plan = None
        self.warnings: list[str] = source.notes()
        self.branches: set[str] = set()
        if source.has_branches:  # NanoAOD: plan the branches once for the whole job
            from ispyrender.errors import InputError
            from ispyrender.physics.nanoaod import nothing_to_draw

            available = source.available_branches()
            self.plan = branch_plan(style, available)
            names = ", ".join(map(repr, source.paths[:2]))
            problem = nothing_to_draw(style, self.plan, available, names)
            if problem:
                raise InputError(problem)
            self.warnings += self.plan.warnings
            self.branches = set(self.plan.branches)
        #: Objects left out for NaN or impossible values, per collection, over every event
        #: built so far, and the entries they were in.
        self.skipped_nan: Counter[str] = Counter()
        self.skipped_entries: dict[str, list[int]] = {}
        #: Collections whose branches disagree in length: how, and the entries.
        self.mismatched: dict[str, tuple[str, list[int]]] = {}

    def build(self, raw: Any) -> PhysicsEvent:
        from ispyrender.sources.ispy import IgEvent

        if isinstance(raw, IgEvent):
            from ispyrender.physics.ispy import physics_event

            physics = physics_event(raw, self.style)
        else:
            from ispyrender.physics.nanoaod import build_event

            assert self.plan is not None
            physics = build_event(raw, self.style, self.plan)
        self.skipped_nan.update(physics.skipped_nan)
        for key in physics.skipped_nan:
            self.skipped_entries.setdefault(key, []).append(physics.entry)
        for key, how in physics.mismatched.items():
            self.mismatched.setdefault(key, (how, []))[1].append(physics.entry)
        return physics

    def events(self, entries: Sequence[int]) -> Iterator[PhysicsEvent]:
        """Read and build the sorted ``entries`` of the source, one at a time."""
        for raw in self.source.read(entries, self.branches):
            yield self.build(raw)

    def nan_warnings(self) -> list[str]:
        """One line per collection that lost objects to NaN or impossible values (said once
        per job)."""
        return [
            *skipped_warnings(self.skipped_nan, self.skipped_entries),
            *mismatch_warnings(self.mismatched),
        ]


def mismatch_warnings(mismatched: Mapping[str, tuple[str, Sequence[int]]]) -> list[str]:
    """ "Muon_dz has 2 values where Muon_pt has 3 (entry 23): its muons are not drawn there",
    one line per collection."""
    lines = []
    for key, (how, entries) in sorted(mismatched.items()):
        listed = sorted(set(entries))
        shown = ", ".join(map(str, listed[:5])) + (" ..." if len(listed) > 5 else "")
        where = "entry" if len(listed) == 1 else "entries"
        lines.append(f"{how} ({where} {shown}): its {key} are not drawn there")
    return lines


def skipped_warnings(counts: Mapping[str, int], entries: Mapping[str, Sequence[int]]) -> list[str]:
    """ "left out 2 muons with NaN or impossible values (Muon_pt/eta/phi; entries 3, 7)", one
    line per collection."""
    from ispyrender.config.collections import BY_KEY

    lines = []
    for key, count in sorted(counts.items()):
        if not count:
            continue
        entry = BY_KEY.get(key)
        noun = entry.noun.removeprefix("the ") if entry else key
        where = [f"{entry.nanoaod}_pt/eta/phi"] if entry and entry.nanoaod else []
        listed = sorted(set(entries.get(key, ())))
        if listed:
            shown = ", ".join(map(str, listed[:5])) + (" ..." if len(listed) > 5 else "")
            where.append(f"{'entry' if len(listed) == 1 else 'entries'} {shown}")
        detail = f" ({'; '.join(where)})" if where else ""
        lines.append(f"left out {count} {noun} with NaN or impossible values{detail}")
    return lines
