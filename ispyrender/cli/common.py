"""What every command shares: option declarations, the one-line error report, progress bars.

typer and rich are imported here and in the command modules only; everything heavy is
imported inside the command bodies, so that ``ispyrender --help`` answers at once.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
CameraOpt = Annotated[
    str | None,
    typer.Option(
        "--camera",
        help="event: frame each event on its objects; series: every event alike (3 m about "
        "the beam spot), so that pictures of many events compare; detector: the whole "
        "detector. Sets camera.focus.",
    ),
]
CAMERA_FOCUS = ("event", "series", "detector")


@dataclass
class Shared:
    """The options every command that draws events takes, declared once (:func:`event_command`
    adds them to a command): the inputs, ``--set``, the selection and ``--quiet``."""

    inputs: list[str] | None
    set_: list[str] | None
    events: str | None
    ids: str | None
    ids_file: Path | None
    where: str | None
    max_events: int | None
    quiet: bool
    camera: str | None = None
    _said_base: bool = False  # the implicit base is said once per command

    def style(
        self,
        name: str,
        defaults: list[str] | None = None,
        flags: list[str] | None = None,
        base: str = "publication",
    ) -> Style:
        """The style ``name`` with a command's ``defaults``, then --set, then the command's
        own ``flags`` (--frames says what it says, whatever --set said), then --camera. A
        style file without ``base:`` starts from ``base``, the command's own preset, and a
        warning says so."""
        from ispyrender.errors import UsageError

        focus = []
        if self.camera is not None:
            if self.camera not in CAMERA_FOCUS:
                raise UsageError(
                    f"--camera {self.camera!r} is not a camera: use {', '.join(CAMERA_FOCUS)}"
                )
            focus = [f"camera.focus={self.camera}"]
        style = load(name, [*(defaults or []), *(self.set_ or []), *(flags or []), *focus], base)
        if style.implicit_base is not None and not self._said_base:
            self._said_base = True
            self.warn()(
                f"{name} has no 'base:': it starts from the {style.implicit_base} preset, this "
                "command's own; write 'base: <preset>' in it to choose another"
            )
        return style

    def selection(self) -> Selection:
        from ispyrender.selection import Selection

        return Selection(self.events, self.ids, self.ids_file, self.where, self.max_events)

    def console(self) -> Console:
        return stderr()

    def warn(self) -> Callable[[str], None]:
        return warner(stderr(), self.quiet)

    def over_events(
        self,
        job: Callable[[EventSource, list[int], Callable[[Any], None]], T],
        steps: Callable[[int], int] | None = None,
        unit: str = "ev",
    ) -> tuple[T, int]:
        """Open the inputs, resolve the selection, and run ``job(source, entries, progress)``
        under a progress bar; the job's result and the number of events selected. The bar
        counts events, or ``steps(number of events)`` of ``unit`` (a movie's frames)."""
        from ispyrender.sources import open_source

        with open_source(self.inputs) as source:
            entries = self.selection().resolve(source)
            total = steps(len(entries)) if steps is not None else len(entries)
            result = with_progress(
                total, self.quiet, lambda progress: job(source, entries, progress), unit
            )
        return result, len(entries)


#: Shared's fields as command parameters, in the order --help lists them after a command's own.
_SHARED_PARAMETERS = {
    "set_": SetOpt,
    "events": EventsOpt,
    "ids": IdsOpt,
    "ids_file": IdsFileOpt,
    "where": WhereOpt,
    "max_events": MaxEventsOpt,
    "quiet": QuietOpt,
    "camera": CameraOpt,
}


def event_command(command: Callable[..., None]) -> Callable[..., None]:
    """A command that draws events: ``command(shared, ...its own options)`` gets the inputs
    (first), --set, the selection and --quiet (after its own options) as one :class:`Shared`,
    and runs under :func:`run` (one error line, no traceback)."""
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values()]
    assert own[0].name == "shared"
    kind = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("inputs", kind, annotation=InputsArg, default=None),
        *(p.replace(kind=kind) for p in own[1:]),
        *(
            inspect.Parameter(
                name, kind, annotation=hint, default=False if name == "quiet" else None
            )
            for name, hint in _SHARED_PARAMETERS.items()
        ),
    ]

    @functools.wraps(command)
    def wrapper(**options: Any) -> None:
        shared = Shared(
            inputs=options.pop("inputs"), **{k: options.pop(k) for k in _SHARED_PARAMETERS}
        )
        run(lambda: command(shared, **options), quiet=shared.quiet)

    # typer reads the signature and the type hints: the command's own plus the shared ones.
    wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


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


class Terminated(KeyboardInterrupt):
    """SIGTERM (a batch system stopping the job): the clean-up path of Ctrl-C, and at the end
    the exit status a shell gives a command the signal killed (128 + 15)."""


def _raise_interrupt(signum: int, frame: object) -> None:
    import signal

    from ispyrender.interrupts import stop

    stop(KeyboardInterrupt() if signum == signal.SIGINT else Terminated())


@contextlib.contextmanager
def _own_warnings(quiet: bool) -> Iterator[None]:
    """Python warnings (numpy's RuntimeWarnings, a library's deprecations) and matplotlib's
    logged lines ("findfont: ...") said as this program's own warnings: each text once, with
    how often it came, at the end of the command, never with source lines; with --quiet,
    nothing."""
    import logging
    import warnings
    from collections import Counter

    seen: Counter[str] = Counter()

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        seen[f"{category.__name__}: {' '.join(str(message).split())}"] += 1

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen[" ".join(record.getMessage().split())] += 1

    logger = logging.getLogger("matplotlib")
    handler = Collect(logging.WARNING)
    saved = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False  # not also to logging's last-resort handler on stderr
    with warnings.catch_warnings():
        warnings.showwarning = show
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.propagate = saved
            if not quiet and seen:
                warn = warner(stderr())
                for text, n in seen.items():
                    warn(text + (f" ({n} times)" if n > 1 else ""))


def run(body: Callable[[], T], quiet: bool = False) -> T:
    """Run a command body, turning user errors into one line and an exit code; Python
    warnings become the command's own (see :func:`_own_warnings`)."""
    import signal
    import threading

    # SIGTERM (a batch system stopping the job) takes the same clean-up path as Ctrl-C: temp
    # files removed, worker processes terminated. Handlers can only be set in the main thread.
    if threading.current_thread() is threading.main_thread():
        # Both go through ispyrender.interrupts, which holds them while a batch puts down a
        # file and its manifest record together.
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        with _own_warnings(quiet):
            return body()
    except IspyError as exc:
        stderr().print(f"[bold red]error:[/] {escape(exc)}", markup=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt as exc:
        stopped = isinstance(exc, Terminated)
        by = " by SIGTERM" if stopped else ""
        stderr().print(f"interrupted{by}: no partial files were left behind")
        raise typer.Exit(128 + signal.SIGTERM if stopped else 130) from None


def check_output_flags(overwrite: bool, skip_existing: bool) -> None:
    if overwrite and skip_existing:
        from ispyrender.errors import UsageError

        raise UsageError("--overwrite and --skip-existing contradict each other: pick one")


def load(style: str, overrides: list[str] | None, base: str = "publication") -> Style:
    from ispyrender.config.loader import load_style

    return load_style(style, overrides or [], default_base=base)


def warner(console: Any, quiet: bool = False) -> Callable[[str], None]:
    """Print warnings in yellow; with --quiet, nothing (errors are reported regardless)."""

    def warn(message: str) -> None:
        if quiet:
            return
        console.print(f"[yellow]warning:[/] {escape(message)}", markup=True)

    return warn


def with_progress(
    total: int, quiet: bool, job: Callable[[Callable[[Any], None]], T], unit: str = "ev"
) -> T:
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
            return Text("" if speed is None else f"{speed:.1f} {unit}/s")

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
