"""The figure job: per event, one publication figure of several panels, in PNG, SVG, PDF and/or
EPS.

source -> selection -> physics -> scene (as the render job) -> 3D panels rendered by
:class:`~ispyrender.rendering.panels.PanelRenderers` as rasters of the panel's exact pixel size ->
the figure composed with matplotlib (:mod:`ispyrender.figures`) -> each format written
atomically. Everything that can be refused (formats, size, mass requests the
file cannot serve, clashing or existing names) is refused before the output folder is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ispyrender.config.style import Style
from ispyrender.errors import SelectionError, StyleError
from ispyrender.jobs.results import EventResult, RenderSummary
from ispyrender.sources.base import EventSource

__all__ = [
    "FORMATS",
    "MAX_SIZE",
    "FigureOptions",
    "check_figure",
    "figure_events",
    "parse_formats",
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
    skip_existing: bool = False


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


@dataclass
class FigureSummary(RenderSummary):
    paths: list[Path] = field(default_factory=list)


def figure_events(
    source: EventSource,
    entries: Sequence[int],
    style: Style,
    options: FigureOptions,
    *,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[EventResult], None] = lambda result: None,
    tile_limit: int | None = None,
) -> FigureSummary:
    """Write one figure per selected entry of ``source`` in each of ``options.formats``."""
    from ispyrender.figures.encode import render_figure_bytes as figure_bytes
    from ispyrender.figures.layout import FigureContent
    from ispyrender.outputs.files import write_bytes_atomic
    from ispyrender.outputs.targets import event_metadata, plan_outputs
    from ispyrender.physics import EventBuilder
    from ispyrender.physics.quantities import check_mass_requests, masses
    from ispyrender.scene.event import build_scene
    from ispyrender.scene.labels import label_mode_warning

    check_figure(style, options)
    style, mass_notes = check_mass_requests(
        style, source.available_branches() if source.has_branches else None
    )
    has_3d = any(p.view == "3d" for p in style.figure.panels)
    if has_3d:
        from ispyrender.rendering.renderer import check_headless

        check_headless()
    # Planned before the folder is created, so a bad name leaves nothing behind.
    plan = plan_outputs(
        source,
        entries,
        style,
        options.out,
        [f".{fmt}" for fmt in options.formats],
        overwrite=options.overwrite,
        skip_existing=options.skip_existing,
    )
    builder = EventBuilder(source, style)  # refuses a file with nothing to draw
    plan.prepare()

    summary = FigureSummary()

    def say(message: str) -> None:
        summary.warnings.append(message)
        warn(message)

    for message in mass_notes:
        say(message)
    for message in builder.warnings:
        say(message)
    vector = [f for f in options.formats if f in VECTOR]
    if has_3d and vector:
        say(
            f"the 3D panel is embedded as a raster image in {', '.join(vector)} (at the "
            "figure's pixel size); the projected views, lego and text are vector"
        )
    todo = plan.todo(entries)
    renderers = None
    if has_3d and todo:
        from ispyrender.figures.layout import panel_sizes
        from ispyrender.rendering.panels import PanelRenderers

        renderers = PanelRenderers(
            style, panel_sizes(style, options.scale), tile_limit, scale=options.scale
        )
    mode_warned = False
    try:
        for physics in builder.events(todo):
            # An explicit label mode that contradicts the file is said once, not per figure.
            mode_warning = None if mode_warned else label_mode_warning(style, physics.is_simulation)
            if mode_warning:
                say(mode_warning)
                mode_warned = True
            scene = build_scene(physics, style)
            images = renderers.draw(scene) if renderers is not None else {}
            content = FigureContent(physics, scene, images, masses(physics, style.figure.masses))
            data = figure_bytes(
                content, style, options.formats, options.scale, event_metadata(physics, style)
            )
            for fmt, blob in data.items():
                path = plan.path(physics.index, f".{fmt}")
                write_bytes_atomic(path, blob)
                summary.paths.append(path)
            result = EventResult.made(physics, plan.path(physics.index))
            summary.results.append(result)
            progress(result)
    finally:
        if renderers is not None:
            renderers.close()
    for idx in sorted(set(entries) - set(todo)):
        summary.results.append(EventResult(idx, 0, None, 0, "", plan.path(idx), skipped=True))
    for message in builder.nan_warnings():
        say(message)
    return summary
