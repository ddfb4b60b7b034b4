"""The worker side of a batch: make a chunk of entries in any event format, return the files'
bytes and the records.

Worker processes fork from a fork server that has imported this module and what it needs
(pool.PRELOAD) but has no threads and no OpenGL/EGL state, which VTK and Mesa would not
survive in a child. Each process keeps one open source and one renderer for all the chunks it
is given (a renderer costs a few tenths of a second to build: GL context, detector meshes).
"""

from __future__ import annotations

import concurrent.futures
import os
import resource
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ispyrender.config.style import Style
from ispyrender.errors import IspyError
from ispyrender.sources.base import EventSource

Record = dict[str, Any]
#: A chunk of work: (index, file stem) per event, in entry order; the stem is the name the
#: parent planned, which a format may write into a file (an OBJ names its MTL).
Chunk = list[tuple[int, str]]

_SOURCES: dict[tuple[str, ...], EventSource] = {}
_PRODUCTS: dict[tuple[str, str, float], Any] = {}


def init_worker(lp_threads: int | None) -> None:
    import signal

    # Ctrl-C reaches the whole process group; the parent alone handles it (and terminates the
    # workers), so that the user sees one line instead of a traceback from every worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker's stderr is the user's terminal, where its Python warnings would come with
    # source lines and not respect --quiet; what matters of an event travels in its record.
    quiet_python_warnings()
    # Must run before the first OpenGL context: Mesa reads LP_NUM_THREADS when it loads.
    if lp_threads is not None:
        os.environ["LP_NUM_THREADS"] = str(lp_threads)


def quiet_python_warnings() -> None:
    """No Python warnings and no matplotlib log lines from this (worker) process."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.getLogger("matplotlib").setLevel(logging.ERROR)


def _source(paths: tuple[str, ...]) -> EventSource:
    if paths not in _SOURCES:
        from ispyrender.sources import open_source

        _SOURCES[paths] = open_source(list(paths))
    return _SOURCES[paths]


def _products(fmt: str, style: Style, scale: float) -> Any:
    key = (fmt, style.digest(), scale)
    if key not in _PRODUCTS:
        from ispyrender.outputs.products import EventProducts

        # One renderer per process: a new style means the old one is no longer needed.
        release()
        _PRODUCTS[key] = EventProducts(fmt, style, scale)
    return _PRODUCTS[key]


def adopt(source: EventSource) -> None:
    """Let this process's own chunks use an already open source (no second opening)."""
    _SOURCES.setdefault(source.paths, source)


def release() -> None:
    """Close this process's renderer and forget the sources it was given."""
    for products in _PRODUCTS.values():
        products.close()
    _PRODUCTS.clear()


def forget(source: EventSource) -> None:
    _SOURCES.pop(source.paths, None)


def describe(exc: BaseException) -> str:
    if isinstance(exc, IspyError):  # a message for the user already: one line, whole
        return str(exc)
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def iter_chunk(
    source: EventSource, style: Style, fmt: str, scale: float, chunk: Chunk
) -> Iterator[Record]:
    """Make the events of ``chunk`` in ``fmt`` with this process's products; yield one record
    per event with ``files`` (suffix -> bytes), or ``error`` when the event failed (the others
    go on)."""
    from ispyrender.jobs.batch.manifest import record_text
    from ispyrender.outputs.products import materialise
    from ispyrender.physics import EventBuilder
    from ispyrender.physics.quantities import leading_masses
    from ispyrender.scene.event import build_scene

    products = _products(fmt, style, scale)
    stems = dict(chunk)
    builder = EventBuilder(source, style)
    # PNG compression releases the GIL: encode event i in a thread while i + 1 renders.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    pending: list[tuple[Record, concurrent.futures.Future[dict[str, bytes]]]] = []

    def encode(files: dict[str, Any]) -> dict[str, bytes]:
        return {suffix: materialise(blob) for suffix, blob in files.items()}

    try:
        for idx, raw in _raw_events(source, list(stems), builder.branches):
            if isinstance(raw, Exception):  # its data cannot be read (a damaged basket)
                yield {"index": idx, "error": describe(raw)}
                continue
            out: Record = {
                "run": raw.run,
                "lumi": raw.lumi,
                "event": raw.event,
                "index": raw.index,
                "entry": raw.entry,
                "input": raw.source,
            }
            try:
                physics = builder.build(raw)
                out["counts"] = dict(physics.counts)
                out["masses"] = {m.name: round(m.value, 4) for m in leading_masses(physics)}
                out["skipped_nan"] = dict(physics.skipped_nan)
                out["mismatched"] = dict(physics.mismatched)
                paths = {s: Path(stems[idx] + s) for s in products.suffixes}
                # A PNG carries its record, so that a resumed run can list it again.
                files = products.make(physics, build_scene(physics, style), paths, record_text(out))
                fut = pool.submit(encode, {path.suffix: blob for path, blob in files.items()})
            except Exception as exc:
                out["error"] = describe(exc)
                yield out
                continue
            pending.append((out, fut))
            while len(pending) > 1:
                yield _collect(*pending.pop(0))
        while pending:
            yield _collect(*pending.pop(0))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _raw_events(
    source: EventSource, entries: Sequence[int], branches: Iterable[str]
) -> Iterator[tuple[int, Any]]:
    """``(index, raw event)`` for sorted ``entries``, or ``(index, exception)`` for those that
    cannot be read. A read that failed on damaged data says which entries it spanned
    (``exc.entries``: a NanoAOD chunk, one iSpy event); those are read again one at a time, so
    that only the events in a damaged basket fail, and the rest in chunks again. Any other
    failure (a server gone away) fails the entries left, as it would fail each of them."""
    branches = list(branches)
    left = list(entries)
    while left:
        done = 0
        try:
            for raw in source.read(left, branches):
                yield raw.index, raw
                done += 1
            return
        except Exception as exc:
            left = left[done:]
            spanned = getattr(exc, "entries", None)
            if not isinstance(spanned, range):
                for idx in left:
                    yield idx, exc
                return
            count = 1  # left[0] failed; so may those after it that the read spanned
            while count < len(left) and left[count] in spanned:
                count += 1
            if count == 1:
                yield left[0], exc
            else:
                for i, idx in enumerate(left[:count]):
                    try:
                        yield idx, next(iter(source.read([idx], branches)))
                    except Exception as single:
                        if not isinstance(getattr(single, "entries", None), range):
                            # Not the damage (a server gone away): every entry left fails
                            # now, rather than each after its own wait.
                            for rest in left[i:]:
                                yield rest, single
                            return
                        yield idx, single
            left = left[count:]


def _collect(out: Record, fut: concurrent.futures.Future[dict[str, bytes]]) -> Record:
    try:
        out["files"] = fut.result()
    except Exception as exc:
        out["error"] = describe(exc)
    return out


def render_chunk(
    paths: tuple[str, ...],
    style: Style,
    fmt: str,
    scale: float,
    chunk: Chunk,
    lp_threads: int | None = None,
) -> dict[str, Any]:
    """The task a worker process (local or Dask) runs: make a contiguous chunk of entries.

    Returns the event records and the worker's pid and peak memory (ru_maxrss, in bytes).
    """
    if lp_threads is not None and "vtkmodules" not in sys.modules:
        # Dask workers have no initializer of ours: set it before the first GL context.
        os.environ.setdefault("LP_NUM_THREADS", str(lp_threads))
    try:
        records = list(iter_chunk(_source(paths), style, fmt, scale, chunk))
    except Exception as exc:  # the inputs cannot be opened here, or no GL context
        records = [{"index": idx, "error": describe(exc)} for idx, _stem in chunk]
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "pid": os.getpid(),
        "maxrss": rss if sys.platform == "darwin" else rss * 1024,
        "records": records,
    }
