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
from ispyrender.sources.remote import is_url, raise_if_connection_failed

_NAN = re.compile(r"(?<![A-Za-z_\"])-?nan(?![A-Za-z_\"])")

#: The most bytes one member of an .ig file may inflate to. The largest event of the real file
#: in the tests is 0.9 MB of JSON and busy Run 3 events with every rec hit are a few MB, so
#: 256 MB leaves room for any event iSpy writes while a damaged or hostile archive (a "zip
#: bomb": megabytes that inflate to gigabytes) stops after 256 MB instead of filling memory.
MAX_MEMBER_BYTES = 256 << 20
#: iSpy documents are 5 levels deep (document, section, collection, row, 3-vector); deeper
#: JSON is not iSpy's, and refused before the parser's recursion could fail on it.
MAX_JSON_DEPTH = 32
#: The compression methods iSpy writes (and zipfile reads within a bounded memory).
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
#: Every byte but brackets and braces, deleted to measure the nesting depth.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
#: Run, lumi section and event numbers must fit the int64 arrays the ids are kept in.
_MAX_ID = 2**63 - 1


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


def _depth(raw: bytes) -> int:
    """How deeply brackets and braces nest in ``raw`` (those inside strings counted too, which
    can only make it look deeper: iSpy's strings hold names and times)."""
    kept = raw.translate(None, _NOT_BRACKETS)
    top = level = 0
    block = 1 << 22
    for start in range(0, len(kept), block):
        part = np.frombuffer(kept, np.uint8, min(block, len(kept) - start), start)
        steps = np.where((part == ord("[")) | (part == ord("{")), 1, -1).astype(np.int32)
        levels = level + np.cumsum(steps)
        top = max(top, int(levels.max()))
        level = int(levels[-1])
    return top


def _loads(text: str) -> Any:
    """iSpy's JSON: bare nan tokens allowed; nesting deeper than iSpy's refused (ValueError)."""
    depth = _depth(text.encode("utf-8", "replace"))
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested {depth} levels deep; iSpy writes at most 5")
    try:
        return json.loads(_NAN.sub("NaN", text))
    except RecursionError:  # brackets hidden in strings fooled the count: still refused
        raise ValueError("JSON nested too deeply for iSpy") from None


def _event_id(value: Any, what: str) -> int:
    """A run, lumi section or event number: a whole number that fits in 64 bits."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"the {what} number is {type(value).__name__}, not a number")
    try:
        number = int(value)
    except (ValueError, OverflowError):
        raise ValueError(f"the {what} number {str(value)[:40]!r} is not a whole number") from None
    if not 0 <= number <= _MAX_ID:
        raise ValueError(f"the {what} number {number} is out of range")
    return number


def _section(doc: dict[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise ValueError(f"{name} is a {type(value).__name__}, not an object")
    return value


def parse_event(text: str, index: int = 0, source: str = "", entry: int = 0) -> IgEvent:
    """One event document. Anything that is not iSpy's layout (a list or null document,
    sections or rows of the wrong type, ids that are not whole numbers) is a ValueError that
    says where; the column values themselves are checked where they are used."""
    doc = _loads(text)
    if not isinstance(doc, dict):
        raise ValueError(f"the document is a {type(doc).__name__}, not an object")
    types = _section(doc, "Types")
    collections: dict[str, list[dict[str, Any]]] = {}
    for name, rows in _section(doc, "Collections").items():
        declared = types.get(name, [])
        if not isinstance(declared, list) or not all(
            isinstance(c, list) and c and isinstance(c[0], str) for c in declared
        ):
            raise ValueError(f"Types.{name} is not a list of [column, type] pairs")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ValueError(f"Collections.{name} is not a list of rows")
        columns = [c[0] for c in declared]
        collections[name] = [dict(zip(columns, row, strict=False)) for row in rows]
    associations: dict[str, list[tuple[int, int]]] = {}
    for name, pairs in _section(doc, "Associations").items():
        try:
            associations[name] = [(int(a[0][1]), int(a[1][1])) for a in pairs]
        except (TypeError, ValueError, IndexError, KeyError, OverflowError):
            raise ValueError(f"Associations.{name} is not a list of index pairs") from None
    header: list[dict[str, Any]] = next(
        (v for k, v in collections.items() if k.startswith("Event_V")), [{}]
    )
    info = header[0] if header else {}
    time = info.get("time")
    return IgEvent(
        index=index,
        source=source,
        run=_event_id(info.get("run", 0), "run"),
        lumi=_event_id(info["ls"], "lumi section") if "ls" in info else None,
        event=_event_id(info.get("event", index), "event"),
        time=time if isinstance(time, str) else None,
        collections=collections,
        associations=associations,
        entry=entry,
    )


# The event header ("Event_V2": run, event, ls, ...) in Types and in Collections: enough to
# know an event's identity without parsing megabytes of rec hits.
# A header is a few hundred characters: the bound keeps a damaged file from making the search
# scan the rest of the document from every "Event_V" it holds.
_HEADER = re.compile(r'"Event_V\d+"\s*:\s*(\[\s*\[.{0,4096}?\]\s*\])', re.DOTALL)


def _header_ids(text: str, fallback_event: int) -> tuple[int, int | None, int] | None:
    """The ids from the header alone; None when it is not found or not as expected (then the
    whole event is parsed, and what is wrong with it said)."""
    found = _HEADER.findall(text)
    if len(found) < 2:
        return None
    try:
        columns = [c[0] for c in _loads(found[0])]
        row = _loads(found[1])[0]
        info = dict(zip(columns, row, strict=False))
        lumi = _event_id(info["ls"], "lumi section") if "ls" in info else None
        run = _event_id(info.get("run", 0), "run")
        return run, lumi, _event_id(info.get("event", fallback_event), "event")
    except (ValueError, IndexError, TypeError, KeyError):
        return None


class _RemoteZip(zipfile.ZipFile):
    """A zip archive on a server: closing it closes its connection too (ZipFile leaves a file
    object it was given open)."""

    def __init__(self, url: str) -> None:
        from ispyrender.sources.remote import open_remote

        # Set first: ZipFile.__del__ closes even an archive whose __init__ failed.
        self._remote: Any = None
        self._remote = open_remote(url)
        try:
            super().__init__(self._remote)
        except BaseException:
            self._remote.close()
            raise

    def close(self) -> None:
        try:
            if hasattr(self, "fp"):  # set by ZipFile.__init__
                super().close()
        finally:
            if self._remote is not None:
                self._remote.close()


def _zip(path: str) -> zipfile.ZipFile:
    """The archive at ``path``, a local file or a URL (read by byte ranges)."""
    return _RemoteZip(path) if is_url(path) else zipfile.ZipFile(path)


def _damaged_zip(path: str, exc: Exception) -> InputError:
    raise_if_connection_failed(path, exc)  # a server that went away is not a damaged file
    reason = " ".join(str(exc).split())[:160] or type(exc).__name__
    return InputError(
        f"input {path!r} is a damaged or truncated zip archive (its directory cannot be read: "
        f"{reason}); download or copy it again"
    )


def is_ispy_file(path: str) -> bool:
    """A zip archive with a Header member or an Events/ folder: what iSpy writes. Called on
    files that start as a zip archive does: one whose directory cannot be read was cut short
    or damaged (InputError)."""
    try:
        with _zip(path) as archive:
            names = archive.namelist()
    except InputError:
        raise
    except OSError:
        return False  # unreadable: the NanoAOD reader's checks say why
    except Exception as exc:  # BadZipFile, and what a damaged directory makes zipfile raise
        raise _damaged_zip(path, exc) from None
    return "Header" in names or any(n.startswith("Events/") for n in names)


class UnreadableEvent(InputError):
    """An event of an .ig file that cannot be read or is not iSpy JSON. ``entries`` holds its
    global entry number, so that a batch fails that event and reads the others."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.entries = range(index, index + 1)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.args[0], self.entries.start)


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """One member's bytes, never more than MAX_MEMBER_BYTES whatever its header claims (an
    InputError past that), and only in the compression methods iSpy writes."""
    info = archive.getinfo(name)
    limit = f"{MAX_MEMBER_BYTES >> 20} MB"
    if info.compress_type not in _METHODS:
        raise InputError(
            f"it is compressed with zip method {info.compress_type}, which iSpy does not "
            "write; the file is damaged or not iSpy's: download or copy it again"
        )
    if info.file_size > MAX_MEMBER_BYTES:
        raise InputError(
            f"it says it inflates to {info.file_size} bytes, more than the {limit} an iSpy "
            "event can be; the file is damaged: download or copy it again"
        )
    with archive.open(info) as member:
        data = member.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:  # the header lied
        raise InputError(
            f"it inflates to more than the {limit} an iSpy event can be; the file is "
            "damaged: download or copy it again"
        )
    return data


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
        except InputError:
            raise
        except (zipfile.BadZipFile, OSError) as exc:
            raise_if_connection_failed(path, exc)
            raise InputError(
                f"input {path!r} is not an iSpy .ig file (not a zip archive: {exc})"
            ) from None
        except Exception as exc:  # a damaged directory (bad names, extra fields)
            raise _damaged_zip(path, exc) from None
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
            archive = self._archives[path]
        except InputError:
            raise
        except Exception as exc:  # changed since it was listed
            raise _damaged_zip(path, exc) from None
        try:
            data = _read_member(archive, name)
        except InputError as exc:
            raise UnreadableEvent(f"cannot read {name} from {path!r}: {exc}", index) from None
        except Exception as exc:  # bad CRC, damaged deflate data, a truncated member...
            raise_if_connection_failed(path, exc)
            reason = " ".join(str(exc).split())[:160] or type(exc).__name__
            raise UnreadableEvent(
                f"cannot read {name} from {path!r} ({type(exc).__name__}: {reason}); the file "
                "is damaged: download or copy it again",
                index,
            ) from None
        return data.decode("utf-8", errors="replace")

    def close(self) -> None:
        for archive in self._archives.values():
            archive.close()
        self._archives.clear()

    def event(self, index: int) -> IgEvent:
        if not 0 <= index < len(self._entries):
            raise IndexError(index)
        path, name, entry = self._entries[index]
        text = self._text(index)  # its errors say what they are; only parsing is judged here
        try:
            return parse_event(text, index, path, entry)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            reason = " ".join(str(exc).split())[:160]
            raise UnreadableEvent(
                f"event {name} in {path!r} is not valid iSpy JSON ({reason}); the file is "
                "damaged or not written by iSpy: download or copy it again",
                index,
            ) from None

    def __getitem__(self, index: int) -> IgEvent:
        return self.event(index)

    def ids(self) -> EventIds:
        if self._ids is None:
            rows: list[tuple[int, int | None, int]] = []
            for i in range(len(self._entries)):
                try:
                    found = _header_ids(self._text(i), i)
                    if found is None:  # an unusual layout: parse the whole event
                        ev = self.event(i)
                        found = (ev.run, ev.lumi, ev.event)
                except InputError:
                    # A damaged event: named from its member ("Events/Run_R/Event_E"), lumi 0,
                    # so that it alone fails when it is read, not the whole file.
                    named = re.search(r"Run_(\d{1,18})/Event_(\d{1,18})", self._entries[i][1])
                    found = (int(named[1]), 0, int(named[2])) if named else (0, 0, i)
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
