"""Reading NanoAOD inputs: validation up front, then chunked, branch-limited event iteration.

A :class:`Dataset` is a list of ROOT files (or ``root://``/``https://`` URLs) seen as one
sequence of events numbered globally in the order the inputs were given. Everything the user
could get wrong about an input is found in the constructor and reported as one-line
:class:`~ispyrender.errors.InputError`, so that later stages only meet readable NanoAOD.

Reading is chunked (``entry_start``/``entry_stop``) and limited to the branches asked for, so
memory stays flat whatever the size of the file; each chunk is converted to numpy once per
branch and events are then cut out of it by slicing, which is much faster than per-event
awkward record access.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import awkward as ak
import numpy as np
import uproot

from ispyrender.errors import InputError
from ispyrender.sources.base import EventIds, EventSource, InputSpan
from ispyrender.sources.paths import check_local_file, expand_inputs, is_url
from ispyrender.sources.remote import raise_if_connection_failed

__all__ = [
    "EVENT_ID_BRANCHES",
    "Column",
    "Dataset",
    "EventRecord",
    "InputInfo",
    "UnreadableEntries",
]

#: Branches that identify an event; always read alongside whatever was asked for.
EVENT_ID_BRANCHES = ("run", "luminosityBlock", "event")

# RNTuples imported from TTrees expose each collection a second time as a record field
# "_collectionNN" (with "_collectionNN.Muon_pt" sub-fields); the flat names carry the same data.
_HIDDEN_PREFIX = "_collection"


@dataclass(frozen=True)
class EventRecord:
    """One event: where it comes from, its identity, and the values of the requested branches."""

    index: int  # global entry number counted across all inputs (in order given)
    source: str  # the input path or URL as given
    entry: int  # entry number within that input
    run: int
    lumi: int | None  # None when the file has no luminosityBlock
    event: int
    is_simulation: bool
    # branch name -> numpy 1D array (jagged branches) or numpy scalar (scalar branches)
    values: dict[str, Any] = field(repr=False)
    # False for an input without run and event numbers (run 0, the entry as the event).
    has_ids: bool = True


@dataclass(frozen=True)
class InputInfo(InputSpan):
    """What the constructor learnt about one input while validating it."""

    branches: frozenset[str]
    storage: Literal["TTree", "RNTuple"]
    compression: str | None  # e.g. "ZLIB(1)", "LZMA(9)"; None when uncompressed or unknown
    has_runs_tree: bool

    @property
    def has_ids(self) -> bool:
        return "run" in self.branches and "event" in self.branches

    @property
    def has_lumi(self) -> bool:
        return "luminosityBlock" in self.branches

    @property
    def is_simulation(self) -> bool:
        # Simulation carries generator weights and the generator record; collision data neither.
        return "genWeight" in self.branches or "GenPart_pt" in self.branches


@dataclass(frozen=True)
class Column:
    """One branch of one chunk, converted to numpy once.

    Scalar branches have ``offsets is None`` and one value per entry in ``content``; jagged
    branches have ``content`` flat and ``offsets`` of length entries + 1.
    """

    content: np.ndarray
    offsets: np.ndarray | None

    def __len__(self) -> int:
        return len(self.content) if self.offsets is None else len(self.offsets) - 1

    def counts(self) -> np.ndarray:
        """Per-entry multiplicity of a jagged branch (1 for scalars)."""
        if self.offsets is None:
            return np.ones(len(self.content), dtype=np.int64)
        return np.diff(self.offsets)

    def value(self, i: int) -> Any:
        if self.offsets is None:
            return self.content[i]
        # Copy so that a record kept by a consumer does not pin the whole chunk in memory.
        return self.content[self.offsets[i] : self.offsets[i + 1]].copy()


class UnreadableEntries(InputError):
    """Entries of an input whose data cannot be read (a damaged basket or page).

    ``entries`` are the global entry numbers of the read that failed, so that a batch can
    record those events as failed and read the others."""

    def __init__(self, message: str, entries: range) -> None:
        super().__init__(message)
        self.entries = entries

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.args[0], self.entries)


def _reason(exc: BaseException) -> str:
    """A short account of what uproot, zlib or awkward said, without uproot's multi-line
    dumps (DeserializationError) or its "in file ..." tails."""
    text = getattr(exc, "message", None)  # DeserializationError keeps the point here
    if not isinstance(text, str):
        text = str(exc)
    text = text.split("\nin file ")[0]
    text = " ".join(text.split())
    if len(text) > 120:
        text = text[:117] + "..."
    kind = type(exc).__name__
    if kind.islower():  # zlib.error, not "error"
        kind = f"{type(exc).__module__}.{kind}"
    return f"{kind}: {text}" if text else kind


def _unreadable(path: str, what: str, exc: Exception) -> str:
    """One line for a failure to read ``what`` of ``path`` after it was opened."""
    if isinstance(exc, MemoryError):
        # Reads are chunked, so a chunk of one branch larger than memory means a size field
        # that lies: a damaged file (or a machine with almost no memory left).
        return (
            f"ROOT file {path!r} is damaged: {what} claims more memory than there is; "
            "download or copy it again"
        )
    return (
        f"ROOT file {path!r} is damaged: {what} cannot be read ({_reason(exc)}); download or "
        "copy it again"
    )


def _open_root(path: str) -> Any:
    """uproot's file; on a server, with every wait bounded (:mod:`ispyrender.sources.remote`)."""
    if not is_url(path):
        return uproot.open(path)
    from ispyrender.sources.remote import open_options, readable

    local = readable(path)  # a whole download where the server reads no byte ranges
    if local != path:
        return uproot.open(local)
    return uproot.open(path, **open_options(path))


def _check_local_file(path: str) -> None:
    """Cheap checks on the bytes before uproot sees the file, for precise messages."""
    p = Path(path)
    check_local_file(path)
    size = p.stat().st_size
    try:
        with p.open("rb") as fh:
            header = fh.read(64)
    except OSError as exc:
        raise InputError(
            f"cannot read input file {path!r} ({exc.strerror}); check its permissions"
        ) from exc
    # "root" alone is not enough: a text file can start with it (/etc/passwd does). The
    # signature is followed by the ROOT version, e.g. 62406, plus 1000000 for large files.
    version = struct.unpack(">i", header[4:8])[0] if len(header) >= 8 else -1
    if header[:4] != b"root" or not 20_000 <= version % 1_000_000 < 200_000:
        raise InputError(
            f"input {path!r} is not a ROOT file (it does not start with the ROOT signature); "
            "pass a NanoAOD .root file"
        )
    # The header records where the file ends (fEND); a smaller file was cut short in transfer.
    if len(header) >= 20:
        if version >= 1_000_000 and len(header) >= 24:
            end = struct.unpack(">q", header[12:20])[0]
        else:
            end = struct.unpack(">i", header[12:16])[0]
        if end > size:
            raise InputError(
                f"ROOT file {path!r} is truncated ({size} of {end} bytes); download or copy "
                "it again"
            )
    else:
        raise InputError(
            f"ROOT file {path!r} is truncated ({size} bytes); download or copy it again"
        )


def _branch_names(tree: Any) -> frozenset[str]:
    # recursive=False: NanoAOD branches are flat, and on RNTuples the recursive listing walks
    # every sub-field of the duplicated "_collectionNN" records (seconds instead of milliseconds).
    names = tree.keys(recursive=False)
    return frozenset(k for k in names if not k.startswith(_HIDDEN_PREFIX) and "." not in k)


def _looks_like_nanoaod(branches: frozenset[str]) -> bool:
    """A NanoAOD Events tree has collections: an n<Coll> counter with <Coll>_ fields."""
    for name in branches:
        if name.startswith("n") and len(name) > 1 and name[1].isupper():
            prefix = name[1:] + "_"
            if any(b.startswith(prefix) for b in branches):
                return True
    return False


def _to_column(array: Any) -> Column:
    """Convert one awkward branch of a chunk to numpy content (+ offsets when jagged)."""
    if not isinstance(array, ak.Array):
        return Column(np.asarray(array), None)
    ndim = array.ndim
    if ndim == 1:
        return Column(ak.to_numpy(array), None)
    if ndim == 2:
        counts = ak.to_numpy(ak.num(array, axis=1)).astype(np.int64, copy=False)
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        content = ak.to_numpy(ak.flatten(array, axis=1))
        return Column(content, offsets)
    # Deeper nesting does not occur in NanoAOD; keep it usable rather than crash.
    return Column(np.asarray(ak.to_list(array), dtype=object), None)


def _read_column(tree: Any, name: str, info: InputInfo, lo: int, hi: int) -> Column:
    """Entries ``lo`` to ``hi`` of one branch; any failure (a damaged basket makes uproot,
    zlib, lzma or awkward raise almost anything) as one line naming the file, the branch and
    the entries. KeyboardInterrupt and SystemExit are not Exceptions and go through."""
    try:
        return _to_column(tree[name].array(entry_start=lo, entry_stop=hi))
    except Exception as exc:
        raise_if_connection_failed(info.path, exc)
        which = f"entry {lo}" if hi - lo == 1 else f"entries {lo} to {hi - 1}"
        message = _unreadable(info.path, f"branch {name!r} of {which}", exc)
        first = info.first_entry
        raise UnreadableEntries(message, range(first + lo, first + hi)) from None


class Dataset(EventSource):
    """Validated NanoAOD inputs seen as one globally numbered sequence of events."""

    kind = "NanoAOD"
    has_branches = True
    supports_where = True
    inputs: list[InputInfo]  # type: ignore[assignment]

    def __init__(
        self,
        inputs: Sequence[str],
        on_error: Callable[[str, InputError], None] | None = None,
    ) -> None:
        """Validate every input; with ``on_error``, an unreadable input is handed to it and
        left out instead of failing the whole dataset (batch mode)."""
        self._files: dict[int, Any] = {}
        self._ids: EventIds | None = None
        self.inputs = []
        first = 0
        try:
            for path in expand_inputs(inputs):
                try:
                    info = self._validate(path, first)
                except InputError as exc:
                    if on_error is None:
                        raise
                    self._files.pop(len(self.inputs), None)
                    on_error(path, exc)
                    continue
                self.inputs.append(info)
                first += info.num_entries
        except BaseException:
            self.close()
            raise
        self.num_entries: int = first
        self.is_simulation: bool = any(info.is_simulation for info in self.inputs)

    # -- validation -------------------------------------------------------------------------

    def _validate(self, path: str, first_entry: int) -> InputInfo:
        if not is_url(path):
            _check_local_file(path)
        try:
            file = _open_root(path)
        except InputError:
            raise
        except FileNotFoundError as exc:
            raise InputError(f"input {path!r} does not exist; check the path") from exc
        except Exception as exc:  # uproot raises many types for damaged or unreachable files
            if is_url(path):
                from ispyrender.sources.remote import remote_error

                raise remote_error(path, exc) from None
            reason = " ".join(str(exc).split())[:200]
            raise InputError(
                f"cannot read ROOT file {path!r}: {type(exc).__name__}: {reason}; check that it "
                "is a complete ROOT file"
            ) from exc
        index = len(self.inputs)
        self._files[index] = file
        try:
            classnames = file.classnames(recursive=False)
        except Exception as exc:
            raise_if_connection_failed(path, exc)
            raise InputError(
                f"ROOT file {path!r} is corrupt (its key list cannot be read); download or copy "
                "it again"
            ) from exc
        names = {k.split(";")[0]: v for k, v in classnames.items()}
        if "Events" not in names:
            if not names:
                raise InputError(
                    f"ROOT file {path!r} has no 'Events' tree (it has no keys at all: it is "
                    "empty or corrupt); pass a complete NanoAOD file"
                )
            listed = ", ".join(repr(k) for k in sorted(names))
            raise InputError(
                f"ROOT file {path!r} has no 'Events' tree (keys: {listed}); pass a NanoAOD file"
            )
        classname = names["Events"]
        if classname not in ("TTree", "ROOT::RNTuple") and "RNTuple" not in classname:
            raise InputError(
                f"'Events' in {path!r} is a {classname}, not a TTree or RNTuple; pass a NanoAOD "
                "file"
            )
        try:
            tree = file["Events"]
            branches = _branch_names(tree)
            num_entries = int(tree.num_entries)
        except Exception as exc:
            raise_if_connection_failed(path, exc)
            raise InputError(
                f"the 'Events' tree in {path!r} cannot be read ({_reason(exc)}); the file is "
                "probably corrupt, download or copy it again"
            ) from exc
        has_ids = "run" in branches and "event" in branches
        if not has_ids and not _looks_like_nanoaod(branches):
            shown = ", ".join(sorted(branches)[:8]) + (", ..." if len(branches) > 8 else "")
            raise InputError(
                f"'Events' in {path!r} is not NanoAOD (no run/event branches and no "
                f"n<Coll>/<Coll>_pt collections; it has: {shown}); pass a NanoAOD file"
            )
        compression = file.file.compression
        return InputInfo(
            path=path,
            num_entries=num_entries,
            branches=branches,
            storage="RNTuple" if "RNTuple" in classname else "TTree",
            compression=None if compression is None else str(compression),
            has_runs_tree="Runs" in names,
            first_entry=first_entry,
        )

    # -- context manager / lifetime ---------------------------------------------------------

    def close(self) -> None:
        for file in self._files.values():
            # Closing is best effort: there is nothing useful to report about a failed close.
            with contextlib.suppress(Exception):
                file.close()
        self._files.clear()

    def __enter__(self) -> Dataset:
        return self

    def __len__(self) -> int:
        return self.num_entries

    def __repr__(self) -> str:
        return f"Dataset({len(self.inputs)} inputs, {self.num_entries} events)"

    # -- the EventSource interface ------------------------------------------------------------

    def ids(self) -> EventIds:
        if self._ids is None:
            run, lumi, event = self.event_ids()
            synthetic = not all(info.has_ids for info in self.inputs)
            self._ids = EventIds(run, lumi, event, synthetic)
        return self._ids

    def missing_ids(self) -> list[str]:
        """Inputs without run/event branches: their events are numbered by entry."""
        return [info.path for info in self.inputs if not info.has_ids]

    def notes(self) -> list[str]:
        return super().notes() + [
            f"{path!r} has no run/event branches: its events are named by entry "
            "({source}_{entry}.png) and shown as run 0"
            for path in self.missing_ids()
        ]

    def read(self, entries: Sequence[int], branches: Iterable[str] = ()) -> Iterator[EventRecord]:
        chosen = list(entries)
        # A short selection reads only its own span, not the default 500 entries after it.
        span = max(1, min(500, chosen[-1] - chosen[0] + 1)) if chosen else 1
        return self.iter_events(chosen, branches, chunk_size=span)

    # -- queries ----------------------------------------------------------------------------

    def available_branches(self) -> set[str]:
        """Branches present in every input."""
        if not self.inputs:
            return set()
        common = set(self.inputs[0].branches)
        for info in self.inputs[1:]:
            common &= info.branches
        return common

    def _tree(self, index: int) -> Any:
        path = self.inputs[index].path
        try:
            if index not in self._files:
                # Reopened lazily after close() so that a closed Dataset still works if reused.
                self._files[index] = _open_root(path)
            return self._files[index]["Events"]
        except InputError:
            raise
        except Exception as exc:  # changed on disk since it was validated, or unreachable
            raise_if_connection_failed(path, exc)
            raise InputError(_unreadable(path, "the 'Events' tree", exc)) from None

    def iter_chunks(
        self,
        branches: Iterable[str],
        chunk_size: int = 500,
        ranges: Iterable[tuple[int, int, int]] | None = None,
    ) -> Iterator[tuple[InputInfo, int, dict[str, Column]]]:
        """Yield ``(input, entry_start, columns)`` for chunks of at most ``chunk_size`` entries.

        ``ranges`` lists ``(input index, entry_start, entry_stop)`` to read; by default every
        entry of every input. Only the requested branches that exist in each input are read.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        wanted = list(dict.fromkeys(branches))
        if ranges is None:
            ranges = ((i, 0, info.num_entries) for i, info in enumerate(self.inputs))
        for index, start, stop in ranges:
            info = self.inputs[index]
            names = [b for b in wanted if b in info.branches]
            if not names:
                continue
            tree = self._tree(index)
            for lo in range(start, stop, chunk_size):
                hi = min(lo + chunk_size, stop)
                # Branch by branch rather than tree.arrays(): arrays() resolves its expressions
                # against every branch on each call (tens of ms for 1500-branch NanoAOD, seconds
                # on RNTuples, whose recursive key walk it triggers), which dominated small chunks.
                columns = {n: _read_column(tree, n, info, lo, hi) for n in names}
                yield info, lo, columns

    def event_ids(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """run, lumi (None if any input lacks luminosityBlock) and event for all entries.

        Inputs without run/event branches get run 0 and their entry numbers as events."""
        if self._ids is not None:
            return self._ids.run, self._ids.lumi, self._ids.event
        runs: list[np.ndarray] = []
        lumis: list[np.ndarray] = []
        events: list[np.ndarray] = []
        with_lumi = all(info.has_lumi for info in self.inputs)
        for index, info in enumerate(self.inputs):
            if not info.has_ids:
                runs.append(np.zeros(info.num_entries, dtype=np.int64))
                events.append(np.arange(info.num_entries, dtype=np.int64))
                continue
            # Large chunks: three scalar branches are cheap, and fewer reads are faster.
            for _info, _lo, cols in self.iter_chunks(
                EVENT_ID_BRANCHES, chunk_size=200_000, ranges=[(index, 0, info.num_entries)]
            ):
                runs.append(cols["run"].content)
                events.append(cols["event"].content)
                if with_lumi:
                    lumis.append(cols["luminosityBlock"].content)
        run = np.concatenate(runs) if runs else np.zeros(0, dtype=np.uint32)
        event = np.concatenate(events) if events else np.zeros(0, dtype=np.uint64)
        lumi = (np.concatenate(lumis) if lumis else np.zeros(0, np.uint32)) if with_lumi else None
        return run, lumi, event

    def locate(self, index: int) -> tuple[InputInfo, int]:
        """The input holding global entry ``index`` and the entry number within it."""
        if not 0 <= index < self.num_entries:
            raise IndexError(index)
        for info in self.inputs:
            if index < info.first_entry + info.num_entries:
                return info, index - info.first_entry
        raise IndexError(index)  # unreachable: num_entries is the sum over inputs

    def iter_events(
        self,
        entries: Sequence[int] | None,
        branches: Iterable[str],
        chunk_size: int = 500,
    ) -> Iterator[EventRecord]:
        """Yield events in global order, reading only what is needed chunk by chunk.

        ``entries`` are sorted global entry numbers (None = all). Each chunk spans at most
        ``chunk_size`` consecutive entries starting at the next wanted one, so sparse selections
        do not read the entries between them.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        wanted = [b for b in dict.fromkeys(branches) if b not in EVENT_ID_BRANCHES]
        names = [*EVENT_ID_BRANCHES, *wanted]
        if entries is None:
            selected = np.arange(self.num_entries, dtype=np.int64)
        else:
            selected = np.asarray(entries, dtype=np.int64)
            if selected.size and (selected[0] < 0 or selected[-1] >= self.num_entries):
                raise IndexError(
                    f"entries must lie in [0, {self.num_entries}); "
                    f"got {selected[0]}..{selected[-1]}"
                )
            if np.any(np.diff(selected) < 0):
                raise ValueError("entries must be sorted")
        for index, info in enumerate(self.inputs):
            lo_g, hi_g = info.first_entry, info.first_entry + info.num_entries
            a, b = np.searchsorted(selected, [lo_g, hi_g])
            local = selected[a:b] - lo_g
            pos = 0
            while pos < len(local):
                start = int(local[pos])
                stop = min(start + chunk_size, info.num_entries)
                end = int(np.searchsorted(local, stop))
                chunk = next(self.iter_chunks(names, chunk_size, [(index, start, stop)]), None)
                cols = chunk[2] if chunk is not None else {}
                if info.has_ids:
                    run_c, event_c = cols["run"].content, cols["event"].content
                else:  # no ids in this input: run 0, the entry number as the event
                    run_c = np.zeros(stop - start, dtype=np.int64)
                    event_c = np.arange(start, stop, dtype=np.int64)
                lumi_c = cols["luminosityBlock"].content if "luminosityBlock" in cols else None
                for entry in local[pos:end]:
                    i = int(entry) - start
                    yield EventRecord(
                        index=int(entry) + lo_g,
                        source=info.path,
                        entry=int(entry),
                        run=int(run_c[i]),
                        lumi=None if lumi_c is None else int(lumi_c[i]),
                        event=int(event_c[i]),
                        is_simulation=info.is_simulation,
                        values={n: cols[n].value(i) for n in wanted if n in cols},
                        has_ids=info.has_ids,
                    )
                pos = end
