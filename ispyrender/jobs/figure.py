"""The figure job: per event, one publication figure of several panels, in PNG, SVG, PDF and/or
EPS.

source -> selection -> physics -> scene (as the render job) -> 3D panels rendered by
:class:`~ispyrender.rendering.panels.PanelRenderers` as rasters of the panel's exact pixel size ->
the figure composed with matplotlib (:mod:`ispyrender.figures`) -> each format written
atomically. Everything that can be refused (formats, size, mass requests the
file cannot serve, clashing or existing names) is refused before the output folder is touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ispyrender.config.style import MAX_HEIGHT, MAX_WIDTH, Style
from ispyrender.errors import StyleError, UsageError
from ispyrender.jobs.results import EventResult, RenderSummary
from ispyrender.outputs.registry import formats
from ispyrender.sources.base import EventSource

__all__ = [
    "FORMATS",
    "MAX_SIZE",
    "FigureOptions",
    "check_figure",
    "figure_events",
    "parse_formats",
]

#: The figure formats, from the one table of output formats.
FORMATS = tuple(formats("figure"))
MAX_SIZE = (MAX_WIDTH, MAX_HEIGHT)  # the one size limit of every picture (config.style)


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
        raise UsageError(
            f"--format {text!r}: {bad[0] if bad else 'nothing'} is not a figure format; "
            f"allowed: {', '.join(FORMATS)} (several joined by commas, e.g. png,pdf)"
        )
    return names


def check_figure(style: Style, options: FigureOptions) -> None:
    """Refuse sizes beyond 8K and formats that cannot hold what the style asks for."""
    w, h = style.figure_pixels(options.scale)
    if w > MAX_SIZE[0] or h > MAX_SIZE[1]:
        what = (
            "figure.size x figure.dpi"
            if style.figure.size is not None
            else "canvas.width x canvas.height"
        )
        raise StyleError(
            f"{what} x --scale = {w}x{h} is larger than "
            f"{MAX_SIZE[0]}x{MAX_SIZE[1]}: allowed up to {MAX_SIZE[0]}x{MAX_SIZE[1]} pixels; "
            "use a smaller --scale, size or dpi"
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
    from ispyrender.jobs.runner import EventRun
    from ispyrender.outputs.files import write_bytes_atomic
    from ispyrender.outputs.targets import event_metadata
    from ispyrender.physics.quantities import masses
    from ispyrender.scene.labels import label_mode_warning, plain_text

    check_figure(style, options)
    has_3d = any(p.view == "3d" for p in style.figure.panels)
    summary = FigureSummary()
    run = EventRun(
        source,
        entries,
        style,
        options.out,
        [f".{fmt}" for fmt in options.formats],
        gl=has_3d,
        masses="figure",
        overwrite=options.overwrite,
        skip_existing=options.skip_existing,
        size=(*style.figure_pixels(options.scale), "figure"),
        warn=warn,
    )
    style = run.style
    summary.warnings = run.warnings
    vector = [f for f in options.formats if f != "png"]
    if has_3d and vector:
        run.say(
            f"the 3D panel is embedded as a raster image in {', '.join(vector)} (at the "
            "figure's pixel size); the projected views, lego and text are vector"
        )
    renderers = None
    if has_3d and run.todo:
        from ispyrender.figures.layout import panel_sizes
        from ispyrender.rendering.panels import PanelRenderers

        renderers = PanelRenderers(
            style, panel_sizes(style, options.scale), tile_limit, scale=options.scale
        )
    mode_warned = False
    # Masses the objects could not make (same-sign muons, an e-mu pair for m(ee), ...): said
    # once per job and reason, with the number of figures.
    unmade: Counter[tuple[str, str]] = Counter()
    try:
        for physics, scene in run.scenes():
            # An explicit label mode that contradicts the file is said once, not per figure.
            mode_warning = None if mode_warned else label_mode_warning(style, physics.is_simulation)
            if mode_warning:
                run.say(mode_warning)
                mode_warned = True
            images = renderers.draw(scene) if renderers is not None else {}
            results = masses(physics, style.figure.masses)
            unmade.update(
                (plain_text(r.label), r.why)
                for r in results
                if r.value is None and r.count >= (r.request.count or 2)
            )
            content = FigureContent(physics, scene, images, results)
            data = figure_bytes(
                content, style, options.formats, options.scale, event_metadata(physics, style)
            )
            for fmt, blob in data.items():
                path = run.path(physics.index, f".{fmt}")
                write_bytes_atomic(path, blob)
                summary.paths.append(path)
            result = EventResult.made(physics, run.path(physics.index))
            summary.results.append(result)
            progress(result)
    finally:
        if renderers is not None:
            renderers.close()
        run.release()
    for (label, why), n in sorted(unmade.items()):
        run.say(f"{label} left out of {n} figure(s): {why}")
    summary.results += run.kept()
    run.close()
    return summary
