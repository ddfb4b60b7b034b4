"""A composed figure as PNG, SVG, PDF or EPS bytes.

Text in the vector formats follows ``output.vector_text`` (the font settings themselves are in
:func:`ispyrender.figures.layout.rc_params`):

- ``auto``: PDF and EPS embed the font as Type 3 (searchable; TeX Gyre Heros is OpenType-CFF,
  which matplotlib's Type 42 embedding breaks in Ghostscript and poppler), SVG draws glyph
  outlines: an SVG font given as ``@font-face`` is used by browsers but not by librsvg or
  Inkscape, which substitute a system font of other widths.
- ``embed``: as ``auto``, but SVG keeps ``<text>`` and carries the font: each face used, cut to
  the characters used, as a WOFF ``data:`` URL in an ``@font-face`` rule.
- ``outlines``: text as paths in every format, no font in the file.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np

from ispyrender import __version__
from ispyrender.config.style import Style
from ispyrender.figures.layout import FigureContent

__all__ = ["render_figure_bytes"]


def render_figure_bytes(
    content: FigureContent,
    style: Style,
    formats: Sequence[str],
    scale: float,
    text: dict[str, str],
) -> dict[str, bytes]:
    """The figure in each format. EPS has no transparency, so its colours are drawn already
    blended onto the background (the same look, opaque)."""
    import matplotlib

    from ispyrender.config.style import parse_color
    from ispyrender.figures.layout import compose, rc_params
    from ispyrender.figures.projections import Paint
    from ispyrender.outputs.files import encode_png

    out: dict[str, bytes] = {}
    mode = style.output.vector_text
    settings: Any = rc_params()  # matplotlib types its keys as a closed list of literals
    with matplotlib.rc_context(settings):
        fig = None
        for fmt in formats:
            if fmt == "eps":
                flat = Paint(parse_color(style.canvas.background))
                eps = compose(content, style, scale, flat)
                out[fmt] = _save(eps, fmt, mode, metadata=_vector_metadata(text))
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
                out[fmt] = _save(
                    fig,
                    fmt,
                    mode,
                    metadata=_vector_metadata(text, fmt),
                    transparent=style.canvas.transparent,
                )
    return out


def _save(fig: Any, fmt: str, mode: str, **kwargs: Any) -> bytes:
    """``fig`` as ``fmt`` bytes with its text written as ``mode`` says."""
    import matplotlib

    buf = io.BytesIO()
    if fmt == "svg" and mode == "embed":
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            fig.savefig(buf, format=fmt, **kwargs)
        return _embed_svg_fonts(buf.getvalue())
    # SVG draws outlines by itself (svg.fonttype: path); PDF and EPS only through path effects.
    with _text_as_paths(fig) if mode == "outlines" and fmt != "svg" else contextlib.nullcontext():
        fig.savefig(buf, format=fmt, **kwargs)
    if fmt == "eps":
        # matplotlib's PostScript always states the time of writing (SOURCE_DATE_EPOCH
        # aside): an optional comment, left out so that the same figure gives the same bytes.
        return re.sub(rb"^%%CreationDate: [^\n]*\n", b"", buf.getvalue(), count=1, flags=re.M)
    return buf.getvalue()


@contextlib.contextmanager
def _text_as_paths(fig: Any) -> Iterator[None]:
    """While open, every text of ``fig`` is drawn as filled glyph outlines: a text with path
    effects goes through the renderer's text-to-path drawing (mathtext included) instead of
    the backend's font embedding. The figure is left as it was."""
    from matplotlib import patheffects
    from matplotlib.text import Text

    changed = [t for t in fig.findobj(Text) if not t.get_path_effects()]
    for t in changed:
        t.set_path_effects([patheffects.Normal()])
    try:
        yield
    finally:
        for t in changed:
            t.set_path_effects([])


_SVG = "{http://www.w3.org/2000/svg}"
FontStyle = Literal["normal", "italic", "oblique"]


def _embed_svg_fonts(svg: bytes) -> bytes:
    """The SVG (written with ``svg.fonttype: none``) with an ``@font-face`` rule per face its
    text uses: the font file matplotlib drew with, cut to the characters used, as WOFF."""
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
    from matplotlib import font_manager

    used: dict[tuple[str, int, FontStyle], set[str]] = {}

    def walk(node: ET.Element, inherited: dict[str, str]) -> None:
        css = {**inherited, **_css(node.get("style", ""))}
        if node.tag in (f"{_SVG}text", f"{_SVG}tspan"):
            family = css.get("font-family", "").split(",")[0].strip().strip("'\"")
            weight = css.get("font-weight", "normal")
            number = int(weight) if weight.isdigit() else 700 if "bold" in weight else 400
            slant = css.get("font-style", "normal")
            style: FontStyle = (
                "italic" if slant == "italic" else ("oblique" if slant == "oblique" else "normal")
            )
            key = (family, 700 if number >= 600 else 400, style)
            used.setdefault(key, set()).update(node.text or "")
        for child in node:
            walk(child, css)

    walk(ET.fromstring(svg), {})
    rules = []
    for (family, weight, style), chars in sorted(used.items()):
        chars.discard("\n")
        if not family or not chars:
            continue
        prop = font_manager.FontProperties(family=family, weight=weight, style=style)
        try:
            path = font_manager.findfont(prop, fallback_to_default=False)
        except ValueError:
            continue  # a family matplotlib does not know: the client substitutes
        # No time stamp, so that the same figure gives the same bytes.
        font = TTFont(path, recalcTimestamp=False)
        options = subset.Options()
        options.flavor = "woff"  # zlib-compressed; WOFF2 would need brotli
        options.notdef_outline = True
        options.name_IDs = ["*"]  # the names and the licence go with the font
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(chars)))
        subsetter.subset(font)
        data = io.BytesIO()
        font.save(data)
        url = "data:font/woff;base64," + base64.b64encode(data.getvalue()).decode("ascii")
        rules.append(
            f"@font-face {{font-family: '{family}'; font-weight: {weight}; "
            f"font-style: {style}; src: url({url}) format('woff')}}"
        )
    opening = b'<style type="text/css">'
    if not rules or opening not in svg:
        return svg
    return svg.replace(opening, opening + "\n".join(rules).encode("ascii") + b"\n", 1)


def _css(style: str) -> dict[str, str]:
    """'a: 1; b: x y' -> {'a': '1', 'b': 'x y'}"""
    pairs = (part.split(":", 1) for part in style.split(";") if ":" in part)
    return {k.strip(): v.strip() for k, v in pairs}


def _vector_metadata(text: dict[str, str], fmt: str = "eps") -> dict[str, object]:
    """Title and creator; no date, so that the same figure gives the same bytes."""
    ids = [text.get(f"ispyrender.{k}") for k in ("run", "lumi", "event")]
    title = "CMS event " + ":".join(str(i) for i in ids) if all(ids) else "CMS event"
    date_key = "Date" if fmt == "svg" else "CreationDate"
    return {"Title": title, "Creator": f"ispyrender {__version__}", date_key: None}
