"""A composed figure as PNG, SVG, PDF or EPS bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

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
    settings: Any = rc_params()  # matplotlib types its keys as a closed list of literals
    with matplotlib.rc_context(settings):
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
