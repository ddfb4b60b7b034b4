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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ispyrender.errors import InputError

_NAN = re.compile(r"(?<![A-Za-z_\"])-?nan(?![A-Za-z_\"])")


@dataclass(frozen=True)
class IgEvent:
    index: int
    source: str
    run: int
    lumi: int | None
    event: int
    time: str | None
    collections: dict[str, list[dict[str, Any]]]
    associations: dict[str, list[tuple[int, int]]]

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


def parse_event(text: str, index: int = 0, source: str = "") -> IgEvent:
    doc = json.loads(_NAN.sub("NaN", text))
    types: dict[str, list[list[str]]] = doc.get("Types", {})
    collections: dict[str, list[dict[str, Any]]] = {}
    for name, rows in doc.get("Collections", {}).items():
        columns = [c[0] for c in types.get(name, [])]
        collections[name] = [dict(zip(columns, row, strict=False)) for row in rows]
    associations = {
        name: [(int(a[0][1]), int(a[1][1])) for a in pairs]
        for name, pairs in doc.get("Associations", {}).items()
    }
    header = next((v for k, v in collections.items() if k.startswith("Event_V")), [{}])
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
    )


class IgFile:
    """The events of one or more .ig files, read one at a time."""

    def __init__(self, paths: list[str]) -> None:
        self._entries: list[tuple[str, str]] = []
        for path in paths:
            p = Path(path)
            if not p.exists():
                raise InputError(f"input file {path!r} does not exist; check the path")
            if p.is_dir():
                raise InputError(f"input {path!r} is a directory; pass the .ig files in it")
            try:
                with zipfile.ZipFile(p) as archive:
                    names = [
                        n
                        for n in archive.namelist()
                        if n.startswith("Events/") and not n.endswith("/")
                    ]
            except (zipfile.BadZipFile, OSError) as exc:
                raise InputError(
                    f"input {path!r} is not an iSpy .ig file (not a zip archive: {exc})"
                ) from None
            if not names:
                raise InputError(f"iSpy file {path!r} holds no events (no Events/ folder)")
            self._entries.extend((path, n) for n in names)

    def __len__(self) -> int:
        return len(self._entries)

    def event(self, index: int) -> IgEvent:
        path, name = self._entries[index]
        with zipfile.ZipFile(path) as archive:
            text = archive.read(name).decode("utf-8", errors="replace")
        try:
            return parse_event(text, index, path)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise InputError(f"event {name} in {path!r} is not valid iSpy JSON ({exc})") from None

    def ids(self) -> list[tuple[int, int | None, int]]:
        """(run, lumi, event) of every event, from the entry names (run, event) and headers."""
        out = []
        for i in range(len(self)):
            ev = self.event(i)
            out.append((ev.run, ev.lumi, ev.event))
        return out
