"""Settings read from the environment (``ISPYRENDER_*``): checked, with one line when wrong.

They bound waits where no option of a command can reach (a Dask worker, a reader deep inside
uproot): ``ISPYRENDER_REMOTE_TIMEOUT``, ``ISPYRENDER_DOWNLOAD_LIMIT``, ``ISPYRENDER_DASK_TIMEOUT``.
"""

from __future__ import annotations

import os

from ispyrender.errors import InputError

__all__ = ["number", "seconds"]


def number(name: str, default: float, most: float, what: str) -> float:
    """The number ``name`` sets (``default`` when unset), above 0 and at most ``most``;
    anything else is an InputError naming the variable and what it takes (``what``: "seconds",
    "bytes")."""
    text = os.environ.get(name, f"{default:g}")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= most:
        raise InputError(f"{name}={text!r} is not a number of {what} from 0 to {most:g}")
    return value


def seconds(name: str, default: float, most: float) -> float:
    """A time limit: ``number`` in seconds."""
    return number(name, default, most, "seconds")
