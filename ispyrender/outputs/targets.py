"""The per-event output service every job uses: file names, clashes and existing files checked
before anything is made, the output folder, and the metadata written into each file.

Names come from the style's ``output.name_template`` with the fields run, lumi, event, index,
entry and source; the ids are those the source read once for the whole run.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ispyrender import __version__
from ispyrender.config.style import NAME_MAX, Style, check_name_template
from ispyrender.errors import OutputError, StyleError
from ispyrender.outputs.files import prepare_folder, printable
from ispyrender.sources.base import EventHeader, EventSource, source_stem

__all__ = ["DEFAULT_TEMPLATE", "OutputPlan", "event_metadata", "plan_outputs"]

DEFAULT_TEMPLATE = "{run}_{lumi}_{event}.png"
#: Inputs without run/event numbers: their events are named by input and entry instead.
ENTRY_TEMPLATE = "{source}_{entry}.png"
#: Bytes a file's stem must leave free in a file name: the longest suffix a stem is given
#: (".webm", ".html", ".json") and what the temporary it is written under first adds
#: (".NAME.XXXXXXXX.irtmp", outputs.files.temporary_file, 16 bytes, movies too): with it, every
#: format and command can use the same template.
STEM_RESERVE = 5 + 16
#: The longest path the kernel takes (PATH_MAX, with its terminating NUL).
PATH_MAX = 4096


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


def format_name(template: str, fields: Mapping[str, object]) -> str:
    """A file name from a template that :func:`check_name_template` accepted: numbers with
    their width, a missing value (a file without lumi sections) as "na" whatever its width."""
    parts: list[str] = []
    for literal, name, spec, _conversion in string.Formatter().parse(template):
        parts.append(literal)
        if name is None:
            continue
        value = fields[name]
        if value is None:
            parts.append("na")
        elif spec and isinstance(value, int):
            parts.append(format(value, spec))
        else:
            parts.append(str(value))
    return "".join(parts)


def shown_name(name: str, limit: int = 60) -> str:
    """A long (or undecodable) file name for a one-line message: its start and its end."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    if len(text) > limit:
        text = f"{text[: limit - 20]}...{text[-17:]}"
    return repr(text)


def _name_limit(folder: Path) -> int:
    """The file-name limit (bytes) of the file system ``folder`` is, or will be, on."""
    for place in (folder, *folder.parents):
        try:
            if place.is_dir():
                return min(NAME_MAX, os.pathconf(place, "PC_NAME_MAX"))
        except (OSError, ValueError):
            continue
    return NAME_MAX


def check_folder_name(out: Path) -> int:
    """Refuse an output folder whose names the system cannot take; the file-name limit."""
    full = Path(os.path.abspath(out))
    for part in full.parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise OutputError(
                f"output folder name {shown_name(part)} is {size} bytes, over the limit of "
                f"{NAME_MAX} bytes per name: choose a shorter --out"
            )
    # The longest name a run puts in it: a file's stem, its suffix and temporary name.
    longest = len(os.fsencode(full)) + 1 + STEM_RESERVE + 16
    if longest > PATH_MAX - 1:
        raise OutputError(
            f"output folder {shown_name(str(full))} is {len(os.fsencode(full))} bytes long: "
            f"with the names of its files, over the limit of {PATH_MAX - 1} bytes per path; "
            "choose a shorter --out"
        )
    return _name_limit(full)


def check_file_name(path: Path, limit: int, template: str) -> None:
    """Refuse a planned file whose name or path, while it is written under its temporary
    name, would be longer than the system takes (ENAMETOOLONG from deep in a writer)."""
    stem = len(os.fsencode(path.stem))
    if stem + STEM_RESERVE > limit:
        hint = "shorten output.name_template"
        if "{source}" in template:
            hint += " or the input file's name (it is the template's {source})"
        raise OutputError(
            f"output file name {shown_name(path.name)} is too long: {stem} bytes before its "
            f"suffix, where at most {limit - STEM_RESERVE} fit ({limit} bytes per file name, "
            f"less {STEM_RESERVE} for a suffix and the temporary name it is written under): "
            f"{hint}"
        )
    full = len(os.fsencode(os.path.abspath(path))) - len(os.fsencode(path.suffix))
    if full + STEM_RESERVE >= PATH_MAX:
        raise OutputError(
            f"output path {shown_name(os.path.abspath(path))} is too long: {full} bytes before "
            f"its suffix, over the limit of {PATH_MAX - 1} bytes per path with the "
            f"{STEM_RESERVE} bytes a suffix and the temporary name add: choose a shorter --out"
        )


def plan_outputs(
    source: EventSource,
    entries: Sequence[int],
    style: Style,
    out: Path,
    suffixes: Sequence[str],
    *,
    overwrite: bool = False,
    skip_existing: bool = False,
    kind: str | None = None,
) -> OutputPlan:
    """The files of every selected event, checked up front: a malformed template, two events
    with one name, or files that exist (unless ``overwrite``/``skip_existing``) fail before
    anything is written. ``kind`` (a movie's: turntable, collision) is added to the default
    names, so that two kinds of movie of one event do not take one name."""
    template = style.output.name_template
    try:
        check_name_template(template)  # the style checked it; a model_construct()ed one not
    except ValueError as exc:
        raise StyleError(f"output.name_template: {exc}") from None
    if template == DEFAULT_TEMPLATE and source.ids().synthetic:
        template = ENTRY_TEMPLATE
    if kind and template in (DEFAULT_TEMPLATE, ENTRY_TEMPLATE):
        template = template.removesuffix(".png") + f"_{kind}.png"
    limit = check_folder_name(out)
    plan = OutputPlan(out, skip_existing=skip_existing)
    seen: dict[Path, int] = {}
    for idx in entries:
        base = Path(format_name(template, name_fields(source, idx)))
        files = {s: out / base.with_suffix(s).name for s in suffixes}
        for path in files.values():
            check_file_name(path, limit, template)
        first = files[suffixes[0]]
        if first in seen:
            raise OutputError(
                f"entries {seen[first]} and {idx} would both be written to {first.name}: "
                "add {index} to output.name_template (--set output.name_template="
                "'{run}_{lumi}_{event}_{index}.png')"
            )
        seen[first] = idx
        plan.paths[idx] = files
    try:
        # A folder where a file is to go is neither "kept" nor replaced: say so.
        folders = [p for files in plan.paths.values() for p in files.values() if p.is_dir()]
    except OSError:
        folders = []  # an unreadable folder is reported below, where it is looked into
    if folders:
        more = f" (and {len(folders) - 1} more)" if len(folders) > 1 else ""
        raise OutputError(
            f"{folders[0]} is a folder where an output file is to be written{more}: move it "
            "away or choose another --out"
        )
    if not overwrite and not skip_existing:
        try:
            existing = [p for files in plan.paths.values() for p in files.values() if p.exists()]
        except OSError as exc:
            raise OutputError(
                f"cannot look into output folder {out} ({exc.strerror or exc}): choose a "
                "writable --out"
            ) from None
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
        "ispyrender.input": printable(event.source),
        "ispyrender.style": printable(style.name),
        "ispyrender.style_digest": style.digest(),
        "ispyrender.version": __version__,
    }
    time = getattr(event, "time", None)
    if time:
        text["ispyrender.time"] = str(time)
    return text
