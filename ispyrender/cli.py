"""The ``ispyrender`` command line.

Heavy libraries (pyvista, uproot, awkward, rich) are imported inside the commands, so that
``ispyrender --help`` answers at once. Every user error arrives here as an IspyError and is
printed as one line with a non-zero exit code, without a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ispyrender.errors import IspyError

app = typer.Typer(
    name="ispyrender",
    help="Headless CMS event displays from NanoAOD and iSpy files: PNGs, figures, movies, 3D.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

T = TypeVar("T")

InputsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="NanoAOD files, globs or root:// / https:// URLs. Default: the built-in sample.",
        show_default=False,
    ),
]
StyleOpt = Annotated[
    str, typer.Option("--style", "-s", help="Preset name (see 'ispyrender styles') or YAML file.")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a style key: --set canvas.width=800 (repeatable)."),
]
# The event selection, shared by every command that renders events.
EventsOpt = Annotated[
    str | None, typer.Option("--events", help="Entry numbers across inputs: 0,3,10:20.")
]
IdsOpt = Annotated[
    str | None, typer.Option("--ids", help="Event ids RUN:LUMI:EVENT, comma separated.")
]
WhereOpt = Annotated[
    str | None,
    typer.Option(
        "--where",
        help="Keep events passing a condition, e.g. 'nMuon >= 2 and Muon_pt[0] > 20', or a "
        "named selection such as @dimuon (see 'ispyrender selections').",
    ),
]
MaxEventsOpt = Annotated[
    int | None, typer.Option("--max-events", "-n", min=1, help="At most N events.")
]
OverwriteOpt = Annotated[bool, typer.Option(help="Replace existing files.")]


def _stderr():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _escape(text: object) -> str:
    """User text (paths, messages) for a rich print: '[x]' would otherwise read as markup,
    vanish from the line, or (as '[/x]') crash the error report with a traceback."""
    from rich.markup import escape

    return escape(str(text))


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(body: Callable[[], T]) -> T:
    """Run a command body, turning user errors into one line and an exit code."""
    import signal
    import threading

    # SIGTERM (a batch system stopping the job) takes the same clean-up path as Ctrl-C: temp
    # files removed, worker processes terminated. Handlers can only be set in the main thread.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return body()
    except IspyError as exc:
        _stderr().print(f"[bold red]error:[/] {_escape(exc)}", markup=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        _stderr().print("interrupted: no partial files were left behind")
        raise typer.Exit(130) from None


def _select(
    dataset: Any, events: str | None, ids: str | None, max_events: int | None, where: str | None
) -> list[int]:
    """The entries chosen by the shared selection options of every rendering command."""
    from ispyrender.selection import parse_events, parse_ids, resolve_selection

    return resolve_selection(
        dataset,
        events=parse_events(events) if events else None,
        ids=parse_ids(ids) if ids else None,
        max_events=max_events,
        where=where,
    )


def _warner(console: Any) -> Callable[[str], None]:
    def warn(message: str) -> None:
        console.print(f"[yellow]warning:[/] {_escape(message)}", markup=True)

    return warn


def _inputs(inputs: list[str] | None) -> list[str]:
    if inputs:
        return list(inputs)
    from ispyrender.sample import sample_path

    return [str(sample_path())]


@app.command()
def render(
    inputs: InputsArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    style: StyleOpt = "publication",
    set_: SetOpt = None,
    events: EventsOpt = None,
    ids: IdsOpt = None,
    ids_file: Annotated[
        Path | None, typer.Option("--ids-file", help="File of RUN:LUMI:EVENT ids, one a line.")
    ] = None,
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
    skip_existing: Annotated[
        bool, typer.Option(help="Keep existing files and render the rest (resume a run).")
    ] = False,
    scale: Annotated[
        float, typer.Option(min=0.1, max=8.0, help="Multiply the style's canvas size.")
    ] = 1.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
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
        from ispyrender.errors import SelectionError
        from ispyrender.pipeline import RenderOptions, render_events
        from ispyrender.reading import Dataset
        from ispyrender.selection import parse_events, parse_ids, read_ids_file, resolve_selection
        from ispyrender.style import load_style

        if format_ not in ("png", "phoenix", "glb", "obj", "html"):
            raise SelectionError(
                f"--format {format_!r} is not known: use png, phoenix, glb, obj or html"
            )
        if overwrite and skip_existing:
            raise SelectionError("--overwrite and --skip-existing contradict each other: pick one")
        the_style = load_style(style, set_ or [])
        if scale * the_style.canvas.width > 7680 or scale * the_style.canvas.height > 4320:
            raise SelectionError(
                f"--scale {scale} makes {the_style.canvas.width}x{the_style.canvas.height} "
                "larger than 7680x4320: use a smaller --scale"
            )
        console = _stderr()
        if inputs and any(str(i).lower().endswith(".ig") for i in inputs):
            _render_ig(
                list(inputs),
                the_style,
                out,
                events,
                ids,
                ids_file,
                where,
                max_events,
                format_,
                overwrite,
                skip_existing,
                scale,
                quiet,
            )
            return
        if jobs is not None or scheduler or keep_going:
            if format_ != "png":
                raise SelectionError("--jobs, --scheduler and --keep-going render PNGs only")
            _render_batch(
                _inputs(inputs),
                the_style,
                dict(events=events, ids=ids, ids_file=ids_file, where=where, n=max_events),
                RenderOptions(
                    out=out, overwrite=overwrite, skip_existing=skip_existing, scale=scale
                ),
                jobs or 1,
                scheduler,
                quiet,
            )
            return
        with Dataset(_inputs(inputs)) as dataset:
            id_list = parse_ids(ids) if ids else []
            if ids_file is not None:
                id_list += read_ids_file(ids_file)
            entries = resolve_selection(
                dataset,
                events=parse_events(events) if events else None,
                ids=id_list or None,
                max_events=max_events,
                where=where,
            )
            options = RenderOptions(
                out=out,
                format=format_,  # type: ignore[arg-type]
                overwrite=overwrite,
                skip_existing=skip_existing,
                scale=scale,
            )

            warn = _warner(console)

            summary = _with_progress(
                len(entries),
                quiet,
                lambda progress: render_events(
                    dataset, entries, the_style, options, warn=warn, progress=progress
                ),
            )
        written = len(summary.written)
        skipped = len(summary.results) - written
        if not quiet or written == 0:
            extra = f", kept {skipped} existing" if skipped else ""
            console.print(f"wrote {written} file(s) to {_escape(out)}{extra}")

    _run(body)


@app.command()
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
    where: WhereOpt = None,
    max_events: MaxEventsOpt = None,
    format_: Annotated[
        str,
        typer.Option("--format", "-f", help="png, svg, pdf or eps; several as png,pdf."),
    ] = "png",
    overwrite: OverwriteOpt = False,
    scale: Annotated[
        float, typer.Option(min=0.1, max=8.0, help="Multiply the canvas size (up to 7680x4320).")
    ] = 1.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Publication figures: panels of 3D, transverse, longitudinal and lego views per event."""

    def body() -> None:
        from ispyrender.figure import FigureOptions, figure_events, parse_formats
        from ispyrender.reading import Dataset
        from ispyrender.style import load_style

        options = FigureOptions(
            out=out, formats=parse_formats(format_), overwrite=overwrite, scale=scale
        )
        the_style = load_style(style, set_ or [])
        console = _stderr()
        with Dataset(_inputs(inputs)) as dataset:
            entries = _select(dataset, events, ids, max_events, where)

            warn = _warner(console)

            summary = _with_progress(
                len(entries),
                quiet,
                lambda progress: figure_events(
                    dataset, entries, the_style, options, warn=warn, progress=progress
                ),
            )
        if not quiet:
            console.print(f"wrote {len(summary.paths)} file(s) to {_escape(out)}")

    _run(body)


def _render_batch(
    inputs: list[str],
    style: Any,
    selection: dict[str, Any],
    options: Any,
    jobs: int,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """`render` in batch mode: see ispyrender.batch."""
    from ispyrender.batch import BatchOptions, open_inputs, render_batch
    from ispyrender.selection import parse_events, parse_ids, read_ids_file, resolve_selection

    console = _stderr()

    warn = _warner(console)

    dataset, broken = open_inputs(inputs, warn)
    with dataset:
        id_list = parse_ids(selection["ids"]) if selection["ids"] else []
        if selection["ids_file"] is not None:
            id_list += read_ids_file(selection["ids_file"])
        entries = resolve_selection(
            dataset,
            events=parse_events(selection["events"]) if selection["events"] else None,
            ids=id_list or None,
            max_events=selection["n"],
            where=selection["where"],
        )
        # Several processes on two cores: one llvmpipe thread each (see benchmarks/bench_batch).
        batch = BatchOptions(
            jobs=jobs, scheduler=scheduler, lp_threads=1 if jobs > 1 and not scheduler else None
        )
        summary = _with_progress(
            len(entries),
            quiet,
            lambda progress: render_batch(
                dataset,
                entries,
                style,
                options,
                batch,
                failed_inputs=broken,
                warn=warn,
                progress=progress,
            ),
        )
    for rec in summary.failed:
        console.print(
            f"failed: entry {rec['index']} of {_escape(rec['input'])}: {_escape(rec['error'])}"
        )
    written = len(summary.written)
    if not quiet or written == 0:
        kept = len(summary.records) - written - len(summary.failed)
        extra = f", kept {kept} existing" if kept else ""
        console.print(f"wrote {written} file(s) to {_escape(options.out)}{extra}")
    summary.check()


def _render_ig(
    inputs: list[str],
    style: Any,
    out: Path,
    events: str | None,
    ids: str | None,
    ids_file: Path | None,
    where: str | None,
    max_events: int | None,
    format_: str,
    overwrite: bool,
    skip_existing: bool,
    scale: float,
    quiet: bool,
) -> None:
    """`render` for iSpy .ig files: same options except --where (no NanoAOD branches there)."""
    from ispyrender.errors import SelectionError
    from ispyrender.ig import IgFile
    from ispyrender.ig_job import render_ig, select_ig
    from ispyrender.pipeline import RenderOptions
    from ispyrender.selection import parse_events, parse_ids, read_ids_file

    if not all(i.lower().endswith(".ig") for i in inputs):
        raise SelectionError("mixing iSpy .ig files and NanoAOD files: render them separately")
    if where:
        raise SelectionError(
            "--where reads NanoAOD branches; .ig files have none: use --events or --ids"
        )
    events_file = IgFile(inputs)
    id_list = parse_ids(ids) if ids else []
    if ids_file is not None:
        id_list += read_ids_file(ids_file)
    chosen = select_ig(
        events_file, parse_events(events) if events else None, id_list or None, max_events
    )
    options = RenderOptions(
        out=out,
        format=format_,
        overwrite=overwrite,  # type: ignore[arg-type]
        skip_existing=skip_existing,
        scale=scale,
    )
    summary = _with_progress(
        len(chosen),
        quiet,
        lambda progress: render_ig(events_file, chosen, style, options, progress=progress),
    )
    if not quiet:
        _stderr().print(f"wrote {len(summary.written)} file(s) to {_escape(out)}")


def _with_progress(total: int, quiet: bool, job: Callable[[Callable[[Any], None]], T]) -> T:
    if quiet or not sys.stderr.isatty():
        return job(lambda result: None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:.1f} ev/s")

    columns = (
        TextColumn("rendering"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=_stderr(), transient=True) as bar:
        task = bar.add_task("render", total=total)
        return job(lambda result: bar.advance(task))


@app.command()
def animate(
    inputs: InputsArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    style: StyleOpt = "outreach",
    set_: SetOpt = None,
    kind: Annotated[
        str | None, typer.Option(help="turntable, collision, or reel (one movie of all events).")
    ] = None,
    format_: Annotated[
        str | None, typer.Option("--format", "-f", help="mp4, webm or gif (animation.format).")
    ] = None,
    frames: Annotated[int | None, typer.Option(help="Frames per movie (animation.frames).")] = None,
    fps: Annotated[int | None, typer.Option(help="Frames per second (animation.fps).")] = None,
    events: EventsOpt = None,
    ids: IdsOpt = None,
    where: WhereOpt = None,
    max_events: MaxEventsOpt = None,
    overwrite: OverwriteOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line.")] = False,
) -> None:
    """Make one movie per event: a turntable, or tracks growing out of the collision."""

    def body() -> None:
        from ispyrender.animate_job import animate_events
        from ispyrender.reading import Dataset
        from ispyrender.style import load_style

        overrides = list(set_ or [])
        for key, value in (("kind", kind), ("format", format_), ("frames", frames), ("fps", fps)):
            if value is not None:
                overrides.append(f"animation.{key}={value}")
        the_style = load_style(style, overrides)
        console = _stderr()
        if inputs and any(str(i).lower().endswith(".ig") for i in inputs):
            written = _animate_ig(inputs, the_style, out, events, ids, where, max_events, overwrite)
            if not quiet:
                console.print(f"wrote {len(written)} movie(s) to {_escape(out)}")
            return
        with Dataset(_inputs(inputs)) as dataset:
            entries = _select(dataset, events, ids, max_events, where)

            warn = _warner(console)

            written = animate_events(
                dataset, entries, the_style, out, overwrite=overwrite, warn=warn
            )
        if not quiet:
            console.print(f"wrote {len(written)} movie(s) to {_escape(out)}")

    _run(body)


def _animate_ig(
    inputs: list[str],
    style: Any,
    out: Path,
    events: str | None,
    ids: str | None,
    where: str | None,
    max_events: int | None,
    overwrite: bool,
) -> list[Path]:
    """`animate` for iSpy .ig files: selected by --events/--ids, as in `render`."""
    from ispyrender.animate_job import animate_ig
    from ispyrender.errors import SelectionError
    from ispyrender.ig import IgFile
    from ispyrender.ig_job import select_ig
    from ispyrender.selection import parse_events, parse_ids

    if not all(i.lower().endswith(".ig") for i in inputs):
        raise SelectionError("mixing iSpy .ig files and NanoAOD files: animate them separately")
    if where:
        raise SelectionError(
            "--where reads NanoAOD branches; .ig files have none: use --events or --ids"
        )
    events_file = IgFile(inputs)
    chosen = select_ig(
        events_file,
        parse_events(events) if events else None,
        parse_ids(ids) if ids else None,
        max_events,
    )
    return animate_ig(events_file, chosen, style, out, overwrite=overwrite)


@app.command()
def inspect(
    inputs: InputsArg = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Summarise inputs: events, data or simulation, runs, collections, what a render would miss."""

    def body() -> None:
        from ispyrender.inspection import inspect_dataset
        from ispyrender.reading import Dataset

        with Dataset(_inputs(inputs)) as dataset:
            report = inspect_dataset(dataset)
        if json_:
            import json

            typer.echo(json.dumps(report.to_dict(), indent=2))
            return
        _print_report(report)

    _run(body)


def _print_report(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    data = report.to_dict()
    kind = "simulation" if data.get("is_simulation") else "collision data"
    console.print(f"[bold]{data.get('num_events')}[/] events, {kind}", markup=True)
    runs = data.get("run_range")
    if runs:
        console.print(f"runs {runs[0]} to {runs[1]}")
    files = Table("input", "entries", "storage", title=None, box=None)
    for f in data.get("files", []):
        files.add_row(_escape(f.get("path")), str(f.get("entries")), str(f.get("storage")))
    console.print(files)
    table = Table("collection", "mean", "max", box=None)
    for name, c in data.get("collections", {}).items():
        table.add_row(name, f"{c.get('mean', 0):.2f}", str(c.get("max")))
    console.print(table)
    missing = data.get("missing") or []
    if missing:
        console.print("[bold]a render would miss:[/]", markup=True)
        for line in missing:
            console.print(f"  - {_escape(line)}")


@app.command()
def sample(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the file.")] = Path(
        "ispyrender_sample.root"
    ),
) -> None:
    """Write the built-in sample (a small simulated NanoAOD-like file) to a file."""

    def body() -> None:
        from ispyrender.sample import write_sample

        path = write_sample(out)
        typer.echo(f"wrote {path}")

    _run(body)


@app.command()
def styles(
    show: Annotated[str | None, typer.Option(help="Print this style in full, as YAML.")] = None,
    set_: SetOpt = None,
) -> None:
    """List the built-in style presets, or print one in full."""

    def body() -> None:
        from ispyrender.style import list_presets, load_style

        if show is None:
            for name in list_presets():
                typer.echo(name)
            return
        import yaml

        typer.echo(yaml.safe_dump(load_style(show, set_ or []).model_dump(), sort_keys=False))

    _run(body)


@app.command()
def selections() -> None:
    """List the named selections usable as --where @NAME."""

    def body() -> None:
        from ispyrender.expressions import list_selections

        for selection in list_selections():
            typer.echo(f"@{selection.name}: {selection.description}")
            typer.echo(f"    {selection.where}")

    _run(body)


@app.command()
def gallery(
    inputs: InputsArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the site.")] = Path(
        "gallery_site"
    ),
    style: StyleOpt = "outreach",
    set_: SetOpt = None,
    events: Annotated[
        str | None, typer.Option("--events", help="Entry numbers across inputs: 0,3,10:20.")
    ] = None,
    ids: Annotated[
        str | None, typer.Option("--ids", help="Event ids RUN:LUMI:EVENT, comma separated.")
    ] = None,
    where: Annotated[
        str | None, typer.Option("--where", help="Keep events passing a condition, or @NAME.")
    ] = None,
    max_events: Annotated[
        int | None, typer.Option("--max-events", "-n", min=1, help="At most N events.")
    ] = None,
    thumb_size: Annotated[
        str, typer.Option("--thumb-size", help="Thumbnail box, WIDTHxHEIGHT.")
    ] = "320x180",
    animate: Annotated[
        bool, typer.Option(help="Add a turntable movie (webm) to every event page.")
    ] = False,
    models: Annotated[
        bool, typer.Option(help="Add the three.js page with the detector to every event page.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing gallery.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """A static web gallery: thumbnails with filters, a page per event with a 3D view."""

    def body() -> None:
        from ispyrender.gallery import GalleryOptions, build_gallery, parse_size
        from ispyrender.reading import Dataset
        from ispyrender.style import load_style

        options = GalleryOptions(
            out=out,
            thumb_size=parse_size(thumb_size),
            overwrite=overwrite,
            animate=animate,
            models=models,
        )
        # 1280x720 unless the user says otherwise: big enough to read, light enough for a site.
        the_style = load_style(style, ["canvas.width=1280", "canvas.height=720", *(set_ or [])])
        console = _stderr()
        with Dataset(_inputs(inputs)) as dataset:
            entries = _select(dataset, events, ids, max_events, where)

            warn = _warner(console)

            index = _with_progress(
                len(entries),
                quiet,
                lambda progress: build_gallery(
                    dataset, entries, the_style, options, warn=warn, progress=progress
                ),
            )
        if not quiet:
            console.print(f"wrote a gallery of {len(entries)} event(s): {_escape(index)}")

    _run(body)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
