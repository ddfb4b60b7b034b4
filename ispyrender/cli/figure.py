"""``ispyrender figure``: publication figures of several panels per event."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ispyrender.cli import common as c
from ispyrender.outputs.registry import format_help


@c.event_command
def figure(
    shared: c.Shared,
    out: c.OutOpt = Path("figures"),
    style: Annotated[
        str,
        typer.Option(
            "--style",
            "--layout",
            "-s",
            help="Preset (e.g. paper) or YAML file whose figure: section sets the panels.",
        ),
    ] = "paper",
    format_: Annotated[
        str,
        typer.Option("--format", "-f", help=f"{format_help('figure')} Several as png,pdf."),
    ] = "png",
    overwrite: c.OverwriteOpt = False,
    skip_existing: c.SkipExistingOpt = False,
    scale: Annotated[
        float, typer.Option(min=0.1, max=8.0, help="Multiply the canvas size (up to 7680x4320).")
    ] = 1.0,
) -> None:
    """Publication figures: panels of 3D, transverse, longitudinal and lego views per event."""
    from ispyrender.jobs.figure import FigureOptions, figure_events, parse_formats

    c.check_output_flags(overwrite, skip_existing)
    options = FigureOptions(
        out=out,
        formats=parse_formats(format_),
        overwrite=overwrite,
        scale=scale,
        skip_existing=skip_existing,
    )
    the_style = shared.style(style, base="paper")
    summary, _ = shared.over_events(
        lambda source, entries, progress: figure_events(
            source, entries, the_style, options, warn=shared.warn(), progress=progress
        )
    )
    if not shared.quiet:
        shared.console().print(f"wrote {len(summary.paths)} file(s) to {c.escape(out)}")
