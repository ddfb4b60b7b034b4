"""The command line under a memory cap, for the tests that run it as a real process.

The cap is set by the child itself, before the program is imported: ``preexec_fn`` would run
Python between fork and exec, which can deadlock when the test process has threads (two CLI
cases run at once in a thread pool; one such child hung on a lock held by the other thread).
"""

from __future__ import annotations

import sys

_WRAPPER = (
    "import resource, runpy, sys; limit = int(sys.argv.pop(1)); "
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
    "runpy.run_module('ispyrender', run_name='__main__', alter_sys=True)"
)


def limited_command(limit: int) -> list[str]:
    """The arguments that start ``python -m ispyrender`` with at most ``limit`` bytes of
    address space; the command's own arguments follow."""
    return [sys.executable, "-c", _WRAPPER, str(limit)]
