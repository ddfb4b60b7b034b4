"""The one runner: what every job does around its event loop, done once, in one place.

Every job (render, figure, animate, gallery, a batch's parent, the Python API) starts the same
way: the headless GL stack checked when the product draws, the mass requests checked against
the file's branches when masses are printed, the file names planned (a bad template, a clash
or an existing file fails before anything is written), the physics builder made (a file with
nothing to draw is refused), the output folder made, and the builder's notes said. It ends
the same way too: the events kept from an earlier run listed, and the objects skipped for NaN
values said once. A job module keeps only its product and its options.

The style passes through unchanged, except that mass requests a file cannot serve are left
out here, the one place that may do so, with a note each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, cast

from ispyrender.config.style import Style
from ispyrender.jobs.results import EventResult
from ispyrender.outputs.lock import FolderLock
from ispyrender.physics import EventBuilder
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.scene.primitives import Scene
from ispyrender.sources.base import EventSource

if TYPE_CHECKING:
    from ispyrender.jobs.render import RenderOptions

__all__ = ["EventRun"]

T = TypeVar("T")


def _ahead(items: Iterator[T]) -> Iterator[T]:
    """``items``, each next one made in a worker thread while the caller works on this one.
    One item at a time is asked of ``items``, so it never runs in two threads at once; its
    exceptions are raised where the caller asks for that item. When the caller stops early
    (an error, Ctrl-C), the item in the making is finished and ``items`` closed."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ispyrender-next-event")
    end = object()
    try:
        coming = pool.submit(next, items, end)
        while True:
            item = coming.result()
            if item is end:
                return
            coming = pool.submit(next, items, end)
            yield cast(T, item)
    finally:
        pool.shutdown(wait=True)
        close = getattr(items, "close", None)
        if close is not None:
            close()


class EventRun:
    """The set-up and the close of one job over the selected ``entries`` of ``source``.

    ``suffixes`` are the files each event gets; ``gl`` says whether this process draws with
    OpenGL; ``masses`` where the product prints the masses of ``figure.masses``: ``"figure"``
    (always), ``"labels"`` (on the picture, when the style's ``labels.masses`` asks), or None.
    ``prepare`` makes the output folder now (a job that makes it later, after its own checks,
    passes False). ``lock`` takes the output folder for this run (see
    :mod:`ispyrender.outputs.lock`) before anything is checked or written there; the job gives
    it back with :meth:`release`, in a ``finally``. ``kind`` names a movie's kind in the
    default file names. ``size`` (width, height, "picture" | "figure" | "movie") is what each
    event is drawn at, checked against the machine's memory before anything else.
    """

    def __init__(
        self,
        source: EventSource,
        entries: Sequence[int],
        style: Style,
        out: Path,
        suffixes: Sequence[str],
        *,
        gl: bool,
        masses: Literal["figure", "labels"] | None = None,
        overwrite: bool = False,
        skip_existing: bool = False,
        prepare: bool = True,
        lock: bool = True,
        kind: str | None = None,
        size: tuple[int, int, str] | None = None,
        warn: Callable[[str], None] = lambda message: None,
    ) -> None:
        from ispyrender.outputs.targets import check_folder_name, plan_outputs

        self.source = source
        self.entries = list(entries)
        self.warnings: list[str] = []
        self._warn = warn
        notes: list[str] = []  # said once the run has passed every check
        if size is not None:
            from ispyrender.jobs.memory import check_fits

            check_fits(*size)
        if gl:
            from ispyrender.rendering.renderer import check_headless

            # Before the output folder is made: a machine without EGL leaves nothing behind.
            check_headless()
        if masses == "figure" or (masses == "labels" and style.labels.masses):
            style = self._served_masses(style, masses == "labels", notes)
        self.style = style
        # Before the files already there are looked at: two runs into one folder would both
        # find it free, and the later would replace the earlier's files.
        if lock:
            check_folder_name(out)  # a name the system cannot take: said as such, first
        self._lock = FolderLock(out).acquire() if lock else None
        try:
            self.plan = plan_outputs(
                source,
                self.entries,
                style,
                out,
                list(suffixes),
                overwrite=overwrite,
                skip_existing=skip_existing,
                kind=kind,
            )
            self.builder = EventBuilder(source, style)  # refuses a file with nothing to draw
            if prepare:
                self.plan.prepare()
        except BaseException:
            self.release()
            raise
        for message in notes + self.builder.warnings:
            self.say(message)
        #: The entries still to make (with skip_existing, those whose files are missing).
        self.todo = self.plan.todo(self.entries)

    @classmethod
    def for_files(
        cls,
        source: EventSource,
        entries: Sequence[int],
        style: Style,
        options: RenderOptions,
        *,
        draws_here: bool = True,
        warn: Callable[[str], None] = lambda message: None,
    ) -> EventRun:
        """The run of a job that writes each event's files in ``options.format`` (render, a
        batch); ``draws_here`` is False where other processes draw (a Dask cluster)."""
        from ispyrender.outputs.registry import check_format

        product = check_format(options.format)
        return cls(
            source,
            entries,
            style,
            options.out,
            product.suffixes,
            gl=product.needs_gl and draws_here,
            masses="labels" if product.needs_gl else None,
            overwrite=options.overwrite,
            skip_existing=options.skip_existing,
            size=(
                round(style.canvas.width * options.scale),
                round(style.canvas.height * options.scale),
                "picture",
            )
            if product.needs_gl and draws_here
            else None,
            warn=warn,
        )

    def say(self, message: str) -> None:
        """A warning of this run: kept for the summary and passed to the job's ``warn``."""
        self.warnings.append(message)
        self._warn(message)

    def _served_masses(self, style: Style, on_picture: bool, notes: list[str]) -> Style:
        from ispyrender.physics.quantities import served_mass_requests

        asked = bool(style.figure.masses)
        available = self.source.available_branches() if self.source.has_branches else None
        kept, left_out = served_mass_requests(style, available)
        notes += left_out
        if on_picture and not asked:
            notes.append(
                "labels.masses is true but figure.masses asks for no mass: nothing is "
                "written; e.g. --set 'figure.masses=[{collection: muons, count: 2}]'"
            )
        if len(kept) == len(style.figure.masses):
            return style
        figure = style.figure.model_copy(update={"masses": kept})
        return style.model_copy(update={"figure": figure})

    def events(self, entries: Sequence[int] | None = None) -> Iterator[PhysicsEvent]:
        """The physics objects of the entries to make (or of ``entries``), one at a time."""
        return self.builder.events(self.todo if entries is None else entries)

    def scenes(self, entries: Sequence[int] | None = None) -> Iterator[tuple[PhysicsEvent, Scene]]:
        """The physics objects and the scene of each entry to make (or of ``entries``), the
        next event read and built in a thread while the job draws this one: VTK lets go of
        the GIL while it renders, so the two overlap (320x180 pictures: 17.9 -> about 20
        events/s; 1920x1080 ones, whose render already keeps both cores busy, the same).
        Errors come in the order of the events."""
        from ispyrender.scene.event import build_scene

        style = self.style

        def made() -> Iterator[tuple[PhysicsEvent, Scene]]:
            for physics in self.events(entries):
                yield physics, build_scene(physics, style)

        return _ahead(made())

    def path(self, index: int, suffix: str | None = None) -> Path:
        return self.plan.path(index, suffix)

    def kept(self) -> list[EventResult]:
        """The selected events left as they were (skip_existing), for the summary."""
        done = set(self.todo)
        return [
            EventResult(idx, 0, None, 0, "", self.plan.path(idx), skipped=True)
            for idx in sorted(set(self.entries) - done)
        ]

    def close(self) -> None:
        """Say once what the whole run skipped for NaN values."""
        for message in self.builder.nan_warnings():
            self.say(message)

    def release(self) -> None:
        """Give the output folder back to other runs (at the end, or on any failure)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
