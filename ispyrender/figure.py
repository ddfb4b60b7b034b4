"""The figure job: per event, one publication figure of several panels, in PNG, SVG, PDF and/or
EPS.

reading -> selection -> objects -> scene (as the render job) -> 3D panels rendered by the
:class:`~ispyrender.render.Renderer` as rasters of the panel's exact pixel size -> the figure
composed with matplotlib (:mod:`ispyrender.figure_layout`, :mod:`ispyrender.views`) -> each
format written atomically. Everything that can be refused (formats, size, mass requests the
file cannot serve, clashing or existing names) is refused before the output folder is touched.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ispyrender import __version__
from ispyrender.errors import OutputError, SelectionError, StyleError
from ispyrender.pipeline import EventResult, RenderOptions, RenderSummary, plan_targets, png_text
from ispyrender.reading import Dataset, EventRecord
from ispyrender.style import Style

__all__ = [
    "FORMATS",
    "MAX_SIZE",
    "FigureOptions",
    "check_figure",
    "figure_events",
    "parse_formats",
    "render_figure_bytes",
    "unpremultiply",
]

FORMATS = ("png", "svg", "pdf", "eps")
VECTOR = ("svg", "pdf", "eps")
MAX_SIZE = (7680, 4320)  # 8K UHD: the largest figure one command makes


@dataclass
class FigureOptions:
    out: Path
    formats: tuple[str, ...] = ("png",)
    overwrite: bool = False
    scale: float = 1.0


def parse_formats(text: str) -> tuple[str, ...]:
    """'png,pdf' -> ('png', 'pdf'); unknown names are refused with the allowed ones."""
    names = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    bad = [n for n in names if n not in FORMATS]
    if bad or not names:
        raise SelectionError(
            f"--format {text!r}: {bad[0] if bad else 'nothing'} is not a figure format; "
            f"allowed: {', '.join(FORMATS)} (several joined by commas, e.g. png,pdf)"
        )
    return names


def check_figure(style: Style, options: FigureOptions) -> None:
    """Refuse sizes beyond 8K and formats that cannot hold what the style asks for."""
    w = round(style.canvas.width * options.scale)
    h = round(style.canvas.height * options.scale)
    if w > MAX_SIZE[0] or h > MAX_SIZE[1]:
        raise StyleError(
            f"canvas.width x canvas.height x --scale = {w}x{h} is larger than "
            f"{MAX_SIZE[0]}x{MAX_SIZE[1]}: allowed up to {MAX_SIZE[0]}x{MAX_SIZE[1]} pixels; "
            "use a smaller --scale or canvas"
        )
    if style.canvas.transparent and "eps" in options.formats:
        raise StyleError(
            "canvas.transparent = true: EPS has no transparency; use png, svg or pdf, or "
            "--set canvas.transparent=false"
        )


def plan_figure_targets(
    dataset: Dataset, entries: Sequence[int], style: Style, options: FigureOptions
) -> dict[int, dict[str, Path]]:
    """Each event's output path per format, named as the render job names its PNGs."""
    # The render job's planner checks the template and name clashes; existence is checked
    # here, for every format.
    base = plan_targets(
        dataset, entries, style, RenderOptions(out=options.out, format="png", overwrite=True)
    )
    targets = {
        idx: {fmt: path.with_suffix(f".{fmt}") for fmt in options.formats}
        for idx, path in base.items()
    }
    if not options.overwrite:
        existing = [p for paths in targets.values() for p in paths.values() if p.exists()]
        if existing:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise OutputError(
                f"{existing[0]}{more} already exist: pass --overwrite to replace them"
            )
    return targets


def unpremultiply(image: np.ndarray) -> np.ndarray:
    """A transparent render made over black holds colour x alpha: divide it back out, so that
    anti-aliased edges keep their own colour and only their alpha is partial (no halo of the
    background colour when the figure is laid over anything)."""
    if image.shape[2] != 4:
        return image
    rgb = image[..., :3].astype(np.float32)
    alpha = image[..., 3:4].astype(np.float32) / 255.0
    with np.errstate(divide="ignore", invalid="ignore"):
        straight = np.where(alpha > 0, rgb / alpha, 0.0)
    out = image.copy()
    out[..., :3] = np.clip(np.rint(straight), 0, 255).astype(np.uint8)
    return out


class PanelRenderers:
    """One Renderer per 3D panel, each with the panel's camera and pixel size, kept for every
    event of the job (a plotter costs about a second to create)."""

    def __init__(self, style: Style, scale: float, tile_limit: int | None = None) -> None:
        from ispyrender.figure_layout import layout
        from ispyrender.geometry import build_detector
        from ispyrender.render import Renderer

        self.renderers: dict[int, tuple[object, int]] = {}
        lay = layout(style)
        detector = build_detector(style.detector)
        limit = tile_limit
        for i, panel in enumerate(style.figure.panels):
            if panel.view != "3d":
                continue
            w, h = lay.pixel_size(i, scale)
            if limit is None:
                from ispyrender.render import max_render_size

                limit = max_render_size()
            magnification = max(1, math.ceil(max(w, h) / limit))
            canvas = style.canvas.model_copy(
                update={
                    "width": math.ceil(w / magnification),
                    "height": math.ceil(h / magnification),
                    # Transparent panels are rendered over black: see unpremultiply.
                    "background": "black" if style.canvas.transparent else style.canvas.background,
                }
            )
            panel_style = style.model_copy(
                update={"canvas": canvas, "camera": panel.camera or style.camera}
            )
            self.renderers[i] = (Renderer(panel_style, detector), magnification)
        self.sizes = {i: lay.pixel_size(i, scale) for i in self.renderers}

    def draw(self, scene) -> dict[int, np.ndarray]:  # type: ignore[no-untyped-def]
        images = {}
        for i, (renderer, magnification) in self.renderers.items():
            image = renderer.draw(scene, magnification=magnification)  # type: ignore[attr-defined]
            w, h = self.sizes[i]
            image = image[:h, :w]  # tiles may overshoot by a few pixels
            if image.shape[2] == 4:
                image = unpremultiply(image)
            images[i] = image
        return images

    def close(self) -> None:
        for renderer, _ in self.renderers.values():
            renderer.close()  # type: ignore[attr-defined]


def render_figure_bytes(
    content, style: Style, formats: Sequence[str], scale: float, text: dict[str, str]
) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The figure in each format. EPS has no transparency, so its colours are drawn already
    blended onto the background (the same look, opaque)."""
    import matplotlib

    from ispyrender.figure_layout import compose, rc_params
    from ispyrender.outputs import encode_png
    from ispyrender.style import parse_color
    from ispyrender.views import Paint

    out: dict[str, bytes] = {}
    with matplotlib.rc_context(rc_params()):
        fig = None
        for fmt in formats:
            if fmt == "eps":
                flat = Paint(parse_color(style.canvas.background))
                compose(content, style, scale, flat).savefig(
                    buf := io.BytesIO(), format="eps", metadata=_vector_metadata(text)
                )
                out[fmt] = buf.getvalue()
                continue
            fig = fig or compose(content, style, scale)
            if fmt == "png":
                fig.canvas.draw()
                rgba = np.asarray(fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
                image = rgba if style.canvas.transparent else rgba[..., :3]
                out[fmt] = encode_png(
                    np.ascontiguousarray(image), text, style.output.png_compression
                )
            else:
                buf = io.BytesIO()
                fig.savefig(
                    buf,
                    format=fmt,
                    metadata=_vector_metadata(text, fmt),
                    transparent=style.canvas.transparent,
                )
                out[fmt] = buf.getvalue()
    return out


def _vector_metadata(text: dict[str, str], fmt: str = "eps") -> dict[str, object]:
    """Title and creator; no date, so that the same figure gives the same bytes."""
    ids = [text.get(f"ispyrender.{k}") for k in ("run", "lumi", "event")]
    title = "CMS event " + ":".join(str(i) for i in ids) if all(ids) else "CMS event"
    date_key = "Date" if fmt == "svg" else "CreationDate"
    return {"Title": title, "Creator": f"ispyrender {__version__}", date_key: None}


@dataclass
class FigureSummary(RenderSummary):
    paths: list[Path] = field(default_factory=list)


def figure_events(
    dataset: Dataset,
    entries: Sequence[int],
    style: Style,
    options: FigureOptions,
    *,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[EventResult], None] = lambda result: None,
    tile_limit: int | None = None,
) -> FigureSummary:
    """Write one figure per selected entry of ``dataset`` in each of ``options.formats``."""
    from ispyrender.event_scene import build_scene
    from ispyrender.figure_layout import FigureContent
    from ispyrender.objects import branch_plan, build_event
    from ispyrender.outputs import prepare_folder, write_bytes_atomic
    from ispyrender.physics_quantities import check_mass_requests, masses

    check_figure(style, options)
    available = dataset.available_branches()
    check_mass_requests(style, available)
    has_3d = any(p.view == "3d" for p in style.figure.panels)
    if has_3d:
        from ispyrender.render import check_headless, configure_headless

        configure_headless()
        check_headless()
    # Planned before the folder is created, so a bad name leaves nothing behind.
    targets = plan_figure_targets(dataset, entries, style, options)
    prepare_folder(options.out)

    summary = FigureSummary()
    plan = branch_plan(style, available)
    for message in plan.warnings:
        summary.warnings.append(message)
        warn(message)
    vector = [f for f in options.formats if f in VECTOR]
    if has_3d and vector:
        message = (
            f"the 3D panel is embedded as a raster image in {', '.join(vector)} (at the "
            "figure's pixel size); the projected views, lego and text are vector"
        )
        summary.warnings.append(message)
        warn(message)

    renderers = PanelRenderers(style, options.scale, tile_limit) if has_3d and entries else None
    try:
        for record in dataset.iter_events(list(entries), plan.branches):
            physics = build_event(record, style, plan)
            scene = build_scene(physics, style)
            images = renderers.draw(scene) if renderers is not None else {}
            content = FigureContent(physics, scene, images, masses(physics, style.figure.masses))
            data = render_figure_bytes(
                content, style, options.formats, options.scale, _text(record, style)
            )
            for fmt, blob in data.items():
                path = targets[record.index][fmt]
                write_bytes_atomic(path, blob)
                summary.paths.append(path)
            result = EventResult(
                record.index,
                record.run,
                record.lumi,
                record.event,
                record.source,
                targets[record.index][options.formats[0]],
                dict(physics.counts),
            )
            summary.results.append(result)
            progress(result)
    finally:
        if renderers is not None:
            renderers.close()
    return summary


def _text(record: EventRecord, style: Style) -> dict[str, str]:
    return png_text(record, style)
