"""What every event source gives the stages after it, whatever the file format.

An :class:`EventSource` is a list of inputs seen as one sequence of events numbered globally in
the order the inputs were given. It gives the identity of every event (:class:`EventIds`, read
once and kept), the selections it can evaluate, and the events themselves as raw records that
:mod:`ispyrender.physics` turns into physics objects. NanoAOD (TTree and RNTuple, local or
remote) and iSpy ``.ig`` files implement it; :func:`ispyrender.sources.open_source` picks one
by the files' content.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

__all__ = ["EventHeader", "EventIds", "EventSource", "InputSpan", "source_stem"]


class EventHeader(Protocol):
    """The identity every raw event carries, NanoAOD record or iSpy event alike."""

    @property
    def index(self) -> int: ...  # global entry number across all inputs
    @property
    def source(self) -> str: ...  # the input path or URL as given
    @property
    def entry(self) -> int: ...  # entry number within that input
    @property
    def run(self) -> int: ...
    @property
    def lumi(self) -> int | None: ...
    @property
    def event(self) -> int: ...
    @property
    def is_simulation(self) -> bool: ...


@dataclass(frozen=True)
class InputSpan:
    """One input file of a source and where its events sit in the global numbering."""

    path: str
    num_entries: int
    first_entry: int


@dataclass(frozen=True)
class EventIds:
    """run, lumi section (None where the inputs lack it) and event number of every entry.

    ``synthetic`` is True when the inputs carry no run/event numbers at all (a slimmed file):
    then run is 0, event is the entry number, and outputs are named by entry.
    """

    run: np.ndarray
    lumi: np.ndarray | None
    event: np.ndarray
    synthetic: bool = False


def source_stem(path: str) -> str:
    """The short name of an input for file names and pages: the file name without suffix."""
    name = path.rsplit("/", 1)[-1] if "://" in path else Path(path).name
    return name.rsplit(".", 1)[0] if "." in name else name


class EventSource(abc.ABC):
    """Events of one or more inputs of one format. Use as a context manager."""

    #: "NanoAOD" or "iSpy": said in messages ("--where reads NanoAOD branches; ...").
    kind: ClassVar[str]
    #: Whether the events are NanoAOD branches (read through the branch plan).
    has_branches: ClassVar[bool] = False
    #: Whether ``--where`` conditions can be evaluated on the files (NanoAOD files).
    supports_where: ClassVar[bool] = False

    inputs: list[InputSpan]
    is_simulation: bool

    @property
    def paths(self) -> tuple[str, ...]:
        """The inputs as given (globs expanded): enough for a worker to open the source again."""
        return tuple(i.path for i in self.inputs)

    def __len__(self) -> int:
        return sum(i.num_entries for i in self.inputs)

    @abc.abstractmethod
    def ids(self) -> EventIds:
        """Identity of every entry; read on the first call and kept."""

    def locate(self, index: int) -> tuple[InputSpan, int]:
        """The input holding global entry ``index`` and the entry number within it."""
        for span in self.inputs:
            if span.first_entry <= index < span.first_entry + span.num_entries:
                return span, index - span.first_entry
        raise IndexError(index)

    def notes(self) -> list[str]:
        """Warnings about the inputs themselves, said once per job (e.g. missing event ids,
        files read as whole downloads)."""
        from ispyrender.sources.remote import download_notes

        return download_notes(self.paths)

    def available_branches(self) -> set[str]:
        """NanoAOD branches present in every input (none for formats without branches)."""
        return set()

    @abc.abstractmethod
    def read(self, entries: Sequence[int], branches: Iterable[str] = ()) -> Iterator[Any]:
        """Raw events of the sorted global ``entries``, in order (EventHeader-like records);
        ``branches`` limits what NanoAOD reads."""

    def close(self) -> None:  # noqa: B027 - sources without open handles need nothing
        """Release open files."""

    def __enter__(self) -> EventSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.inputs)} inputs, {len(self)} events)"
