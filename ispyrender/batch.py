"""Batch rendering of many events: worker processes, a Dask cluster, failures and a manifest.

The batch differs from :func:`ispyrender.pipeline.render_events` in three policies:

* the work can run in N local worker processes (``--jobs``) or on a Dask cluster
  (``--scheduler``). Workers open the inputs themselves (same paths or URLs), keep one
  :class:`~ispyrender.render.Renderer` per process for all their events, and send back encoded
  PNG bytes with the event's metadata; only this (parent) process writes files, each one
  atomically, so no shared file system is needed and an interrupted run leaves nothing behind;
* one failing event, or one unreadable input, does not stop the others: it is listed in the
  summary and the manifest, and the command ends with exit code 1;
* ``manifest.json`` in the output folder records every event (ids, input, file, object counts,
  invariant masses, error) for tools such as the gallery.

Worker processes are started with the "spawn" context: a forked child would inherit the
parent's OpenGL/EGL state (and threads), which VTK and Mesa do not survive.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import math
import multiprocessing
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ispyrender import __version__
from ispyrender.errors import InputError, IspyError, OutputError
from ispyrender.pipeline import RenderOptions, plan_targets
from ispyrender.reading import Dataset, EventRecord, _expand
from ispyrender.style import Style

MANIFEST_NAME = "manifest.json"
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


# ---- inputs ---------------------------------------------------------------------------------


def open_inputs(
    inputs: Sequence[str], warn: Callable[[str], None] = lambda m: None
) -> tuple[Dataset, list[Record]]:
    """Open the readable inputs, dropping broken ones with a warning instead of failing.

    Each input is validated on its own first, so that one truncated file among many is
    reported and skipped; when none can be read the first error is raised as it is.
    """
    paths = _expand(inputs)
    good: list[str] = []
    broken: list[Record] = []
    first_error: InputError | None = None
    for path in paths:
        try:
            Dataset([path]).close()
        except InputError as exc:
            first_error = first_error or exc
            broken.append({"input": path, "error": str(exc)})
            warn(f"skipping unreadable input: {exc}")
            continue
        good.append(path)
    if not good:
        assert first_error is not None
        raise first_error
    return Dataset(good), broken


# ---- worker side ----------------------------------------------------------------------------

# Per worker process: one open Dataset and one Renderer, reused by every chunk it is given
# (a Renderer costs about a second to build: pyvista import, plotter, detector meshes).
_DATASETS: dict[tuple[str, ...], Dataset] = {}
_RENDERERS: dict[tuple[str, float], Any] = {}


def _init_worker(lp_threads: int | None) -> None:
    import signal

    # Ctrl-C reaches the whole process group; the parent alone handles it (and terminates the
    # workers), so that the user sees one line instead of a traceback from every worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Must run before the first OpenGL context: Mesa reads LP_NUM_THREADS when it loads.
    if lp_threads is not None:
        os.environ["LP_NUM_THREADS"] = str(lp_threads)


def _dataset(paths: tuple[str, ...]) -> Dataset:
    if paths not in _DATASETS:
        _DATASETS[paths] = Dataset(list(paths))
    return _DATASETS[paths]


def _renderer(style: Style, scale: float) -> Any:
    key = (style.digest(), scale)
    if key not in _RENDERERS:
        from ispyrender.geometry import build_detector
        from ispyrender.render import Renderer

        # One renderer per process: a new style means the old one is no longer needed.
        for old in _RENDERERS.values():
            old.close()
        _RENDERERS.clear()
        _RENDERERS[key] = Renderer(style, build_detector(style.detector), scale=scale)
    return _RENDERERS[key]


def _masses(physics: Any) -> dict[str, float]:
    """Invariant masses of the leading objects, where the event has enough of them."""
    from ispyrender.physics_quantities import event_objects, invariant_mass

    objects = event_objects(physics)
    wanted = {
        "dimuon": ("muons", 2),
        "dielectron": ("electrons", 2),
        "diphoton": ("photons", 2),
        "four_lepton": ("leptons", 4),
    }
    found: dict[str, float] = {}
    for name, (kind, n) in wanted.items():
        pool = objects.get(kind)
        if pool is not None and len(pool) >= n:
            lead = pool.leading(n)
            found[name] = round(invariant_mass(lead.pt, lead.eta, lead.phi, lead.mass), 4)
    return found


def _base_record(record: EventRecord) -> Record:
    return {
        "run": record.run,
        "lumi": record.lumi,
        "event": record.event,
        "index": record.index,
        "entry": record.entry,
        "input": record.source,
    }


def iter_chunk(
    dataset: Dataset, style: Style, scale: float, entries: Sequence[int]
) -> Iterator[Record]:
    """Render sorted ``entries`` with this process's Renderer; yield one record per event with
    ``png`` bytes, or ``error`` when the event failed (the others go on)."""
    from ispyrender.event_scene import build_scene
    from ispyrender.objects import branch_plan, build_event
    from ispyrender.outputs import encode_png
    from ispyrender.pipeline import _png_job

    renderer = _renderer(style, scale)
    plan = branch_plan(style, dataset.available_branches())
    # Read only the span of this chunk, not the reader's default 500 entries after its start.
    span = max(1, min(500, entries[-1] - entries[0] + 1)) if entries else 1
    # PNG compression releases the GIL: encode event i in a thread while i + 1 renders.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    pending: list[tuple[Record, concurrent.futures.Future[bytes]]] = []
    seen: set[int] = set()
    try:
        records = dataset.iter_events(list(entries), plan.branches, chunk_size=span)
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except Exception as exc:  # a damaged basket: the rest of the chunk is unreadable
                for idx in entries:
                    if idx not in seen:
                        yield {"index": idx, "error": _describe(exc)}
                return
            seen.add(record.index)
            out = _base_record(record)
            try:
                physics = build_event(record, style, plan)
                out["counts"] = dict(physics.counts)
                out["masses"] = _masses(physics)
                out["skipped_nan"] = dict(physics.skipped_nan)
                image, text = _png_job(renderer, build_scene(physics, style), record, style)
                fut = pool.submit(encode_png, image, text, style.output.png_compression)
            except Exception as exc:
                out["error"] = _describe(exc)
                yield out
                continue
            pending.append((out, fut))
            while len(pending) > 1:
                yield _collect(*pending.pop(0))
        while pending:
            yield _collect(*pending.pop(0))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(out: Record, fut: concurrent.futures.Future[bytes]) -> Record:
    try:
        out["png"] = fut.result()
    except Exception as exc:
        out["error"] = _describe(exc)
    return out


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def render_chunk(
    paths: tuple[str, ...],
    style: Style,
    scale: float,
    entries: list[int],
    lp_threads: int | None = None,
) -> dict[str, Any]:
    """The task a worker process (local or Dask) runs: render a contiguous chunk of entries.

    Returns the event records and the worker's pid and peak memory (ru_maxrss, in bytes).
    """
    if lp_threads is not None and "vtkmodules" not in sys.modules:
        # Dask workers have no initializer of ours: set it before the first GL context.
        os.environ.setdefault("LP_NUM_THREADS", str(lp_threads))
    try:
        records = list(iter_chunk(_dataset(paths), style, scale, entries))
    except Exception as exc:  # the inputs cannot be opened here, or no GL context
        records = [{"index": idx, "error": _describe(exc)} for idx in entries]
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "pid": os.getpid(),
        "maxrss": rss if sys.platform == "darwin" else rss * 1024,
        "records": records,
    }


# ---- parent side ----------------------------------------------------------------------------


def _chunks(entries: Sequence[int], workers: int) -> list[list[int]]:
    """Contiguous chunks: a few per worker for progress and load balance, at most 16 events
    each so that results flow back steadily."""
    if not entries:
        return []
    size = max(1, min(16, math.ceil(len(entries) / (workers * 3))))
    return [list(entries[i : i + size]) for i in range(0, len(entries), size)]


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def render_batch(
    dataset: Dataset,
    entries: Sequence[int],
    style: Style,
    options: RenderOptions,
    batch: BatchOptions,
    *,
    failed_inputs: Sequence[Record] = (),
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[Record], None] = lambda record: None,
) -> BatchSummary:
    """Render the selected entries as PNGs into ``options.out`` and write ``manifest.json``."""
    from ispyrender.objects import branch_plan
    from ispyrender.outputs import prepare_folder, write_bytes_atomic
    from ispyrender.render import check_headless, configure_headless

    if options.format != "png":
        raise OutputError("batch rendering (--jobs, --scheduler, --keep-going) makes PNGs only")
    if not batch.scheduler:
        # Dask workers render; this process only writes files and needs no OpenGL.
        configure_headless()
        check_headless()
    client = _connect(batch.scheduler) if batch.scheduler else None
    try:
        targets = plan_targets(dataset, entries, style, options)
        prepare_folder(options.out)
        summary = BatchSummary(failed_inputs=list(failed_inputs))
        plan = branch_plan(style, dataset.available_branches())
        for message in plan.warnings:
            summary.warnings.append(message)
            warn(message)
        manifest_path = options.out / MANIFEST_NAME
        old = _read_manifest(manifest_path) if options.skip_existing else {}
        old_by_file = {r.get("output"): r for r in old.get("events", []) if isinstance(r, dict)}
        todo = [e for e in entries if not (options.skip_existing and targets[e].exists())]
        by_index: dict[int, Record] = {}
        for idx in entries:
            if idx not in todo:
                name = targets[idx].name
                kept = dict(old_by_file.get(name) or {"index": idx, "output": name})
                kept["skipped"] = True
                by_index[idx] = kept
                progress(kept)
        nan_skipped: Counter[str] = Counter()

        def finish(rec: Record) -> None:
            png = rec.pop("png", None)
            target = targets[rec["index"]]
            rec["output"] = target.name
            if png is not None and not rec.get("error"):
                write_bytes_atomic(target, png)
                rec["written"] = True
            nan_skipped.update(rec.pop("skipped_nan", {}))
            by_index[rec["index"]] = rec
            progress(rec)

        paths = tuple(info.path for info in dataset.inputs)
        if client is not None:
            _run_dask(client, paths, style, options.scale, todo, batch, finish, summary)
        elif batch.jobs > 1 and len(todo) > 1:
            _run_processes(paths, style, options.scale, todo, batch, finish, summary)
        else:
            # In this process, with the dataset already open: no start-up cost.
            _DATASETS.setdefault(paths, dataset)
            try:
                for rec in iter_chunk(dataset, style, options.scale, todo):
                    finish(rec)
            finally:
                _DATASETS.pop(paths, None)
                for renderer in _RENDERERS.values():
                    renderer.close()
                _RENDERERS.clear()
    finally:
        if client is not None:
            client.close()
    ids = _ids(dataset, entries)
    summary.records = [_fill(by_index[idx], ids[idx], targets[idx]) for idx in entries]
    for collection, count in sorted(nan_skipped.items()):
        if count:
            message = f"skipped {count} {collection} object(s) with NaN values"
            summary.warnings.append(message)
            warn(message)
    _write_manifest(manifest_path, dataset, style, summary, old)
    summary.manifest = manifest_path
    return summary


def _ids(dataset: Dataset, entries: Sequence[int]) -> dict[int, Record]:
    """run, lumi, event, entry and input of each entry, for records a failure left bare."""
    runs, lumis, events = dataset.event_ids()
    found = {}
    for idx in entries:
        info, entry = dataset.locate(idx)
        found[idx] = {
            "run": int(runs[idx]),
            "lumi": None if lumis is None else int(lumis[idx]),
            "event": int(events[idx]),
            "index": idx,
            "entry": entry,
            "input": info.path,
        }
    return found


def _fill(rec: Record, ids: Record, target: Path) -> Record:
    for key, value in ids.items():
        rec.setdefault(key, value)
    rec.setdefault("output", target.name)
    return rec


def _write_manifest(
    path: Path, dataset: Dataset, style: Style, summary: BatchSummary, old: dict[str, Any]
) -> None:
    from ispyrender.outputs import write_bytes_atomic

    events = [
        {k: v for k, v in r.items() if k not in ("written", "skipped")} for r in summary.records
    ]
    # Resume: events of the earlier run that this one did not select stay listed.
    mine = {e["output"] for e in events}
    earlier = [
        e for e in old.get("events", []) if isinstance(e, dict) and e.get("output") not in mine
    ]
    inputs = list(dict.fromkeys([*old.get("inputs", []), *(i.path for i in dataset.inputs)]))
    manifest = {
        "version": __version__,
        "style": {"name": style.name, "digest": style.digest()},
        "inputs": inputs,
        "failed_inputs": summary.failed_inputs,
        "events": sorted(
            [*earlier, *events], key=lambda e: (str(e.get("input", "")), e.get("entry", -1))
        ),
    }
    write_bytes_atomic(path, (json.dumps(manifest, indent=1) + "\n").encode())


def _run_processes(
    paths: tuple[str, ...],
    style: Style,
    scale: float,
    todo: Sequence[int],
    batch: BatchOptions,
    finish: Callable[[Record], None],
    summary: BatchSummary,
) -> None:
    context = multiprocessing.get_context("spawn")
    executor = concurrent.futures.ProcessPoolExecutor(
        max_workers=batch.jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(batch.lp_threads,),
    )
    chunks = _chunks(todo, batch.jobs)
    futures = {
        executor.submit(render_chunk, paths, style, scale, chunk, batch.lp_threads): chunk
        for chunk in chunks
    }
    try:
        for fut in concurrent.futures.as_completed(futures):
            _take(fut, futures[fut], finish, summary)
    except BaseException:
        # Ctrl-C or SIGTERM: stop the workers now rather than after their current chunk.
        for process in list(getattr(executor, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


def _take(
    fut: Any, chunk: list[int], finish: Callable[[Record], None], summary: BatchSummary
) -> None:
    try:
        result = fut.result()
    except Exception as exc:  # the worker died (e.g. killed by the kernel for memory)
        for idx in chunk:
            finish({"index": idx, "error": _describe(exc)})
        return
    pid = int(result["pid"])
    summary.worker_memory[pid] = max(summary.worker_memory.get(pid, 0), int(result["maxrss"]))
    for rec in result["records"]:
        finish(rec)


def _connect(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise OutputError(
            "--scheduler needs the distributed package: pip install distributed"
        ) from None
    start = time.monotonic()
    try:
        return Client(address, timeout=SCHEDULER_TIMEOUT_S)
    except Exception as exc:
        waited = time.monotonic() - start
        raise InputError(
            f"cannot reach the Dask scheduler at {address!r} after {waited:.0f} s "
            f"({type(exc).__name__}); check the address and that the scheduler is running"
        ) from None


def _run_dask(
    client: Any,
    paths: tuple[str, ...],
    style: Style,
    scale: float,
    todo: Sequence[int],
    batch: BatchOptions,
    finish: Callable[[Record], None],
    summary: BatchSummary,
) -> None:
    from distributed import as_completed

    workers = max(1, sum(client.nthreads().values()))
    chunks = _chunks(todo, workers)
    futures = {}
    for chunk in chunks:
        fut = client.submit(render_chunk, paths, style, scale, chunk, batch.lp_threads, pure=False)
        futures[fut] = chunk
    try:
        for fut in as_completed(list(futures)):
            _take(fut, futures[fut], finish, summary)
    except BaseException:
        client.cancel(list(futures))
        raise
