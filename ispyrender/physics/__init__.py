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

__all__ = ["EventBuilder", "LeftOut", "PhysicsEvent"]


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
        #: What the events built so far left out, said once at the end of the job.
        self.left_out = LeftOut()

    def build(self, raw: Any) -> PhysicsEvent:
        from ispyrender.sources.ispy import IgEvent

        if isinstance(raw, IgEvent):
            from ispyrender.physics.ispy import physics_event

            physics = physics_event(raw, self.style)
        else:
            from ispyrender.physics.nanoaod import build_event

            assert self.plan is not None
            physics = build_event(raw, self.style, self.plan)
        self.left_out.add(physics.entry, physics.skipped_nan, physics.mismatched)
        return physics

    def events(self, entries: Sequence[int]) -> Iterator[PhysicsEvent]:
        """Read and build the sorted ``entries`` of the source, one at a time."""
        for raw in self.source.read(entries, self.branches):
            yield self.build(raw)

    def nan_warnings(self) -> list[str]:
        """One line per collection that lost objects to NaN or impossible values, or whose
        branches disagree in length (said once per job)."""
        return self.left_out.warnings()


class LeftOut:
    """What a job's events left out for bad data, per collection: objects with NaN or
    impossible values and collections whose branches disagree in length, with the entries; one
    warning per collection at the end of the job (in this process, or from a batch's records)."""

    def __init__(self) -> None:
        self.skipped: Counter[str] = Counter()
        self.skipped_entries: dict[str, list[int]] = {}
        self.mismatched: dict[str, tuple[str, list[int]]] = {}

    def add(self, entry: int, skipped: Mapping[str, int], mismatched: Mapping[str, str]) -> None:
        self.skipped.update(skipped)
        for key in skipped:
            self.skipped_entries.setdefault(key, []).append(entry)
        for key, how in mismatched.items():
            self.mismatched.setdefault(key, (how, []))[1].append(entry)

    def warnings(self) -> list[str]:
        """ "left out 2 muons with NaN or impossible values (Muon_pt/eta/phi; entries 3, 7)";
        "Muon_dz has 2 values where Muon_pt has 3 (entry 23): its muons are not drawn there"."""
        from ispyrender.config.collections import BY_KEY

        lines = []
        for key, count in sorted(self.skipped.items()):
            if not count:
                continue
            found = BY_KEY.get(key)
            noun = found.noun.removeprefix("the ") if found else key
            where = []
            if found is not None and found.nanoaod and found.kind != "met":
                where.append(f"{found.nanoaod}_{'/'.join(found.fields[:3])}")
            if key in self.skipped_entries:
                where.append(_entries(self.skipped_entries[key]))
            detail = f" ({'; '.join(where)})" if where else ""
            lines.append(f"left out {count} {noun} with NaN or impossible values{detail}")
        for key, (how, entries) in sorted(self.mismatched.items()):
            lines.append(f"{how} ({_entries(entries)}): its {key} are not drawn there")
        return lines


def _entries(entries: Sequence[int]) -> str:
    """ "entry 3" or "entries 3, 7, 9, 12, 15 ...": the first five."""
    listed = sorted(set(entries))
    shown = ", ".join(map(str, listed[:5])) + (" ..." if len(listed) > 5 else "")
    return f"{'entry' if len(listed) == 1 else 'entries'} {shown}"
