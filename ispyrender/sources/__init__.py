"""Event sources: NanoAOD (TTree or RNTuple, local or remote), iSpy ``.ig`` files, and the
built-in sample, behind one interface (:class:`~ispyrender.sources.base.EventSource`).

:func:`open_source` is the one place that decides which reader a list of inputs needs, from the
files' content (the ROOT signature; a zip archive with a ``Header`` member or an ``Events/``
folder for iSpy), not from their names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from ispyrender.errors import InputError
from ispyrender.sources.base import EventIds, EventSource, InputSpan
from ispyrender.sources.paths import check_local_file, expand_inputs, is_url

__all__ = ["EventIds", "EventSource", "InputSpan", "input_format", "open_source"]


def input_format(path: str) -> str:
    """'iSpy' or 'NanoAOD' for one input, from its first bytes (on a server too: one small
    range request)."""
    if is_url(path):
        from ispyrender.sources.remote import read_head

        magic = read_head(path, 4)
    else:
        check_local_file(path)
        try:
            with open(path, "rb") as fh:
                magic = fh.read(4)
        except OSError:
            # Unreadable files are reported by the NanoAOD reader's checks, which say why.
            return "NanoAOD"
    if magic == b"PK\x03\x04":
        from ispyrender.sources.ispy import is_ispy_file

        if is_ispy_file(path):
            return "iSpy"
        raise InputError(
            f"input {path!r} is a zip archive but not an iSpy file (no Header member and no "
            "Events/ folder); pass an .ig file written by iSpy or a NanoAOD .root file"
        )
    return "NanoAOD"


def open_source(
    inputs: Sequence[str] | str | os.PathLike[str] | None = None,
    *,
    on_error: Callable[[str, InputError], None] | None = None,
) -> EventSource:
    """Open ``inputs`` (paths, globs or URLs; the built-in sample when empty) as one source.

    All inputs must be of one format: a NanoAOD file and an iSpy file have nothing in common to
    select on, so mixing them is refused with a message saying so. With ``on_error``, an input
    that cannot be read is handed to it and left out instead (batch mode); when none is left,
    the first error is raised.
    """
    if inputs is None or (not isinstance(inputs, (str, os.PathLike)) and not inputs):
        from ispyrender.sources.sample import sample_path

        inputs = [str(sample_path())]
    paths = expand_inputs(inputs)
    errors: list[InputError] = []

    def skip(path: str, exc: InputError) -> None:
        errors.append(exc)
        if on_error is None:
            raise exc
        on_error(path, exc)

    formats: dict[str, str] = {}
    for path in paths:
        try:
            formats[path] = input_format(path)
        except InputError as exc:
            skip(path, exc)
    paths = list(formats)
    if not paths and errors:
        raise errors[0]
    kinds = set(formats.values())
    if len(kinds) > 1:
        ig = next(p for p, k in formats.items() if k == "iSpy")
        nano = next(p for p, k in formats.items() if k == "NanoAOD")
        raise InputError(
            f"mixing iSpy and NanoAOD inputs ({ig!r} and {nano!r}): pass files of one format "
            "per command"
        )
    source: EventSource
    if kinds == {"iSpy"}:
        from ispyrender.sources.ispy import IspySource

        source = IspySource(paths, on_error=skip if on_error else None)
    else:
        from ispyrender.sources.nanoaod import Dataset

        source = Dataset(paths, on_error=skip if on_error else None)
    if not source.inputs and errors:
        source.close()
        raise errors[0]
    return source
