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

from ispyrender.config.style import Style
from ispyrender.jobs.results import EventResult, RenderSummary
from ispyrender.sources.base import EventSource

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
    from ispyrender.outputs.files import write_bytes_atomic
    from ispyrender.outputs.products import SUFFIXES, EventProducts, check_format, materialise
    from ispyrender.outputs.targets import plan_outputs
    from ispyrender.physics import EventBuilder
    from ispyrender.scene.event import build_scene

    check_format(options.format)
    summary = RenderSummary()

    def say(message: str) -> None:
        summary.warnings.append(message)
        warn(message)

    if options.format == "png":
        from ispyrender.rendering.renderer import check_headless

        # Before the output folder is made: a machine without EGL should leave nothing behind.
        check_headless()
        if style.labels.masses:
            from ispyrender.physics.quantities import check_mass_requests

            # The masses written on the pictures are figure.masses: those the file cannot
            # serve are left out with a note, as the figure job leaves them out.
            asked = bool(style.figure.masses)
            style, notes = check_mass_requests(
                style, source.available_branches() if source.has_branches else None
            )
            for note in notes:
                say(note)
            if not asked:
                say(
                    "labels.masses is true but figure.masses asks for no mass: nothing is "
                    "written; e.g. --set 'figure.masses=[{collection: muons, count: 2}]'"
                )
    # Names first (a bad template must not leave an empty folder behind), then the folder.
    plan = plan_outputs(
        source,
        entries,
        style,
        options.out,
        SUFFIXES[options.format],
        overwrite=options.overwrite,
        skip_existing=options.skip_existing,
    )
    builder = EventBuilder(source, style)  # refuses a file with nothing to draw
    plan.prepare()
    for message in builder.warnings:
        say(message)
    todo = plan.todo(entries)

    def finish(files: dict[Path, bytes | Callable[[], bytes]]) -> None:
        for path, blob in files.items():
            write_bytes_atomic(path, materialise(blob))

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    pending: list[concurrent.futures.Future[None]] = []
    products = (
        EventProducts(options.format, style, options.scale, options.viewer_url) if todo else None
    )
    try:
        for physics in builder.events(todo):
            assert products is not None
            scene = build_scene(physics, style)
            files = products.make(physics, scene, plan.paths[physics.index])
            pending.append(pool.submit(finish, files))
            while len(pending) > 2:
                pending.pop(0).result()
            result = EventResult.made(physics, plan.path(physics.index))
            summary.results.append(result)
            progress(result)
        for fut in pending:
            fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if products is not None:
            products.close()
    for idx in sorted(set(entries) - set(todo)):
        summary.results.append(EventResult(idx, 0, None, 0, "", plan.path(idx), skipped=True))
    for message in builder.nan_warnings():
        say(message)
    return summary
