"""``ispyrender render``: one file per event, in this process or as a batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ispyrender.cli.common import (
    EventsOpt,
    IdsFileOpt,
    IdsOpt,
    InputsArg,
    MaxEventsOpt,
    OverwriteOpt,
    QuietOpt,
    SetOpt,
    SkipExistingOpt,
    StyleOpt,
    WhereOpt,
    check_output_flags,
    escape,
    load,
    over_selection,
    run,
    selection,
    stderr,
    warner,
    with_progress,
)


def render(
    inputs: InputsArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    style: StyleOpt = "publication",
    set_: SetOpt = None,
    events: EventsOpt = None,
    ids: IdsOpt = None,
    ids_file: IdsFileOpt = None,
    where: WhereOpt = None,
    max_events: MaxEventsOpt = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="png; phoenix (HSF Phoenix JSON); glb or obj (3D models with the detector); "
            "html (a page to turn the event with the mouse, opens offline).",
        ),
    ] = "png",
    overwrite: OverwriteOpt = False,
    skip_existing: SkipExistingOpt = False,
    scale: Annotated[
        float, typer.Option(min=0.1, max=8.0, help="Multiply the style's canvas size.")
    ] = 1.0,
    quiet: QuietOpt = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Batch mode: render PNGs in N worker processes (each keeps one renderer).",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Batch mode on a Dask cluster, e.g. tcp://host:8786: the workers read the "
            "inputs themselves and send the PNGs back; no shared file system needed.",
        ),
    ] = None,
    keep_going: Annotated[
        bool,
        typer.Option(
            help="Batch mode in this process. In batch mode (this, --jobs or --scheduler) a "
            "failing event or an unreadable input is reported and the others are rendered; "
            "manifest.json lists every event; exit code 1 when anything failed.",
        ),
    ] = False,
) -> None:
    """Render events to one file per event: PNG, Phoenix JSON, glTF, OBJ or an HTML page."""

    def body() -> None:
        from ispyrender.errors import UsageError
        from ispyrender.jobs.render import RenderOptions
        from ispyrender.outputs.registry import check_format

        check_format(format_)
        check_output_flags(overwrite, skip_existing)
        the_style = load(style, set_)
        if scale * the_style.canvas.width > 7680 or scale * the_style.canvas.height > 4320:
            raise UsageError(
                f"--scale {scale} makes {the_style.canvas.width}x{the_style.canvas.height} "
                "larger than 7680x4320: use a smaller --scale"
            )
        options = RenderOptions(
            out=out,
            format=format_,
            overwrite=overwrite,
            skip_existing=skip_existing,
            scale=scale,
        )
        chosen = selection(events, ids, ids_file, where, max_events)
        console = stderr()
        warn = warner(console, quiet)
        if jobs is not None or scheduler or keep_going:
            from ispyrender.jobs.batch import BatchOptions, open_inputs, render_batch

            source, broken = open_inputs(inputs or [], warn)
            with source:
                entries = chosen.resolve(source)
                workers = jobs or 1
                # Several processes on two cores: one llvmpipe thread each (bench_batch).
                batch = BatchOptions(
                    jobs=workers,
                    scheduler=scheduler,
                    lp_threads=1 if workers > 1 and not scheduler else None,
                )
                summary = with_progress(
                    len(entries),
                    quiet,
                    lambda progress: render_batch(
                        source,
                        entries,
                        the_style,
                        options,
                        batch,
                        failed_inputs=broken,
                        warn=warn,
                        progress=progress,
                    ),
                )
            for rec in summary.failed:
                console.print(
                    f"failed: entry {rec['index']} of {escape(rec['input'])}: "
                    f"{escape(rec['error'])}"
                )
            written = len(summary.written)
            kept = len(summary.records) - written - len(summary.failed)
            _report(console, written, kept, out, quiet)
            summary.check()
            return
        from ispyrender.jobs.render import render_events

        result, _ = over_selection(
            inputs,
            chosen,
            quiet,
            lambda source, entries, progress: render_events(
                source, entries, the_style, options, warn=warn, progress=progress
            ),
        )
        written = len(result.written)
        _report(console, written, len(result.results) - written, out, quiet)

    run(body)


def _report(console: object, written: int, kept: int, out: Path, quiet: bool) -> None:
    if not quiet or written == 0:
        extra = f", kept {kept} existing" if kept else ""
        console.print(f"wrote {written} file(s) to {escape(out)}{extra}")  # type: ignore[attr-defined]
