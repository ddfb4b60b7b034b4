"""Stop signals (Ctrl-C, SIGTERM) held back while a file and its record are put down together.

A batch writes each event's file and then adds its record to the manifest; a signal between the
two left a picture on disk that the manifest of the interrupted run did not list. Within
:func:`held` a stop signal waits until the block is done, then stops the run as usual. The CLI's
signal handlers call :func:`stop`; handlers run in the main thread, where the batch loop runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["held", "stop"]

_depth = 0
_pending: BaseException | None = None


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Within, a stop signal is held until the block ends, then raised."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            stopped, _pending = _pending, None
            raise stopped


def stop(exc: BaseException) -> None:
    """Raise ``exc`` now, or at the end of the held block the program is in."""
    global _pending
    if _depth:
        _pending = _pending or exc
        return
    raise exc
