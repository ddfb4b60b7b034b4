"""What every command shares: option declarations, the one-line error report, progress bars.

typer and rich are imported here and in the command modules only; everything heavy is
imported inside the command bodies, so that ``ispyrender --help`` answers at once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ispyrender.errors import IspyError

if TYPE_CHECKING:
    from rich.console import Console

    from ispyrender.config.style import Style
    from ispyrender.selection import Selection
    from ispyrender.sources.base import EventSource

T = TypeVar("T")

InputsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="NanoAOD files (TTree or RNTuple), iSpy .ig files, globs, or root:// / https:// "
        "URLs. Default: the built-in sample.",
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
# The event selection, shared by every command that draws events.
EventsOpt = Annotated[
    str | None, typer.Option("--events", help="Entry numbers across inputs: 0,3,10:20.")
]
IdsOpt = Annotated[
    str | None,
    typer.Option("--ids", help="Event ids RUN:LUMI:EVENT (or RUN:EVENT), comma separated."),
]
IdsFileOpt = Annotated[
    Path | None, typer.Option("--ids-file", help="File of RUN:LUMI:EVENT ids, one a line.")
]
WhereOpt = Annotated[
    str | None,
    typer.Option(
        "--where",
        help="Keep events passing a condition, e.g. 'nMuon >= 2 and Muon_pt[0] > 20', or a "
        "named selection such as @dimuon (see 'ispyrender selections'). NanoAOD only.",
    ),
]
MaxEventsOpt = Annotated[
    int | None, typer.Option("--max-events", "-n", min=1, help="At most N events.")
]
OverwriteOpt = Annotated[bool, typer.Option(help="Replace existing files.")]
SkipExistingOpt = Annotated[
    bool, typer.Option(help="Keep existing files and make the rest (resume a run).")
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress bar, summary or warnings (errors still)."),
]


def stderr() -> Console:
    from rich.console import Console

    # No emoji codes: a path such as 'run:x:1.root' would print with a cross in it.
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def escape(text: object) -> str:
    """User text (paths, messages) for a rich print: '[x]' would otherwise read as markup,
    vanish from the line, or (as '[/x]') crash the error report with a traceback; the bytes
    of a file name that are not UTF-8 (os.fsdecode's surrogates) are shown as \\xNN, where
    writing them could fail."""
    from rich.markup import escape as rich_escape

    shown = re.sub("[\udc80-\udcff]", lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", str(text))
    return rich_escape(shown.encode("utf-8", "backslashreplace").decode("utf-8"))


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(body: Callable[[], T]) -> T:
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
        stderr().print(f"[bold red]error:[/] {escape(exc)}", markup=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        stderr().print("interrupted: no partial files were left behind")
        raise typer.Exit(130) from None


def selection(
    events: str | None,
    ids: str | None,
    ids_file: Path | None,
    where: str | None,
    max_events: int | None,
) -> Selection:
    from ispyrender.selection import Selection

    return Selection(events, ids, ids_file, where, max_events)


def check_output_flags(overwrite: bool, skip_existing: bool) -> None:
    if overwrite and skip_existing:
        from ispyrender.errors import UsageError

        raise UsageError("--overwrite and --skip-existing contradict each other: pick one")


def load(style: str, overrides: list[str] | None) -> Style:
    from ispyrender.config.loader import load_style

    return load_style(style, overrides or [])


def warner(console: Any, quiet: bool = False) -> Callable[[str], None]:
    """Print warnings in yellow; with --quiet, nothing (errors are reported regardless)."""

    def warn(message: str) -> None:
        if quiet:
            return
        console.print(f"[yellow]warning:[/] {escape(message)}", markup=True)

    return warn


def over_selection(
    inputs: list[str] | None,
    chosen: Selection,
    quiet: bool,
    job: Callable[[EventSource, list[int], Callable[[Any], None]], T],
) -> tuple[T, int]:
    """Open the inputs, resolve the selection, and run ``job(source, entries, progress)`` under
    a progress bar; returns the job's result and the number of events selected."""
    from ispyrender.sources import open_source

    with open_source(inputs) as source:
        entries = chosen.resolve(source)
        result = with_progress(len(entries), quiet, lambda progress: job(source, entries, progress))
    return result, len(entries)


def with_progress(total: int, quiet: bool, job: Callable[[Callable[[Any], None]], T]) -> T:
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
    with Progress(*columns, console=stderr(), transient=True) as bar:
        task = bar.add_task("render", total=total)
        return job(lambda result: bar.advance(task))
