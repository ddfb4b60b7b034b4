"""What a job reports about each event it made, for progress bars and summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class RenderSummary:
    results: list[EventResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[EventResult]:
        return [r for r in self.results if not r.skipped]
