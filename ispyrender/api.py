"""The Python API: open event files, pick events, and draw them, in scripts and notebooks.

    import ispyrender
    src = ispyrender.open("nano_dimuon.root")          # NanoAOD, iSpy .ig, or None: the sample
    ev = src.event(run=315267, lumi=205, event=197713878)   # or src[3]
    img = ispyrender.render(ev, style="outreach", canvas__width=800)
    img.save("event.png")                              # a Jupyter cell shows img by itself

Style settings are keyword arguments with ``__`` between the levels (``canvas__width=800``,
``collections__jets__min_pt=30``), the same keys as ``--set`` on the command line. The functions
run the same stages as the commands (source -> physics -> scene -> render -> outputs) and give
the same pictures, byte for byte.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np

from ispyrender.config.style import Style
from ispyrender.errors import StyleError, UsageError
from ispyrender.outputs.registry import check_format, suffix_formats
from ispyrender.sources.base import EventSource

__all__ = [
    "Event",
    "Events",
    "FigureImage",
    "Picture",
    "animate",
    "export",
    "figure",
    "open",
    "render",
]

_open = open  # the built-in, before this module's open() hides it


# ---- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One event of a source: a handle, read when it is drawn (with the branches the style
    needs)."""

    source: EventSource
    index: int

    @property
    def id(self) -> tuple[int, int | None, int]:
        """(run, lumi section or None, event)."""
        ids = self.source.ids()
        lumi = None if ids.lumi is None else int(ids.lumi[self.index])
        return int(ids.run[self.index]), lumi, int(ids.event[self.index])

    def __repr__(self) -> str:
        run, lumi, event = self.id
        where = self.source.locate(self.index)[0].path
        return f"<Event {run}:{lumi}:{event} (entry {self.index} of {where})>"


#: What select() takes, in its TypeErrors.
_EXAMPLES = {"where": "'nMuon >= 2'", "ids": "'315267:205:197713878'"}


class Events:
    """The events of one or more files, for scripts and notebooks. Use as a context manager
    (or call close()) to release the files."""

    def __init__(self, source: EventSource) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        """One event by entry (negative from the end), or a list of events by a slice, as a
        Python list slices: ``events[2:4]``."""
        n = len(self.source)
        if isinstance(index, slice):
            return [Event(self.source, i) for i in range(n)[index]]
        if not isinstance(index, int | np.integer):
            raise TypeError(f"events are picked by an entry number or a slice, not {index!r}")
        if not -n <= index < n:
            raise IndexError(f"entry {index} out of range: the inputs hold {n} events")
        return Event(self.source, int(index) % n)

    def __iter__(self) -> Iterator[Event]:
        return (Event(self.source, i) for i in range(len(self.source)))

    def event(self, run: int, event: int, lumi: int | None = None) -> Event:
        """The event with this id (the lumi section is optional, as in ``--ids RUN:EVENT``)."""
        from ispyrender.selection import Selection

        (index, *_) = Selection(ids=[(run, lumi, event)]).resolve(self.source)
        return Event(self.source, index)

    def select(
        self,
        events: str | Sequence[int | slice] | None = None,
        ids: str | None = None,
        where: str | None = None,
        max_events: int | None = None,
    ) -> list[Event]:
        """Events chosen as on the command line: ``select(where="nMuon >= 2", max_events=5)``."""
        from ispyrender.selection import Selection

        for name, value, kind in (("where", where, str), ("ids", ids, str)):
            if value is not None and not isinstance(value, kind):
                raise TypeError(
                    f"select({name}=...) takes text such as {_EXAMPLES[name]}, not {value!r}"
                )
        if max_events is not None and (
            isinstance(max_events, bool) or not isinstance(max_events, int)
        ):
            raise TypeError(f"select(max_events=...) takes a whole number, not {max_events!r}")

        chosen = Selection(events=events, ids=ids, where=where, max_events=max_events)
        return [Event(self.source, i) for i in chosen.resolve(self.source)]

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> Events:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        files = len(self.source.inputs)
        return f"<Events: {len(self)} {self.source.kind} events from {files} file(s)>"


def open(inputs: str | Path | Sequence[str | Path] | None = None) -> Events:
    """Open NanoAOD files (TTree or RNTuple, local or root:// / https://) or iSpy ``.ig`` files;
    with no inputs, the built-in sample."""
    from ispyrender.sources import open_source

    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    if inputs is not None:
        wrong = [i for i in _items(inputs) if not isinstance(i, str | Path)]
        if wrong:
            raise TypeError(
                f"open() takes file paths or URLs (str or Path), or a list of them, not "
                f"{wrong[0]!r}"
            )
    return Events(open_source(None if inputs is None else [str(i) for i in inputs]))


def _items(value: Any) -> list[Any]:
    """The items of a list-like argument, or the argument itself as its one item."""
    try:
        return list(value)
    except TypeError:
        return [value]


def _style(style: str | Style, overrides: dict[str, Any]) -> Style:
    from ispyrender.config.loader import load_style

    if not isinstance(style, str | Style):
        raise TypeError(
            f"style must be a preset name, a style file's path or a Style, not {style!r}"
        )
    sets = [f"{key.replace('__', '.')}={json.dumps(value)}" for key, value in overrides.items()]
    try:
        if isinstance(style, Style):
            if not sets:
                return style
            # A Style object plus overrides: validated as a --set on its own settings.
            from ispyrender.config.loader import style_from_data

            return style_from_data(style, sets)
        return load_style(style, sets)
    except StyleError as exc:
        # The loader names an override as the command line writes it; here it was a keyword.
        message = str(exc)
        for (key, value), text in zip(overrides.items(), sets, strict=True):
            message = message.replace(f"--set {text}", f"keyword {key}={value!r}")
        raise StyleError(message) from None


def _one(event: Any) -> tuple[EventSource, int]:
    """The source and entry of what the user gave: an Event, or an awkward record of one event."""
    if isinstance(event, Event):
        return event.source, event.index
    from ispyrender.sources.records import RecordSource

    return RecordSource([event]), 0


def _physics_and_scene(event: Any, style: Style) -> tuple[Any, Any]:
    from ispyrender.physics import EventBuilder
    from ispyrender.scene.event import build_scene

    source, index = _one(event)
    (physics,) = EventBuilder(source, style).events([index])
    return physics, build_scene(physics, style)


# ---- pictures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """A rendered event: ``array`` (H, W, 3 or 4 uint8), saved as PNG with the event's
    metadata; shown by Jupyter."""

    array: np.ndarray
    metadata: dict[str, str]
    compression: int = 1

    def png(self) -> bytes:
        from ispyrender.outputs.files import encode_png

        return encode_png(self.array, self.metadata, self.compression)

    def save(self, path: str | Path) -> Path:
        """Write the picture by the suffix (atomically: a temporary file, then renamed): PNG
        with the event's metadata, or JPEG / WebP / TIFF through Pillow."""
        from ispyrender.outputs.files import write_bytes_atomic

        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".png":
            write_bytes_atomic(target, self.png())
            return target
        kind = _PILLOW_FORMATS.get(suffix)
        if kind is None:
            known = ", ".join([".png", *_PILLOW_FORMATS])
            raise UsageError(f"{target.name}: a Picture saves as {known}; use export() for 3D")
        import io

        from PIL import Image

        image = Image.fromarray(self.array)
        if kind == "JPEG":
            image = image.convert("RGB")  # JPEG has no alpha
        buffer = io.BytesIO()
        image.save(buffer, kind, **({"quality": 95} if kind in ("JPEG", "WEBP") else {}))
        write_bytes_atomic(target, buffer.getvalue())
        return target

    def __repr__(self) -> str:
        height, width = self.array.shape[:2]
        run, event = self.metadata.get("ispyrender.run"), self.metadata.get("ispyrender.event")
        return f"<Picture {width}x{height} run {run} event {event}>"

    def _repr_png_(self) -> bytes:
        return self.png()


#: What Picture.save writes through Pillow, by suffix.
_PILLOW_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


class _Renderers:
    """The last renderer used, kept for the next call with the same style and size: a window
    with its detector costs a few tenths of a second to make, which a notebook drawing event
    after event should not pay."""

    def __init__(self) -> None:
        self.key: tuple[str, float] | None = None
        self.products: Any = None

    def get(self, style: Style, scale: float) -> Any:
        from ispyrender.outputs.products import EventProducts

        key = (style.digest(), scale)
        if key != self.key:
            self.close()
            self.products = EventProducts("png", style, scale)
            self.key = key
        return self.products

    def close(self) -> None:
        if self.products is not None:
            self.products.close()
        self.products, self.key = None, None


_RENDERERS = _Renderers()


def render(
    event: Any, style: str | Style = "publication", *, scale: float = 1.0, **overrides: Any
) -> Picture:
    """The picture of one event (an Event of ``open()``, or an awkward record of NanoAOD
    fields), as ``ispyrender render`` draws it."""
    from ispyrender.outputs.targets import event_metadata
    from ispyrender.rendering.renderer import check_headless

    the_style = _style(style, overrides)
    _check_scale(the_style, scale)
    check_headless()
    physics, scene = _physics_and_scene(event, the_style)
    image = _RENDERERS.get(the_style, scale).image(physics, scene)
    return Picture(image, event_metadata(physics, the_style), the_style.output.png_compression)


@dataclass(frozen=True)
class FigureImage:
    """A publication figure of one event; ``save("fig.pdf")`` writes PNG, SVG, PDF or EPS by
    the suffix. Shown by Jupyter as PNG."""

    event: Any
    style: Style
    scale: float = 1.0

    @functools.cached_property
    def _content(self) -> tuple[Any, dict[str, str]]:
        # Built once: saving PNG and PDF of one figure renders its 3D panel once.
        return _figure_content(self.event, self.style, self.scale)

    def data(self, fmt: str) -> bytes:
        from ispyrender.figures.encode import render_figure_bytes
        from ispyrender.jobs.figure import FORMATS

        if fmt not in FORMATS:
            raise UsageError(f"figures save as {', '.join(FORMATS)}, not {fmt!r}")
        content, metadata = self._content
        return render_figure_bytes(content, self.style, [fmt], self.scale, metadata)[fmt]

    def save(self, path: str | Path) -> Path:
        from ispyrender.outputs.files import write_bytes_atomic

        target = Path(path)
        write_bytes_atomic(target, self.data(target.suffix.lower().lstrip(".")))
        return target

    def __repr__(self) -> str:
        return f"<FigureImage of {self.event!r}, style {self.style.name!r}, scale {self.scale:g}>"

    def _repr_png_(self) -> bytes:
        return self.data("png")


def _check_scale(style: Style, scale: float) -> None:
    """``scale`` as the CLI's --scale allows it: a positive number that keeps the picture
    within the one 7680x4320 limit (a scale of 1e6 would abort the interpreter in the GL)."""
    from ispyrender.config.style import MAX_HEIGHT, MAX_WIDTH, largest_scale

    if isinstance(scale, bool) or not isinstance(scale, int | float):
        raise TypeError(f"scale must be a number, not {scale!r}")
    width, height = style.canvas.width * scale, style.canvas.height * scale
    if not (scale > 0 and round(width) <= MAX_WIDTH and round(height) <= MAX_HEIGHT):
        fits = largest_scale(style.canvas.width, style.canvas.height)
        raise UsageError(
            f"scale {scale:g} of the {style.canvas.width}x{style.canvas.height} canvas: use a "
            f"scale above 0 and at most {fits:.3g} (pictures are at most {MAX_WIDTH}x{MAX_HEIGHT})"
        )
    from ispyrender.jobs.memory import check_fits

    check_fits(round(width), round(height), "picture")  # before the interpreter runs out


def _figure_content(event: Any, style: Style, scale: float) -> tuple[Any, dict[str, str]]:
    """The figure's content (objects, scene, 3D panel images, masses) and its metadata."""
    from ispyrender.figures.layout import FigureContent, panel_sizes
    from ispyrender.outputs.targets import event_metadata
    from ispyrender.physics.quantities import masses
    from ispyrender.rendering.panels import PanelRenderers

    physics, scene = _physics_and_scene(event, style)
    sizes = panel_sizes(style, scale)
    images: dict[int, np.ndarray] = {}
    if sizes:
        from ispyrender.rendering.renderer import check_headless

        check_headless()
        panels = PanelRenderers(style, sizes, scale=scale)
        try:
            images = panels.draw(scene)
        finally:
            panels.close()
    content = FigureContent(physics, scene, images, masses(physics, style.figure.masses))
    return content, event_metadata(physics, style)


def figure(
    event: Any, style: str | Style = "paper", *, scale: float = 1.0, **overrides: Any
) -> FigureImage:
    """A publication figure (3D, rho-phi, rho-z and lego panels as the style's ``figure:``
    section lays them out), as ``ispyrender figure`` makes it."""
    from ispyrender.jobs.figure import FigureOptions, check_figure

    the_style = _style(style, overrides)
    check_figure(the_style, FigureOptions(out=Path("."), scale=scale))
    return FigureImage(event, the_style, scale)


# ---- movies and 3D files -----------------------------------------------------------------------


def animate(
    event: Any, path: str | Path, style: str | Style = "outreach", **overrides: Any
) -> Path:
    """A movie of one event (turntable or collision, MP4/WebM/GIF by ``animation:``), written
    to ``path``; its suffix sets the format."""
    from ispyrender.jobs.animate import write_movie

    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    the_style = _style(style, {"animation__format": fmt, **overrides})
    physics, scene = _physics_and_scene(event, the_style)
    return write_movie(physics, scene, the_style, target)


#: The 3D formats export() writes, by suffix (the PNG is render()'s).
_EXPORTS = {suffix: p.name for suffix, p in suffix_formats("event").items() if p.name != "png"}


def export(
    event: Any, path: str | Path, style: str | Style = "publication", **overrides: Any
) -> Path:
    """The event as a 3D file, by the suffix of ``path``: ``.json`` (HSF Phoenix), ``.glb``
    (glTF with the detector), ``.obj`` (+ ``.mtl``) or ``.html`` (a page that turns it)."""
    from ispyrender.outputs.files import write_bytes_atomic
    from ispyrender.outputs.products import EventProducts, materialise

    target = Path(path)
    fmt = _EXPORTS.get(target.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"{target.name}: export writes {', '.join(_EXPORTS)}; use render() for PNG"
        )
    the_style = _style(style, overrides)
    physics, scene = _physics_and_scene(event, the_style)
    paths = {suffix: target.with_suffix(suffix) for suffix in check_format(fmt).suffixes}
    with EventProducts(fmt, the_style) as products:
        for file, blob in products.make(physics, scene, paths).items():
            write_bytes_atomic(file, materialise(blob))
    return target
