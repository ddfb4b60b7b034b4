"""Local worker processes for a batch, each with a pipe of its own.

Why not ``concurrent.futures.ProcessPoolExecutor``: its workers share one result pipe whose
write end the parent process also holds. A worker terminated while it sends a chunk's PNGs
(Ctrl-C, SIGTERM from a batch system, the kernel's OOM killer) leaves half a message there, the
executor's thread waits for the rest forever, and the interpreter then hangs at exit. Here only
the worker holds the far end of its pipe, so its death reads as end-of-file and the parent can
always finish or stop.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from ispyrender.jobs.batch.worker import Chunk, init_worker, render_chunk

#: Seconds a worker gets to exit after it is told to stop (or terminated) before it is killed.
STOP_GRACE_S = 5.0


class WorkerDied(RuntimeError):
    """A worker process ended while it had a chunk."""


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the process that forked it (the fork server, which
    itself ends when the batch's process goes, even by SIGKILL) ends: a worker must never
    outlive its batch, rendering for nobody and holding memory and the caller's terminal."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere the worker notices at its next send or receive
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _serve(conn: Connection, lp_threads: int | None) -> None:
    """A worker's loop: receive (args) for ``render_chunk``, send its result; None stops it."""
    _die_with_parent()
    init_worker(lp_threads)
    while True:
        try:
            task = conn.recv()
            if task is None:
                return
            conn.send(render_chunk(*task))
        except (EOFError, BrokenPipeError, ConnectionResetError):
            return  # the parent went away: nobody to report to, nothing to print


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    chunk: Chunk | None = None


#: What a worker imports before its first chunk, loaded once by the fork server.
PRELOAD = [
    "ispyrender.jobs.batch.worker",
    "ispyrender.outputs.products",
    "ispyrender.outputs.files",
    "ispyrender.outputs.targets",
    "ispyrender.physics",
    "ispyrender.physics.nanoaod",
    "ispyrender.physics.ispy",
    "ispyrender.physics.quantities",
    "ispyrender.rendering.preload",
    "ispyrender.scene.detector",
    "ispyrender.scene.event",
    "ispyrender.sources",
    "ispyrender.sources.nanoaod",
    "ispyrender.sources.ispy",
]


def _context() -> Any:
    """Workers fork from a fork server that has imported what they need (PRELOAD: numpy,
    uproot, awkward, VTK and this package's reading, physics and render code) and nothing
    else. Spawned workers each spent about two seconds on those imports before their first
    event, both at once on the same two cores. Workers are not forked from the parent: its
    progress bar runs a thread, whose locks do not survive a fork, and VTK and Mesa do not
    survive one after a GL context. The server has neither; its BLAS is kept to one thread,
    and the one thread it has besides its own is the allocator's of pyarrow (imported by
    awkward), which jemalloc makes safe across a fork. The imported pages are shared between
    the workers."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    # The server starts with this environment (ensure_running does nothing once it runs);
    # the parent's own is put back as it was.
    saved = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if saved is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = saved
    return context


def usable_jobs(jobs: int) -> tuple[int, str | None]:
    """``jobs`` capped at the cores this process may run on, and the warning to print when it
    was capped: more renderers than cores only share them, each with its own few hundred MB."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = max(1, cores or 1)
    if jobs <= cores:
        return jobs, None
    return cores, (
        f"--jobs {jobs} is more than the {cores} cores this machine gives the job: "
        f"running {cores} workers (more would only share the cores and add memory)"
    )


def _start(context: Any, lp_threads: int | None) -> _Worker:
    here, there = context.Pipe(duplex=True)
    process = context.Process(target=_serve, args=(there, lp_threads), daemon=True)
    process.start()
    there.close()  # only the worker holds it now: its death is EOF on ``here``
    return _Worker(process, here)


def _stop(workers: Sequence[_Worker], *, polite: bool) -> None:
    for w in workers:
        if polite and w.process.is_alive():
            with contextlib.suppress(OSError):  # it died just now: terminate it below
                w.conn.send(None)
        else:
            w.process.terminate()
    for w in workers:
        w.process.join(STOP_GRACE_S)
        if w.process.is_alive():
            w.process.kill()
            w.process.join()
        w.conn.close()


def _died(process: BaseProcess) -> WorkerDied:
    process.join(STOP_GRACE_S)
    code = process.exitcode
    if code is not None and code < 0:
        how = f"killed by signal {-code}" + (" (often: out of memory)" if code == -9 else "")
    else:
        how = f"exit code {code}"
    return WorkerDied(f"the worker process died ({how})")


def run_chunks(
    chunks: Sequence[Chunk],
    args: tuple[Any, ...],
    jobs: int,
    lp_threads: int | None,
    take: Callable[[Chunk, dict[str, Any] | BaseException], None],
) -> None:
    """Render ``chunks`` on ``jobs`` worker processes; ``take(chunk, result)`` gets each
    chunk's ``render_chunk`` result, or the exception when its worker died (a new worker then
    takes the next chunk). On any exception here (KeyboardInterrupt included) every worker is
    terminated before it propagates."""
    context = _context()
    pending = deque(chunks)
    workers: list[_Worker] = []
    finished = False

    def give(w: _Worker) -> None:
        if pending:
            w.chunk = pending.popleft()
            w.conn.send((*args, w.chunk, lp_threads))

    try:
        for _ in range(min(jobs, len(pending))):
            workers.append(_start(context, lp_threads))
            give(workers[-1])
        while True:
            busy = {w.conn: w for w in workers if w.chunk is not None}
            if not busy:
                break
            for conn in wait(list(busy)):
                w = busy[conn]  # type: ignore[index]
                chunk, w.chunk = w.chunk, None
                assert chunk is not None
                try:
                    result: dict[str, Any] | BaseException = w.conn.recv()
                except (EOFError, OSError):
                    result = _died(w.process)
                    w.conn.close()
                    workers.remove(w)
                    if pending:
                        w = _start(context, lp_threads)
                        workers.append(w)
                take(chunk, result)
                give(w)
        finished = True
    finally:
        _stop(workers, polite=finished)
