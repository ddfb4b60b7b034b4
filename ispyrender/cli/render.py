"""``ispyrender render``: one file per event, in this process or as a batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ispyrender.cli import common as c
from ispyrender.outputs.registry import format_help


@c.event_command
def render(
    shared: c.Shared,
    out: c.OutOpt = Path("out"),
    style: c.StyleOpt = "publication",
    format_: Annotated[str, typer.Option("--format", "-f", help=format_help("event"))] = "png",
    overwrite: c.OverwriteOpt = False,
    skip_existing: c.SkipExistingOpt = False,
    scale: Annotated[
        float, typer.Option(min=0.1, max=8.0, help="Multiply the style's canvas size.")
    ] = 1.0,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Batch mode: make the files in N worker processes (each keeps one renderer).",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Batch mode on a Dask cluster, e.g. tcp://host:8786: the workers read the "
            "inputs themselves and send the files back; no shared file system needed.",
        ),
    ] = None,
    keep_going: Annotated[
        bool,
        typer.Option(
            help="Batch mode in this process. In batch mode (this, --jobs or --scheduler) a "
            "failing event or an unreadable input is reported and the others are made; "
            "manifest.json lists every event; exit code 1 when anything failed.",
        ),
    ] = False,
) -> None:
    """Render events to one file per event: PNG, Phoenix JSON, glTF, OBJ or an HTML page."""
    from ispyrender.errors import UsageError
    from ispyrender.jobs.render import RenderOptions
    from ispyrender.outputs.registry import check_format

    check_format(format_)
    c.check_output_flags(overwrite, skip_existing)
    the_style = shared.style(style)
    if scale * the_style.canvas.width > 7680 or scale * the_style.canvas.height > 4320:
        raise UsageError(
            f"--scale {scale} makes {the_style.canvas.width}x{the_style.canvas.height} "
            "larger than 7680x4320: use a smaller --scale"
        )
    options = RenderOptions(
        out=out, format=format_, overwrite=overwrite, skip_existing=skip_existing, scale=scale
    )
    console = shared.console()
    if jobs is None and not scheduler and not keep_going:
        from ispyrender.jobs.render import render_events

        result, _ = shared.over_events(
            lambda source, entries, progress: render_events(
                source, entries, the_style, options, warn=shared.warn(), progress=progress
            )
        )
        written = len(result.written)
        kept = len(result.results) - written
        _report(console, written, kept, out, shared.quiet, len(result.warnings))
        return
    from ispyrender.jobs.batch import BatchOptions, open_inputs, render_batch

    source, broken = open_inputs(shared.inputs or [], shared.warn())
    with source:
        entries = shared.selection().resolve(source)
        workers = jobs or 1
        # Several processes on two cores: one llvmpipe thread each (bench_batch).
        batch = BatchOptions(
            jobs=workers,
            scheduler=scheduler,
            lp_threads=1 if workers > 1 and not scheduler else None,
        )
        summary = c.with_progress(
            len(entries),
            shared.quiet,
            lambda progress: render_batch(
                source,
                entries,
                the_style,
                options,
                batch,
                failed_inputs=broken,
                warn=shared.warn(),
                progress=progress,
            ),
        )
    for rec in summary.failed:
        console.print(
            f"failed: entry {rec['index']} of {c.escape(rec['input'])}: {c.escape(rec['error'])}"
        )
    written = len(summary.written)
    kept = len(summary.records) - written - len(summary.failed)
    _report(console, written, kept, out, shared.quiet, len(summary.warnings))
    summary.check()


def _report(
    console: Any, written: int, kept: int, out: Path, quiet: bool, warnings: int = 0
) -> None:
    if not quiet or written == 0:
        extra = f", kept {kept} existing" if kept else ""
        said = ""
        if warnings and not quiet:
            said = f" ({warnings} warning{'s' if warnings != 1 else ''} above)"
        console.print(f"wrote {written} file(s) to {c.escape(out)}{extra}{said}")
