"""The per-event output service every job uses: file names, clashes and existing files checked
before anything is made, the output folder, and the metadata written into each file.

Names come from the style's ``output.name_template`` with the fields run, lumi, event, index,
entry and source; the ids are those the source read once for the whole run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ispyrender import __version__
from ispyrender.config.style import Style
from ispyrender.errors import OutputError
from ispyrender.outputs.files import check_template, file_name, prepare_folder
from ispyrender.sources.base import EventHeader, EventSource, source_stem

__all__ = ["DEFAULT_TEMPLATE", "OutputPlan", "event_metadata", "plan_outputs"]

DEFAULT_TEMPLATE = "{run}_{lumi}_{event}.png"
#: Inputs without run/event numbers: their events are named by input and entry instead.
ENTRY_TEMPLATE = "{source}_{entry}.png"


@dataclass
class OutputPlan:
    """Where each selected event's files go: ``paths[index][suffix]``."""

    out: Path
    paths: dict[int, dict[str, Path]] = field(default_factory=dict)
    skip_existing: bool = False

    def path(self, index: int, suffix: str | None = None) -> Path:
        """The file of ``index`` with ``suffix`` (the first one planned by default)."""
        files = self.paths[index]
        return files[suffix] if suffix is not None else next(iter(files.values()))

    def done(self, index: int) -> bool:
        """With skip_existing: every file of this event exists already."""
        return self.skip_existing and all(p.exists() for p in self.paths[index].values())

    def todo(self, entries: Sequence[int]) -> list[int]:
        return [e for e in entries if not self.done(e)]

    def prepare(self) -> Path:
        """Create the output folder and prove it can be written (after the plan was made)."""
        return prepare_folder(self.out)


def name_fields(source: EventSource, index: int) -> dict[str, object]:
    ids = source.ids()
    span, entry = source.locate(index)
    return {
        "run": int(ids.run[index]),
        "lumi": None if ids.lumi is None else int(ids.lumi[index]),
        "event": int(ids.event[index]),
        "index": index,
        "entry": entry,
        "source": source_stem(span.path),
    }


def plan_outputs(
    source: EventSource,
    entries: Sequence[int],
    style: Style,
    out: Path,
    suffixes: Sequence[str],
    *,
    overwrite: bool = False,
    skip_existing: bool = False,
) -> OutputPlan:
    """The files of every selected event, checked up front: a malformed template, two events
    with one name, or files that exist (unless ``overwrite``/``skip_existing``) fail before
    anything is written."""
    template = style.output.name_template
    check_template(template, ".png")
    if template == DEFAULT_TEMPLATE and source.ids().synthetic:
        template = ENTRY_TEMPLATE
    plan = OutputPlan(out, skip_existing=skip_existing)
    seen: dict[Path, int] = {}
    for idx in entries:
        base = file_name(template, name_fields(source, idx))
        files = {s: out / str(Path(base).with_suffix(s)) for s in suffixes}
        first = files[suffixes[0]]
        if first in seen:
            raise OutputError(
                f"entries {seen[first]} and {idx} would both be written to {first.name}: "
                "add {index} to output.name_template (--set output.name_template="
                "'{run}_{lumi}_{event}_{index}.png')"
            )
        seen[first] = idx
        plan.paths[idx] = files
    if not overwrite and not skip_existing:
        existing = [p for files in plan.paths.values() for p in files.values() if p.exists()]
        if existing:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise OutputError(
                f"{existing[0]}{more} already exist: pass --overwrite to replace them "
                "or --skip-existing to keep them and render the rest"
            )
    return plan


def event_metadata(event: EventHeader, style: Style) -> dict[str, str]:
    """What every file of an event records about it (PNG text chunks, PDF/SVG metadata)."""
    text = {
        "Software": f"ispyrender {__version__}",
        "ispyrender.run": str(event.run),
        "ispyrender.lumi": "unknown" if event.lumi is None else str(event.lumi),
        "ispyrender.event": str(event.event),
        "ispyrender.entry": str(event.entry),
        "ispyrender.input": event.source,
        "ispyrender.style": style.name,
        "ispyrender.style_digest": style.digest(),
        "ispyrender.version": __version__,
    }
    time = getattr(event, "time", None)
    if time:
        text["ispyrender.time"] = str(time)
    return text
