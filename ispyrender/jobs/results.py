"""What a job reports about each event it made, for progress bars and summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ispyrender.physics.objects import PhysicsEvent

__all__ = ["EventResult", "RenderSummary"]


@dataclass
class EventResult:
    index: int
    run: int
    lumi: int | None
    event: int
    source: str
    path: Path | None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: bool = False

    @classmethod
    def made(cls, physics: PhysicsEvent, path: Path) -> EventResult:
        """The result of an event whose files were written to ``path``."""
        return cls(
            physics.index,
            physics.run,
            physics.lumi,
            physics.event,
            physics.source,
            path,
            dict(physics.counts),
        )


@dataclass
class RenderSummary:
    results: list[EventResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[EventResult]:
        return [r for r in self.results if not r.skipped]
