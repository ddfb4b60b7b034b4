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
    over_selection,
    run,
    selection,
    stderr,
    warner,
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
        summary, _ = over_selection(
            inputs,
            chosen,
            quiet,
            lambda source, entries, progress: figure_events(
                source, entries, the_style, options, warn=warner(console, quiet), progress=progress
            ),
        )
        if not quiet:
            console.print(f"wrote {len(summary.paths)} file(s) to {escape(out)}")

    run(body)
