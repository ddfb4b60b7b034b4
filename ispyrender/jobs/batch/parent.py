"""The parent side of a batch: plan the files, hand chunks to workers, write what comes back."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ispyrender.config.style import Style
from ispyrender.errors import InputError, IspyError, OutputError
from ispyrender.interrupts import held
from ispyrender.jobs.batch.manifest import (
    MANIFEST_NAME,
    read_manifest,
    record_from_png,
    write_manifest,
)
from ispyrender.jobs.batch.worker import (
    Chunk,
    adopt,
    describe,
    forget,
    iter_chunk,
    release,
    render_chunk,
)
from ispyrender.jobs.render import RenderOptions
from ispyrender.sources.base import EventSource

if TYPE_CHECKING:
    from ispyrender.jobs.runner import EventRun

#: How long to wait for a Dask scheduler before saying it cannot be reached.
SCHEDULER_TIMEOUT_S = 5.0

Record = dict[str, Any]


class BatchError(IspyError):
    """Some events or inputs of a batch failed; the others were written."""

    exit_code = 1


@dataclass
class BatchOptions:
    jobs: int = 1
    scheduler: str | None = None
    # llvmpipe threads per worker; None leaves Mesa's default (one per core). With several
    # worker processes on few cores, one thread each avoids oversubscription.
    lp_threads: int | None = None


@dataclass
class BatchSummary:
    records: list[Record] = field(default_factory=list)  # one per selected event, in order
    failed_inputs: list[Record] = field(default_factory=list)  # {"input", "error"}
    warnings: list[str] = field(default_factory=list)
    manifest: Path | None = None
    worker_memory: dict[int, int] = field(default_factory=dict)  # pid -> peak RSS in bytes

    @property
    def written(self) -> list[Record]:
        return [r for r in self.records if r.get("written")]

    @property
    def failed(self) -> list[Record]:
        return [r for r in self.records if r.get("error")]

    def check(self) -> None:
        """Raise a one-line BatchError (exit code 1) when anything failed."""
        if not self.failed and not self.failed_inputs:
            return
        parts = []
        if self.failed:
            first = self.failed[0]
            parts.append(
                f"{len(self.failed)} of {len(self.records)} events failed: entry "
                f"{first['index']} ({first['run']}:{first['lumi']}:{first['event']}): "
                f"{first['error']}"
            )
        if self.failed_inputs:
            first = self.failed_inputs[0]
            parts.append(f"{len(self.failed_inputs)} input(s) could not be read: {first['error']}")
        where = f" (all listed in {self.manifest})" if self.manifest else ""
        raise BatchError("; ".join(parts) + where)


def open_inputs(
    inputs: Sequence[str], warn: Callable[[str], None] = lambda m: None
) -> tuple[EventSource, list[Record]]:
    """Open the readable inputs, dropping broken ones with a warning instead of failing; each
    input is opened once. When none can be read the first error is raised as it is."""
    from ispyrender.sources import open_source

    broken: list[Record] = []

    def skip(path: str, exc: InputError) -> None:
        broken.append({"input": path, "error": str(exc)})
        warn(f"skipping unreadable input: {exc}")

    source = open_source(inputs, on_error=skip)
    # The ids of every event are read before the first picture (names, --ids, the manifest):
    # an input whose ids cannot be read (a damaged basket) is skipped like an unreadable one.
    try:
        source.ids()
    except InputError:
        source = _without_unreadable_ids(source, skip)
    return source, broken


def _without_unreadable_ids(
    source: EventSource, skip: Callable[[str, InputError], None]
) -> EventSource:
    """``source`` opened again without the inputs whose event ids cannot be read, each
    handed to ``skip``; when none is left, the first error is raised."""
    from ispyrender.sources import open_source

    good: list[str] = []
    errors: list[InputError] = []
    for path in source.paths:
        try:
            with open_source([path]) as one:
                one.ids()
        except InputError as exc:
            errors.append(exc)
            skip(path, exc)
        else:
            good.append(path)
    source.close()
    if not good:
        raise errors[0]
    source = open_source(good)
    try:
        source.ids()
    except BaseException:
        source.close()
        raise
    return source


def _chunks(entries: Sequence[int], workers: int) -> list[list[int]]:
    """Contiguous chunks: a few per worker for progress and load balance, at most 16 events
    each so that results flow back steadily."""
    if not entries:
        return []
    size = max(1, min(16, math.ceil(len(entries) / (workers * 3))))
    return [list(entries[i : i + size]) for i in range(0, len(entries), size)]


def render_batch(
    source: EventSource,
    entries: Sequence[int],
    style: Style,
    options: RenderOptions,
    batch: BatchOptions,
    *,
    failed_inputs: Sequence[Record] = (),
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[Record], None] = lambda record: None,
) -> BatchSummary:
    """Make the selected entries in ``options.format`` into ``options.out`` and write
    ``manifest.json``."""
    from ispyrender.jobs.runner import EventRun
    from ispyrender.outputs.files import write_bytes_atomic
    from ispyrender.outputs.registry import check_format
    from ispyrender.physics import LeftOut

    check_format(options.format)  # before a cluster is reached
    client = _connect(batch.scheduler) if batch.scheduler else None
    run: EventRun | None = None
    try:
        # Dask workers draw; this process only writes files and needs no OpenGL.
        run = EventRun.for_files(
            source, entries, style, options, draws_here=not batch.scheduler, warn=warn
        )
        style = run.style
        plan = run.plan
        summary = BatchSummary(failed_inputs=list(failed_inputs), warnings=run.warnings)
        manifest_path = options.out / MANIFEST_NAME
        # What earlier batches into this folder listed: merged, never silently replaced.
        old = read_manifest(manifest_path)
        old_by_file = {r.get("output"): r for r in old.get("events", []) if isinstance(r, dict)}
        todo = run.todo
        by_index: dict[int, Record] = {}
        for idx in entries:
            if idx not in todo:
                name = plan.path(idx).name
                kept = dict(old_by_file.get(name) or {"index": idx, "output": name})
                # A run killed before its manifest: the file itself says what it shows.
                for key, value in record_from_png(plan.path(idx)).items():
                    kept.setdefault(key, value)
                kept["skipped"] = True
                by_index[idx] = kept
                progress(kept)
        left_out = LeftOut()

        def finish(rec: Record) -> None:
            files = rec.pop("files", None)
            rec["output"] = plan.path(rec["index"]).name
            # The files and their record go down together: a stop signal waits for both, so
            # that the manifest of an interrupted run lists every file it left.
            with held():
                if files is not None and not rec.get("error"):
                    for suffix, data in files.items():
                        write_bytes_atomic(plan.path(rec["index"], suffix), data)
                    rec["written"] = True
                entry: int = rec["entry"] if rec.get("entry") is not None else rec["index"]
                left_out.add(entry, rec.pop("skipped_nan", {}), rec.pop("mismatched", {}))
                by_index[rec["index"]] = rec
            progress(rec)

        paths = source.paths
        if client is not None:
            # Dask workers run in folders of their own (another machine's, a batch job's):
            # a path relative to here means nothing there. URLs stay as they are.
            paths = tuple(p if "://" in p else os.path.abspath(p) for p in paths)
        if client is None and batch.jobs > 1:
            from ispyrender.jobs.batch.pool import usable_jobs

            jobs, capped = usable_jobs(batch.jobs)
            if capped:
                run.say(capped)
                batch = dataclasses.replace(batch, jobs=jobs)
        task = (paths, style, options.format, options.scale)
        chunks = [
            [(i, plan.path(i).stem) for i in chunk]
            for chunk in _chunks(todo, _workers(client, batch))
        ]
        try:
            if client is not None:
                _run_dask(client, task, chunks, batch, finish, summary)
            elif batch.jobs > 1 and len(todo) > 1:
                from ispyrender.jobs.batch.pool import run_chunks

                run_chunks(
                    chunks,
                    task,
                    batch.jobs,
                    batch.lp_threads,
                    lambda chunk, result: _take(result, chunk, finish, summary),
                )
            else:
                # In this process, with the source already open: no start-up cost.
                adopt(source)
                try:
                    # One read over every entry: a chunk is a unit for workers only.
                    whole = [pair for chunk in chunks for pair in chunk]
                    for rec in iter_chunk(source, *task[1:], whole):
                        finish(rec)
                finally:
                    forget(source)
                    release()
        except BaseException:
            # Ctrl-C, SIGTERM, a failure: what was done is listed (the files are complete);
            # a resumed run (--skip-existing) writes the whole manifest.
            with contextlib.suppress(Exception):  # never hide the interruption itself
                done = [
                    _fill(by_index[i], source, i, plan.path(i)) for i in entries if i in by_index
                ]
                write_manifest(
                    manifest_path,
                    source.paths,
                    style,
                    done,
                    summary.failed_inputs,
                    old,
                    interrupted=True,
                    output_format=options.format,
                )
            raise
        summary.records = [_fill(by_index[idx], source, idx, plan.path(idx)) for idx in entries]
        for message in left_out.warnings():
            run.say(message)
        write_manifest(
            manifest_path,
            source.paths,
            style,
            summary.records,
            summary.failed_inputs,
            old,
            output_format=options.format,
        )
        summary.manifest = manifest_path
        return summary
    finally:
        if client is not None:
            client.close()
        if run is not None:
            run.release()


def _workers(client: Any, batch: BatchOptions) -> int:
    """How many workers share the chunks: the cluster's threads, or the local processes."""
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return batch.jobs


def _fill(rec: Record, source: EventSource, idx: int, target: Path) -> Record:
    """run, lumi, event, entry and input for records a failure left bare (from the ids the
    source read once)."""
    ids = source.ids()
    span, entry = source.locate(idx)
    known = {
        "run": int(ids.run[idx]),
        "lumi": None if ids.lumi is None else int(ids.lumi[idx]),
        "event": int(ids.event[idx]),
        "index": idx,
        "entry": entry,
        "input": span.path,
    }
    for key, value in known.items():
        rec.setdefault(key, value)
    rec.setdefault("output", target.name)
    return rec


def _take(
    result: dict[str, Any] | BaseException,
    chunk: Chunk,
    finish: Callable[[Record], None],
    summary: BatchSummary,
) -> None:
    if isinstance(result, BaseException):  # the worker died (e.g. killed for memory)
        for idx, _stem in chunk:
            finish({"index": idx, "error": describe(result)})
        return
    pid = int(result["pid"])
    summary.worker_memory[pid] = max(summary.worker_memory.get(pid, 0), int(result["maxrss"]))
    for rec in result["records"]:
        finish(rec)


def dask_timeout() -> float:
    """Seconds a Dask batch waits for the cluster without any result (no worker, a task
    that never ends), from ``ISPYRENDER_DASK_TIMEOUT`` (default 300)."""
    from ispyrender.config.environment import seconds

    return seconds("ISPYRENDER_DASK_TIMEOUT", 300, 86400)


def _connect(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise OutputError(
            "--scheduler needs the distributed package: pip install distributed"
        ) from None
    start = time.monotonic()
    try:
        # distributed bounds the connection but not the handshake after it: a port that
        # accepts and never answers would hold Client() forever. The handshake is made once
        # here, within the bound, before the client makes its own.
        asyncio.run(_handshake(address, SCHEDULER_TIMEOUT_S))
        client = Client(address, timeout=SCHEDULER_TIMEOUT_S)
    except Exception as exc:
        waited = time.monotonic() - start
        what = "no answer from" if isinstance(exc, TimeoutError) else "cannot reach"
        raise InputError(
            f"{what} the Dask scheduler at {address!r} after {waited:.0f} s "
            f"({type(exc).__name__}); check the address and that the scheduler is running"
        ) from None
    try:
        seconds = dask_timeout()
        try:
            client.wait_for_workers(1, timeout=seconds)
        except TimeoutError:
            raise InputError(
                f"the Dask scheduler at {address!r} has no worker after {seconds:g} s; start "
                f"one (dask worker {address}) or wait longer with ISPYRENDER_DASK_TIMEOUT=SECONDS"
            ) from None
    except BaseException:
        client.close()
        raise
    return client


async def _handshake(address: str, seconds: float) -> None:
    from distributed.comm import connect

    # distributed's own bound first (a refused port: its OSError, "cannot reach"); ours, a
    # little later, only for a handshake that never comes ("no answer").
    comm = await asyncio.wait_for(connect(address, timeout=seconds), seconds + 2.0)
    await comm.close()


def _run_dask(
    client: Any,
    task: tuple[Any, ...],
    chunks: Sequence[Chunk],
    batch: BatchOptions,
    finish: Callable[[Record], None],
    summary: BatchSummary,
) -> None:
    from distributed import wait

    futures = {}
    for chunk in chunks:
        fut = client.submit(render_chunk, *task, chunk, batch.lp_threads, pure=False)
        futures[fut] = chunk
    seconds = dask_timeout()
    pending = set(futures)
    try:
        while pending:
            # Each result within the bound of the last: a cluster that lost its workers, or
            # a task stuck on a worker, ends the batch with one line instead of a hang.
            try:
                done, pending = wait(pending, timeout=seconds, return_when="FIRST_COMPLETED")
            except TimeoutError:
                raise InputError(
                    f"no result from the Dask cluster at {batch.scheduler!r} for {seconds:g} s "
                    f"({len(futures) - len(pending)} of {len(futures)} tasks done); check its "
                    "workers, or wait longer with ISPYRENDER_DASK_TIMEOUT=SECONDS"
                ) from None
            for fut in done:
                try:
                    result = fut.result()
                except Exception as exc:  # the worker died or the task could not run there
                    result = exc
                _take(result, futures[fut], finish, summary)
    except BaseException:
        client.cancel(list(futures))
        raise
