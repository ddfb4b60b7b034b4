"""Inputs as users give them: paths, globs and URLs (root://, https://), in order."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from ispyrender.errors import InputError
from ispyrender.sources.remote import is_url

__all__ = ["check_local_file", "expand_inputs", "is_url"]

_GLOB_CHARS = set("*?[")


def expand_inputs(inputs: Sequence[str] | str | os.PathLike[str]) -> list[str]:
    """Paths and URLs of the inputs, globs expanded, in the order given."""
    if isinstance(inputs, (str, os.PathLike)):
        # A lone string would otherwise be iterated character by character.
        inputs = [os.fspath(inputs)]
    expanded: list[str] = []
    for raw in inputs:
        text = os.fspath(raw)
        if is_url(text):
            expanded.append(text)
        elif _GLOB_CHARS & set(text) and not Path(text).exists():
            matches = sorted(glob.glob(os.path.expanduser(text)))
            if not matches:
                raise InputError(
                    f"the pattern {text!r} matches no files; check the directory and the "
                    "wildcards (quote the pattern so that the shell does not expand it)"
                )
            expanded.extend(matches)
        else:
            expanded.append(os.path.expanduser(text))
    if not expanded:
        raise InputError(
            "no input files were given; pass at least one NanoAOD .root or iSpy .ig file"
        )
    return expanded


def check_local_file(path: str, kind: str = "input") -> None:
    """A local input must be a regular file that exists: a folder, a FIFO (opening one waits
    for a writer forever), a device or a socket is refused before anything opens it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{kind} file {path!r} does not exist; check the path") from None
    except OSError as exc:
        raise InputError(f"cannot read {kind} {path!r} ({exc.strerror}); check the path") from None
    if stat.S_ISDIR(mode):
        raise InputError(
            f"{kind} {path!r} is a directory; pass the files in it (e.g. '{path}/*.root')"
        )
    if not stat.S_ISREG(mode):
        what = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "not a regular file"
        raise InputError(
            f"{kind} {path!r} is {what}; pass a NanoAOD .root or iSpy .ig file (save a stream "
            "to a file first)"
        )
