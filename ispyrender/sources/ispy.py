"""Reading iSpy event files (.ig).

An .ig file is a zip archive with one JSON document per event under ``Events/Run_R/Event_E``.
Each document lists ``Types`` (the columns of each collection), ``Collections`` (rows) and
``Associations`` (links such as track -> its Bezier "extras"). The JSON is not strict: iSpy
writes bare ``nan`` tokens, which are turned into JSON's ``NaN`` before parsing. Positions are
in metres and energies in GeV, as in ispyrender.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ispyrender.errors import InputError
from ispyrender.sources.base import EventIds, EventSource, InputSpan
from ispyrender.sources.paths import check_local_file
from ispyrender.sources.remote import is_url

_NAN = re.compile(r"(?<![A-Za-z_\"])-?nan(?![A-Za-z_\"])")


@dataclass(frozen=True)
class IgEvent:
    """One iSpy event: its identity and its collections as rows of named columns."""

    index: int  # global entry number across all inputs
    source: str
    run: int
    lumi: int | None
    event: int
    time: str | None
    collections: dict[str, list[dict[str, Any]]]
    associations: dict[str, list[tuple[int, int]]]
    entry: int = 0  # entry number within its file
    # .ig files are written by iSpy's analyzers from reconstructed collision data.
    is_simulation: bool = False

    def rows(self, name: str) -> list[dict[str, Any]]:
        """Rows of the first collection whose name starts with ``name`` (any version)."""
        for key, rows in self.collections.items():
            if key == name or key.startswith(name + "_V"):
                return rows
        return []

    def links(self, name: str) -> list[tuple[int, int]]:
        """(object index, linked row index) pairs of an association, any version."""
        for key, pairs in self.associations.items():
            if key == name or key.startswith(name + "_V"):
                return pairs
        return []


def _loads(text: str) -> Any:
    return json.loads(_NAN.sub("NaN", text))


def parse_event(text: str, index: int = 0, source: str = "", entry: int = 0) -> IgEvent:
    doc = _loads(text)
    types: dict[str, list[list[str]]] = doc.get("Types", {})
    collections: dict[str, list[dict[str, Any]]] = {}
    for name, rows in doc.get("Collections", {}).items():
        columns = [c[0] for c in types.get(name, [])]
        collections[name] = [dict(zip(columns, row, strict=False)) for row in rows]
    associations = {
        name: [(int(a[0][1]), int(a[1][1])) for a in pairs]
        for name, pairs in doc.get("Associations", {}).items()
    }
    header: list[dict[str, Any]] = next(
        (v for k, v in collections.items() if k.startswith("Event_V")), [{}]
    )
    info = header[0] if header else {}
    return IgEvent(
        index=index,
        source=source,
        run=int(info.get("run", 0)),
        lumi=int(info["ls"]) if "ls" in info else None,
        event=int(info.get("event", index)),
        time=info.get("time"),
        collections=collections,
        associations=associations,
        entry=entry,
    )


# The event header ("Event_V2": run, event, ls, ...) in Types and in Collections: enough to
# know an event's identity without parsing megabytes of rec hits.
_HEADER = re.compile(r'"Event_V\d+"\s*:\s*(\[\s*\[.*?\]\s*\])', re.DOTALL)


def _header_ids(text: str, fallback_event: int) -> tuple[int, int | None, int] | None:
    found = _HEADER.findall(text)
    if len(found) < 2:
        return None
    try:
        columns = [c[0] for c in _loads(found[0])]
        row = _loads(found[1])[0]
    except (ValueError, IndexError, TypeError):
        return None
    info = dict(zip(columns, row, strict=False))
    try:
        lumi = int(info["ls"]) if "ls" in info else None
        return int(info.get("run", 0)), lumi, int(info.get("event", fallback_event))
    except (TypeError, ValueError):
        return None


def _zip(path: str) -> zipfile.ZipFile:
    """The archive at ``path``, a local file or a URL (read by byte ranges)."""
    if is_url(path):
        from ispyrender.sources.remote import open_remote

        return zipfile.ZipFile(open_remote(path))
    return zipfile.ZipFile(path)


def is_ispy_file(path: str) -> bool:
    """A zip archive with a Header member or an Events/ folder: what iSpy writes."""
    try:
        with _zip(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return "Header" in names or any(n.startswith("Events/") for n in names)


class IspySource(EventSource):
    """The events of one or more iSpy ``.ig`` files, read one at a time."""

    kind = "iSpy"

    def __init__(
        self,
        paths: Sequence[str],
        on_error: Callable[[str, InputError], None] | None = None,
    ) -> None:
        self._entries: list[tuple[str, str, int]] = []  # (file, member, entry in file)
        self._ids: EventIds | None = None
        self._archives: dict[str, zipfile.ZipFile] = {}
        self.inputs = []
        self.is_simulation = False
        for path in paths:
            try:
                self._add(path)
            except InputError as exc:
                if on_error is None:
                    raise
                on_error(path, exc)

    def _add(self, path: str) -> None:
        """Check one input and list its events."""
        if not is_url(path):
            check_local_file(path)
        try:
            with _zip(path) as archive:
                names = [
                    n for n in archive.namelist() if n.startswith("Events/") and not n.endswith("/")
                ]
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(
                f"input {path!r} is not an iSpy .ig file (not a zip archive: {exc})"
            ) from None
        if not names:
            raise InputError(f"iSpy file {path!r} holds no events (no Events/ folder)")
        self.inputs.append(InputSpan(path, len(names), len(self._entries)))
        self._entries.extend((path, n, i) for i, n in enumerate(names))

    def _text(self, index: int) -> str:
        path, name, _ = self._entries[index]
        try:
            # One open archive per file for the whole job: its directory is read once.
            if path not in self._archives:
                self._archives[path] = _zip(path)
            return self._archives[path].read(name).decode("utf-8", errors="replace")
        except (zipfile.BadZipFile, OSError, KeyError) as exc:
            raise InputError(f"cannot read {name} from {path!r} ({exc}); copy it again") from None

    def close(self) -> None:
        for archive in self._archives.values():
            archive.close()
        self._archives.clear()

    def event(self, index: int) -> IgEvent:
        if not 0 <= index < len(self._entries):
            raise IndexError(index)
        path, name, entry = self._entries[index]
        try:
            return parse_event(self._text(index), index, path, entry)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise InputError(f"event {name} in {path!r} is not valid iSpy JSON ({exc})") from None

    def __getitem__(self, index: int) -> IgEvent:
        return self.event(index)

    def ids(self) -> EventIds:
        if self._ids is None:
            rows = []
            for i in range(len(self._entries)):
                found = _header_ids(self._text(i), i)
                if found is None:  # an unusual layout: parse the whole event
                    ev = self.event(i)
                    found = (ev.run, ev.lumi, ev.event)
                rows.append(found)
            with_lumi = all(r[1] is not None for r in rows)
            self._ids = EventIds(
                np.array([r[0] for r in rows], dtype=np.int64),
                np.array([r[1] for r in rows], dtype=np.int64) if with_lumi else None,
                np.array([r[2] for r in rows], dtype=np.int64),
            )
        return self._ids

    def read(self, entries: Sequence[int], branches: Iterable[str] = ()) -> Iterator[IgEvent]:
        for index in entries:
            yield self.event(index)
