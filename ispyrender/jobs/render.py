"""The render job: source -> selection -> physics -> scene -> one file per event in any format.

Everything that can be checked before the first picture is checked first (the headless GL stack
for PNGs, names, clashes, existing files, the output folder); each file is written atomically,
and PNG encoding overlaps the next event's render in a thread.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ispyrender.config.style import Style
from ispyrender.jobs.results import EventResult, RenderSummary
from ispyrender.sources.base import EventSource

if TYPE_CHECKING:
    from ispyrender.jobs.runner import EventRun

__all__ = ["EventResult", "RenderOptions", "RenderSummary", "render_events"]


@dataclass
class RenderOptions:
    out: Path
    format: str = "png"
    overwrite: bool = False
    skip_existing: bool = False
    scale: float = 1.0
    #: html only: the URL of a shared copy of the viewer script (a gallery's), relative to the
    #: pages; None inlines it, so that each page stands alone.
    viewer_url: str | None = None


def render_events(
    source: EventSource,
    entries: Sequence[int],
    style: Style,
    options: RenderOptions,
    *,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[EventResult], None] = lambda result: None,
) -> RenderSummary:
    """Render the selected entries of ``source`` into ``options.out``."""
    from ispyrender.jobs.runner import EventRun

    run = EventRun.for_files(source, entries, style, options, warn=warn)
    try:
        return _render(run, options, progress)
    finally:
        run.release()


def _render(
    run: EventRun, options: RenderOptions, progress: Callable[[EventResult], None]
) -> RenderSummary:
    from ispyrender.outputs.files import write_bytes_atomic
    from ispyrender.outputs.products import EventProducts, materialise

    style = run.style
    summary = RenderSummary(warnings=run.warnings)

    def finish(files: dict[Path, bytes | Callable[[], bytes]]) -> None:
        for path, blob in files.items():
            write_bytes_atomic(path, materialise(blob))

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    pending: list[concurrent.futures.Future[None]] = []
    products = (
        EventProducts(options.format, style, options.scale, options.viewer_url)
        if run.todo
        else None
    )
    try:
        for physics, scene in run.scenes():
            assert products is not None
            files = products.make(physics, scene, run.plan.paths[physics.index])
            pending.append(pool.submit(finish, files))
            while len(pending) > 2:
                pending.pop(0).result()
            result = EventResult.made(physics, run.path(physics.index))
            summary.results.append(result)
            progress(result)
        for fut in pending:
            fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if products is not None:
            products.close()
    summary.results += run.kept()
    run.close()
    return summary
