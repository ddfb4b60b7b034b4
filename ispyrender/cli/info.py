"""The commands that describe rather than draw: inspect, sample, styles, selections."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ispyrender.cli.common import (
    InputsArg,
    MaxEventsOpt,
    SetOpt,
    WhereOpt,
    escape,
    load,
    run,
)


def inspect(
    inputs: InputsArg = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ids: Annotated[
        bool,
        typer.Option(
            "--ids",
            help="List the events' ids instead, RUN:LUMI:EVENT one a line (for --ids-file), "
            "or with --json their entries too.",
        ),
    ] = False,
    where: WhereOpt = None,
    max_events: MaxEventsOpt = None,
) -> None:
    """Summarise inputs: events, data or simulation, runs, collections, what a render would miss."""

    def body() -> None:
        from ispyrender.jobs.inspect import event_ids, inspect_source
        from ispyrender.sources import open_source

        if (where is not None or max_events is not None) and not ids:
            from ispyrender.errors import UsageError

            raise UsageError("--where and --max-events choose events for --ids: add --ids")
        with open_source(inputs) as source:
            if ids:
                listed = event_ids(source, where, max_events)
            else:
                report = inspect_source(source)
        if ids:
            if json_:
                from ispyrender.outputs import jsontext

                typer.echo(jsontext.dumps(listed, indent=2))
            else:
                for e in listed:
                    lumi = "" if e["lumi"] is None else f"{e['lumi']}:"
                    typer.echo(f"{e['run']}:{lumi}{e['event']}")
            return
        if json_:
            from ispyrender.outputs import jsontext

            typer.echo(jsontext.dumps(report.to_dict(), indent=2))
            return
        _print_report(report)

    run(body)


def _print_report(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, emoji=False)
    data = report.to_dict()
    kind = "simulation" if data.get("is_simulation") else "collision data"
    console.print(f"[bold]{data.get('num_events')}[/] events, {kind}", markup=True)
    runs = data.get("run_range")
    if runs:
        period = data.get("period")
        console.print(f"runs {runs[0]} to {runs[1]}" + (f": {period}" if period else ""))
    files = Table("input", "entries", "storage", title=None, box=None)
    for f in data.get("files", []):
        files.add_row(escape(f.get("path")), str(f.get("entries")), str(f.get("storage")))
    console.print(files)
    table = Table("collection", "mean", "max", box=None)
    for name, c in data.get("collections", {}).items():
        table.add_row(name, f"{c.get('mean', 0):.2f}", str(c.get("max")))
    console.print(table)
    missing = data.get("missing") or []
    if missing:
        console.print("[bold]a render would miss:[/]", markup=True)
        for line in missing:
            console.print(f"  - {escape(line)}")


def sample(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the file.")] = Path(
        "ispyrender_sample.root"
    ),
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Write the built-in sample (a small simulated NanoAOD-like file) to a file."""

    def body() -> None:
        from ispyrender.sources.sample import write_sample

        path = write_sample(out, overwrite=overwrite)
        typer.echo(f"wrote {path}")

    run(body)


def styles(
    show: Annotated[str | None, typer.Option(help="Print this style in full, as YAML.")] = None,
    set_: SetOpt = None,
    reference: Annotated[
        bool,
        typer.Option(
            "--reference", help="Print every key of a style, with its values and meaning."
        ),
    ] = False,
) -> None:
    """List the built-in style presets, print one in full, or print the style reference."""

    def body() -> None:
        from ispyrender.config.loader import list_presets

        if reference:
            from ispyrender.config.reference import style_reference

            typer.echo(style_reference(), nl=False)
            return
        if show is None:
            for name in list_presets():
                typer.echo(name)
            return
        import yaml

        typer.echo(yaml.safe_dump(load(show, set_).model_dump(), sort_keys=False))

    run(body)


def selections() -> None:
    """List the named selections usable as --where @NAME."""

    def body() -> None:
        from ispyrender.selection.where import list_selections

        for selection in list_selections():
            typer.echo(f"@{selection.name}: {selection.description}")
            typer.echo(f"    {selection.where}")

    run(body)
