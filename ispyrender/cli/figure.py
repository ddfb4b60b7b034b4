"""``ispyrender figure``: publication figures of several panels per event."""

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
    WhereOpt,
    check_output_flags,
    escape,
    load,
    run,
    selection,
    stderr,
    warner,
    with_progress,
)


def figure(
    inputs: InputsArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("figures"),
    style: Annotated[
        str,
        typer.Option(
            "--style",
            "--layout",
            "-s",
            help="Preset (e.g. paper) or YAML file whose figure: section sets the panels.",
        ),
    ] = "paper",
    set_: SetOpt = None,
    events: EventsOpt = None,
    ids: IdsOpt = None,
    ids_file: IdsFileOpt = None,
    where: WhereOpt = None,
    max_events: MaxEventsOpt = None,
    format_: Annotated[
        str,
        typer.Option("--format", "-f", help="png, svg, pdf or eps; several as png,pdf."),
    ] = "png",
    overwrite: OverwriteOpt = False,
    skip_existing: SkipExistingOpt = False,
    scale: Annotated[
        float, typer.Option(min=0.1, max=8.0, help="Multiply the canvas size (up to 7680x4320).")
    ] = 1.0,
    quiet: QuietOpt = False,
) -> None:
    """Publication figures: panels of 3D, transverse, longitudinal and lego views per event."""

    def body() -> None:
        from ispyrender.jobs.figure import FigureOptions, figure_events, parse_formats
        from ispyrender.sources import open_source

        check_output_flags(overwrite, skip_existing)
        options = FigureOptions(
            out=out,
            formats=parse_formats(format_),
            overwrite=overwrite,
            scale=scale,
            skip_existing=skip_existing,
        )
        the_style = load(style, set_)
        chosen = selection(events, ids, ids_file, where, max_events)
        console = stderr()
        with open_source(inputs) as source:
            entries = chosen.resolve(source)
            summary = with_progress(
                len(entries),
                quiet,
                lambda progress: figure_events(
                    source, entries, the_style, options, warn=warner(console), progress=progress
                ),
            )
        if not quiet:
            console.print(f"wrote {len(summary.paths)} file(s) to {escape(out)}")

    run(body)
