"""Compose one publication figure with matplotlib: a grid of panels, one label block, one
legend, mass annotations and (optionally) a table of the drawn objects.

The figure is laid out in inches: ``figure.size`` at ``figure.dpi`` (a paper's page, with text
in points on it), or the canvas at 100 pixels per inch (a 1920x1080 canvas is a 19.2 x 10.8
inch page, with text that follows the canvas height as in :mod:`ispyrender.rendering.overlay`).
``--scale`` raises the dots per inch, which keeps every proportion and font the same at any
resolution; ``labels.font_scale`` scales all text. Fonts are TeX Gyre Heros (the
Helvetica clone CMS figures and mplhep use) from mplhep-data.

Panels are placed with fixed rectangles rather than matplotlib's layout engines: the result is
the same for every event and format, and :func:`layout` tells the 3D renderer the exact pixel
size of each 3D panel before the figure exists.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ispyrender.config.collections import COLLECTIONS
from ispyrender.config.style import PAGE_LINE, PAGE_TEXT, Style
from ispyrender.figures.lego import draw_lego, lego_collections
from ispyrender.figures.projections import DEFAULT_TITLES, Paint, draw_projection
from ispyrender.physics.objects import Momenta, PhysicsEvent, Tracks
from ispyrender.physics.quantities import MassResult
from ispyrender.scene.labels import (
    energy_scale_text,
    energy_text,
    experiment_qualifier,
    identity,
    removed_text,
    scaled_objects,
)
from ispyrender.scene.primitives import Scene

T = TypeVar("T")

__all__ = [
    "FONT_FAMILY",
    "FigureContent",
    "Layout",
    "compose",
    "layout",
    "qualifier",
    "rc_params",
]

FONT_FAMILY = "TeX Gyre Heros"
PT = 1.0 / 72.0  # inch

Rect = tuple[float, float, float, float]  # left, bottom, width, height in figure fractions


@functools.lru_cache(maxsize=1)
def _register_fonts() -> str:
    """Make TeX Gyre Heros known to matplotlib; DejaVu Sans when mplhep-data is missing."""
    import matplotlib
    from matplotlib import font_manager

    # matplotlib's own fonts (STIX: mathtext's fallback for glyphs the text font lacks) are
    # missing from its font cache when another install of matplotlib wrote that cache and
    # has been removed since (a deleted virtual environment): every figure then printed
    # "findfont: Font family ['STIXGeneral'] not found" lines and drew those glyphs in
    # DejaVu. Registered again here, they are found wherever the cache came from.
    known = {Path(f.fname).name for f in font_manager.fontManager.ttflist}
    for own in sorted((Path(matplotlib.get_data_path()) / "fonts" / "ttf").glob("*.ttf")):
        if own.name not in known:
            font_manager.fontManager.addfont(str(own))
    try:
        import mplhep_data
    except ImportError:
        return "DejaVu Sans"
    base = Path(mplhep_data.__file__).parent / "fonts" / "texgyreheros"
    files = [base / f"texgyreheros-{k}.otf" for k in ("regular", "bold", "italic", "bolditalic")]
    if not all(f.exists() for f in files):
        return "DejaVu Sans"
    for f in files:
        font_manager.fontManager.addfont(str(f))
    return FONT_FAMILY


def rc_params() -> dict[str, Any]:
    """matplotlib settings for every figure. Fonts go into PDF and EPS as Type 3 (glyph
    procedures matplotlib writes from any FreeType font, with a ToUnicode map, so the text can
    be searched and selected): TeX Gyre Heros is OpenType-CFF, which matplotlib's Type 42
    embedding (``fonttype 42``) writes as a TrueType font that Ghostscript refuses
    (``/invalidfont``) and poppler flags. SVG draws text as glyph outlines (``svg.fonttype:
    path``), the same in every client; :mod:`ispyrender.figures.encode` switches to text with
    an embedded font or to outlines everywhere as ``output.vector_text`` asks. Fixed ids and
    dates make repeated runs write identical files."""
    family = _register_fonts()
    return {
        "font.family": family,
        "mathtext.fontset": "custom",
        "mathtext.rm": family,
        "mathtext.it": f"{family}:italic",
        "mathtext.bf": f"{family}:bold",
        # The custom set also needs these, or matplotlib looks for a "cursive" font.
        "mathtext.cal": family,
        "mathtext.sf": family,
        "mathtext.tt": family,
        "mathtext.bfit": f"{family}:italic:bold",
        "svg.fonttype": "path",
        "svg.hashsalt": "ispyrender",
        "pdf.fonttype": 3,
        "ps.fonttype": 3,
        "axes.unicode_minus": True,
        # Unhinted glyphs: the PNG lays text out as PDF, EPS and SVG clients do. Agg's hinting
        # snaps each advance to the pixel grid, and at 8 pt and 300 dpi a line of text came out
        # 1.7 % wider in the PNG than in Ghostscript, poppler, librsvg and Chromium alike.
        "text.hinting": "no_hinting",
    }


# ---- what the labels say ----------------------------------------------------------------------

#: A dollar sign that is not escaped already.
_DOLLAR = re.compile(r"(?<!\\)\$")


@functools.lru_cache(maxsize=256)
def label_text(text: str) -> str:
    """A style's text as matplotlib should draw it: math where the text is valid mathtext
    ("$p_T$ > 20 GeV"), and otherwise every dollar sign as a dollar sign ("cost $5", "$x",
    "$\\frac{$"), where matplotlib would raise its parser's error while drawing."""
    if "$" not in text:
        return text
    from matplotlib import cbook
    from matplotlib.mathtext import MathTextParser

    if cbook.is_math_text(text):
        try:
            MathTextParser("path").parse(text)
        except (ValueError, RecursionError):  # pyparsing's errors, as matplotlib wraps them
            pass
        else:
            return text
    return _DOLLAR.sub(r"\\$", text)


def qualifier(style: Style, is_simulation: bool) -> str:
    """The italic word(s) after 'CMS': :func:`ispyrender.scene.labels.experiment_qualifier` in
    the figure's ``label_mode``, so figures and render PNGs follow one rule."""
    return experiment_qualifier(is_simulation, style, style.figure.label_mode)


# ---- layout -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    width_in: float
    height_in: float
    dpi: float  # at --scale 1
    k: float  # font factor: labels.font_scale x (canvas height / 1080, or PAGE_TEXT)
    header: Rect
    panels: tuple[Rect, ...]  # the drawing area of each panel (title strip excluded)
    titles: tuple[tuple[float, float], ...]  # where each panel's title starts
    table: Rect | None
    legend_y: float | None  # figure fraction of the legend's centre line

    def pixel_size(self, index: int, scale: float) -> tuple[int, int]:
        """Pixels of panel ``index`` in the written PNG (and of its embedded 3D raster)."""
        _, _, w, h = self.panels[index]
        dpi = self.dpi * scale
        return max(16, round(w * self.width_in * dpi)), max(16, round(h * self.height_in * dpi))


#: The header's vertical rhythm in points (times the font factor k), shared by :func:`layout`
#: and :func:`_header` so that what is drawn fits what was reserved: the top margin, the
#: experiment line from its top to its baseline, the gap under it, one line of event text, and
#: the gap above the panel titles.
HEADER_TOP = 10.0
EXPERIMENT = 26.0
INFO_GAP = 10.0
INFO_LINE = 16.0
HEADER_GAP = 12.0
#: Room between the panels and the object table, inches (times k): the projections end at
#: their panel's edge, and the table's first column must not read as part of a drawing.
TABLE_GAP = 0.3


def font_factor(style: Style) -> float:
    """What every text size (in points) is multiplied by."""
    if style.figure.size is not None:
        # A page narrower than a two-column paper's text (7 in) gets smaller text, to three
        # quarters of it (a one-column figure, 3.4 in: 6-6.5 pt body text).
        narrow = min(1.0, max(0.75, style.figure.size[0] / 7.0))
        return style.labels.font_scale * PAGE_TEXT * narrow
    return style.labels.font_scale * style.canvas.height / 1080.0


def layout(style: Style) -> Layout:
    fig = style.figure
    W, H, dpi = style.figure_page()
    k = font_factor(style)
    margin = 0.18 * k
    show = style.labels.show
    info_lines = (1 if style.labels.event_info else 0) + (1 if fig.recorded else 0)
    # At least one line: the energy-scale statement sits at the right of the first one.
    rows = max(info_lines, 1)
    header_pt = HEADER_TOP + EXPERIMENT + INFO_GAP + INFO_LINE * rows + HEADER_GAP
    header_h = header_pt * PT * k if show else margin
    legend_h = 30 * PT * k if show and style.labels.legend else 0.0
    table_w = 3.9 * k if fig.table == "right" else 0.0
    title_h = 18 * PT * k
    gap = 0.08 * k

    top = H - header_h
    bottom = margin + legend_h
    left, right = margin, W - margin - table_w
    cell_w = (right - left) / fig.columns
    cell_h = (top - bottom) / fig.rows
    panels: list[Rect] = []
    titles: list[tuple[float, float]] = []
    for i, panel in enumerate(fig.panels):
        row, col = divmod(i, fig.columns)
        x0 = left + col * cell_w + gap / 2
        y1 = top - row * cell_h
        strip = title_h if panel.title != "" and show else 0.0
        h = cell_h - strip - gap
        panels.append((x0 / W, (y1 - strip - h) / H, (cell_w - gap) / W, h / H))
        titles.append((x0 / W, (y1 - 2 * PT * k) / H))
    table = None
    if table_w:
        x = right + TABLE_GAP * k
        table = (x / W, bottom / H, (W - margin - x) / W, (top - bottom) / H)
    legend_y = (margin + legend_h / 2) / H if legend_h else None
    return Layout(
        W,
        H,
        dpi,
        k,
        (0.0, top / H, 1.0, header_h / H),
        tuple(panels),
        tuple(titles),
        table,
        legend_y,
    )


# ---- composing ----------------------------------------------------------------------------------


@dataclass
class FigureContent:
    """Everything one figure shows."""

    event: PhysicsEvent
    scene: Scene
    images: dict[int, np.ndarray]  # panel index -> the 3D raster (H, W, 3|4 uint8)
    masses: Sequence[MassResult] = ()


def panel_sizes(style: Style, scale: float) -> dict[int, tuple[int, int]]:
    """Pixel size of each 3D panel, by its index in ``style.figure.panels``."""
    lay = layout(style)
    return {
        i: lay.pixel_size(i, scale) for i, p in enumerate(style.figure.panels) if p.view == "3d"
    }


def compose(
    content: FigureContent, style: Style, scale: float = 1.0, paint: Paint | None = None
) -> Figure:
    """The matplotlib Figure (not attached to pyplot: no global state, no GUI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    paint = paint or Paint()
    if style.figure.size is not None:  # line widths in points on a page in inches
        paint = dataclasses.replace(paint, line=PAGE_LINE)
    lay = layout(style)
    transparent = style.canvas.transparent
    fig = Figure(figsize=(lay.width_in, lay.height_in), dpi=lay.dpi * scale)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("none" if transparent else paint(style.canvas.background))
    text = style.labels.color
    k = lay.k
    small = 12 * k

    for i, (panel, rect) in enumerate(zip(style.figure.panels, lay.panels, strict=False)):
        ax = fig.add_axes(rect)
        ax.patch.set_visible(False)
        if panel.view == "3d":
            image = content.images.get(i)
            if image is not None:
                # Native pixels in every format: no resampling when written to PDF/SVG/EPS.
                ax.imshow(image, extent=(0, 1, 0, 1), aspect="auto", interpolation="none")
            ax.set_axis_off()
        elif panel.view in ("rho_phi", "rho_z"):
            draw_projection(ax, content.scene, style, panel, paint, small * 0.85)
        else:
            draw_lego(ax, content.event, style, paint, small * 0.85)
        title = DEFAULT_TITLES[panel.view] if panel.title is None else label_text(panel.title)
        if title and style.labels.show:
            fig.text(*lay.titles[i], title, ha="left", va="top", fontsize=small, color=text)

    if style.labels.show:
        _header(fig, lay, content, style)
        if style.labels.legend:
            _legend(fig, lay, content, style, paint)
    if lay.table is not None:
        _table(fig, lay, content.event, style)
    return fig


def _header(fig: Figure, lay: Layout, content: FigureContent, style: Style) -> None:
    """The experiment line and the event at the left, the energy and year (collision data)
    and the energy scale at the right, the masses in the middle; in the room :func:`layout`
    reserved (HEADER_TOP ... HEADER_GAP)."""
    event = content.event
    k = lay.k
    color = style.labels.color
    x = 0.18 * k / lay.width_in
    right_x = 1.0 - 0.18 * k / lay.width_in
    top = 1.0 - HEADER_TOP * PT * k / lay.height_in
    baseline = top - EXPERIMENT * PT * k / lay.height_in
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    if style.labels.experiment:
        cms = fig.text(
            x,
            baseline,
            label_text(style.labels.experiment),
            fontsize=26 * k,
            weight="bold",
            ha="left",
            va="baseline",
            color=color,
        )
        words = qualifier(style, event.is_simulation)
        if words:
            right = cms.get_window_extent(renderer).x1 / (fig.dpi * lay.width_in)
            fig.text(
                right + 0.1 * k / lay.width_in,
                baseline,
                label_text(words),
                fontsize=21 * k,
                style="italic",
                ha="left",
                va="baseline",
                color=color,
            )
    first_line = baseline - INFO_GAP * PT * k / lay.height_in
    y = first_line
    lines = []
    if style.labels.event_info:
        lines.append(identity(event))
    # The figure's panels are laid out once per job, so its header holds the line only when
    # the style asks for it (figure.recorded); pictures and movies print the file's own time.
    if style.figure.recorded:
        lines.append(f"Data recorded: {style.figure.recorded}")
    for line in lines:
        fig.text(x, y, label_text(line), fontsize=13 * k, ha="left", va="top", color=color)
        y -= INFO_LINE * PT * k / lay.height_in

    energy = energy_text(style, event.run, event.is_simulation)
    if energy:
        fig.text(
            right_x,
            baseline,
            label_text(energy),
            fontsize=18 * k,
            ha="right",
            va="baseline",
            color=color,
        )
    placed = list(fig.texts)  # what the energy-scale statement must not run into
    # Masses sit in the middle of the header, one a line; a request the event cannot serve
    # (fewer objects than asked) is left out rather than cluttering every such figure.
    found = [m for m in content.masses if m.value is not None]
    if found:
        n = len(found)
        line_h = 17 * PT * k / lay.height_in
        y0 = lay.header[1] + lay.header[3] / 2 + (n - 1) * line_h / 2
        for i, result in enumerate(found):
            placed.append(
                fig.text(
                    0.5,
                    y0 - i * line_h,
                    label_text(result.text),
                    fontsize=15 * k,
                    ha="center",
                    va="center",
                    color=color,
                )
            )
    scale = content.scene.metres_per_gev
    # The lego's heights are in GeV on its own axis: the scale in metres is for the others.
    drawn_in_metres = any(p.view != "lego" for p in style.figure.panels)
    if scale is not None and scale > 0 and drawn_in_metres:
        statement = fig.text(
            right_x,
            first_line,
            energy_scale_text(scale, scaled_objects(content.scene), r"$E_\mathrm{T}$"),
            fontsize=12 * k,
            ha="right",
            va="top",
            color=color,
        )
        # On a narrow canvas the statement would reach the masses or the event line: smaller
        # then, down to two thirds of its size.
        size = 12 * k
        while size > 8 * k and _overlaps(statement, placed, renderer):
            size -= 0.5 * k
            statement.set_fontsize(size)


def _overlaps(text: Any, others: Sequence[Any], renderer: Any) -> bool:
    box = text.get_window_extent(renderer)
    return any(box.overlaps(o.get_window_extent(renderer)) for o in others if o is not text)


def _row_major(items: Sequence[T], ncol: int) -> list[T]:
    """``items`` ordered so that matplotlib, which fills a legend column by column, shows
    them row by row: full rows first, the last row the short one."""
    rows = [items[i : i + ncol] for i in range(0, len(items), ncol)]
    return [row[c] for c in range(ncol) for row in rows if c < len(row)]


def _legend(fig: Figure, lay: Layout, content: FigureContent, style: Style, paint: Paint) -> None:
    from matplotlib.patches import Patch

    scene = content.scene
    if not scene.legend or lay.legend_y is None:
        return
    entries = scene.legend
    if all(p.view == "lego" for p in style.figure.panels):
        # The legend of a lego says what the lego draws (no tracks, vertices or chambers).
        drawn = lego_collections(content.event)
        entries = [e for e in entries if e.key in drawn]
    handles = [Patch(facecolor=paint(e.color), edgecolor="none") for e in entries]
    labels = [label_text(f"{e.label} ({e.count})") for e in entries]
    if scene.left_out and lay.table is None:
        # What is not drawn, as the last item without a swatch (the object table says it
        # where the figure has one).
        handles.append(Patch(facecolor="none", edgecolor="none"))
        labels.append(label_text(scene.left_out_note))
    kw: dict[str, Any] = {
        "loc": "center",
        "bbox_to_anchor": (0.5, lay.legend_y),
        "frameon": False,
        "labelcolor": style.labels.color,
        "handlelength": 1.6,
        "columnspacing": 1.6,
    }
    # At most 8 a row, the rows as even as they can be, filled row by row.
    rows = math.ceil(len(labels) / 8)
    ncol = math.ceil(len(labels) / rows)
    legend = fig.legend(
        _row_major(handles, ncol), _row_major(labels, ncol), ncol=ncol, fontsize=12 * lay.k, **kw
    )
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    room = fig.dpi * (lay.width_in - 2 * 0.18 * lay.k)
    note = len(labels) > len(entries)
    if legend.get_window_extent(renderer).width > room and note:
        # Too wide with the note of what is not drawn (a paper page): the swatches in one
        # row and the note as a line of its own under them, rather than a grid whose columns
        # the long note stretches apart.
        legend.remove()
        gap = PT * lay.k / lay.height_in  # a point, in figure fraction
        legend = fig.legend(
            handles[:-1],
            labels[:-1],
            ncol=len(entries),
            fontsize=11 * lay.k,
            borderpad=0.0,  # the row and the note share the legend's room
            **{**kw, "loc": "lower center", "bbox_to_anchor": (0.5, lay.legend_y + gap)},
        )
        if legend.get_window_extent(renderer).width <= room:
            fig.text(
                0.5,
                lay.legend_y - gap,
                labels[-1],
                ha="center",
                va="top",
                fontsize=9 * lay.k,
                color=style.labels.color,
            )
            return
    # Too wide for the page (many entries, or notes): two smaller rows in the same room.
    if legend.get_window_extent(renderer).width > room and len(labels) > 1:
        legend.remove()
        ncol = (len(labels) + 1) // 2
        kw["labelspacing"] = 0.25
        h, t = _row_major(handles, ncol), _row_major(labels, ncol)
        fig.legend(h, t, ncol=ncol, fontsize=10 * lay.k, **kw)


#: The collections of a figure's object table, in the legend's order, and their symbols.
_TABLE_SYMBOLS = {c.key: c.row for c in sorted(COLLECTIONS, key=lambda c: c.draw) if c.row}


def table_rows(event: PhysicsEvent) -> list[tuple[str, float, float | None, float, float | None]]:
    """(type, pT, eta, phi, charge) of the drawn objects: leptons, photons, taus, jets, MET,
    each collection by decreasing pT. MET has no eta; photons and jets no charge."""
    rows: list[tuple[str, float, float | None, float, float | None]] = []
    drawn: dict[str, Momenta] = {o.collection: o for o in (*event.tracks, *event.jets)}
    if event.photons is not None:
        drawn["photons"] = event.photons
    for key in _TABLE_SYMBOLS:
        if (o := drawn.get(key)) is None:
            continue
        charge = o.charge if isinstance(o, Tracks) else np.full(len(o), None)
        rows += [
            (key, float(a), float(b), float(c), None if q is None else float(q))
            for a, b, c, q in zip(o.pt, o.eta, o.phi, charge, strict=True)
        ]
    if event.met is not None:
        rows.append(("met", event.met.pt, None, event.met.phi, None))
    return rows


def _table(fig: Figure, lay: Layout, event: PhysicsEvent, style: Style) -> None:
    assert lay.table is not None
    rows = table_rows(event)
    color = style.labels.color
    x0, y0, w, h = lay.table
    k = lay.k
    line = 17 * PT * k / lay.height_in
    note = removed_text(event.removed)
    note_lines = _wrap(fig, note, 10.5 * k, w * fig.get_figwidth() * fig.dpi) if note else []
    # As many rows as the table's room holds (a small page holds fewer than table_rows), with
    # its head, the note under it and the "... and N more" line.
    room = int((h - line - 0.85 * line * len(note_lines)) / line)
    limit = max(1, min(style.figure.table_rows, room - (1 if len(rows) > room else 0)))
    shown = rows[:limit]
    cols = [0.0, 0.36, 0.58, 0.78, 0.97]  # right edges, except the first (left)
    heads = ["", r"$p_\mathrm{T}$ [GeV]", r"$\eta$", r"$\phi$", "$q$"]
    y = y0 + h - line / 2
    kw: dict[str, Any] = {"fontsize": 12 * k, "color": color, "va": "center"}
    for c, head in zip(cols, heads, strict=True):
        fig.text(x0 + c * w, y, head, ha="left" if c == 0 else "right", **kw)
    fig.add_artist(_hline(x0, x0 + w, y - line / 2, color))
    y -= line
    for kind, pt, eta, phi, q in shown:
        if kind == "met":
            name = r"$p_\mathrm{T}^\mathrm{miss}$"
        else:
            sym = _TABLE_SYMBOLS[kind]
            sign = "" if q is None or q == 0 else ("+" if q > 0 else "-")
            name = f"${sym}^{{{sign}}}$" if sign else f"${sym}$" if "\\" in sym else sym
        cells = [
            name,
            f"{pt:.1f}",
            "" if eta is None else f"{eta:.2f}",
            f"{phi:.2f}",
            "" if q is None else f"{q:+.0f}",
        ]
        for c, cell in zip(cols, cells, strict=True):
            fig.text(
                x0 + c * w,
                y,
                cell.replace("-", "\u2212") if c else cell,
                ha="left" if c == 0 else "right",
                **kw,
            )
        y -= line
    if len(rows) > limit:
        fig.text(x0, y, f"... and {len(rows) - limit} more", ha="left", **kw)
        y -= line
    # What cross-cleaning left out, under the table, wrapped at the table's width.
    for text in note_lines:
        fig.text(x0, y, text, ha="left", fontsize=10.5 * k, color=color, va="center")
        y -= line * 0.85


def _wrap(fig: Figure, text: str, size: float, width_px: float) -> list[str]:
    """``text`` broken between words into lines no wider than ``width_px`` in ``fig``'s font
    at ``size`` points, measured rather than guessed from a character count."""
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    prop = FontProperties(family=rc_params()["font.family"], size=size)

    def fits(candidate: str) -> bool:
        w, _, _ = renderer.get_text_width_height_descent(candidate, prop, ismath=False)
        return bool(w <= width_px)

    lines: list[str] = []
    # A count stays with what it counts ("1 tau"), never split across lines.
    for word in re.findall(r"\d+ [^\s,]+,?|\S+", text):
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _hline(x0: float, x1: float, y: float, color: str) -> Line2D:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], color=color, linewidth=0.8)
