"""Draw label blocks onto rendered pictures with Pillow.

Text is drawn in 2D after the 3D render rather than as VTK text actors: the fonts are the ones
CMS figures use (TeX Gyre Heros, as in mplhep, shipped by the mplhep-data package; DejaVu Sans
from matplotlib as a fall-back), the layout is exact in pixels, and the same block can later be
written as real text into vector figures.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ispyrender.config.style import Style, parse_color
from ispyrender.scene.labels import LabelBlock


@functools.lru_cache(maxsize=8)
def _font_files() -> dict[str, Path | None]:
    """TeX Gyre Heros (the Helvetica clone of CMS labels) from mplhep-data, a dependency; a
    missing file falls back to Pillow's own font in :func:`font`."""
    import mplhep_data

    base = Path(mplhep_data.__file__).parent / "fonts" / "texgyreheros"
    found = {
        "bold": base / "texgyreheros-bold.otf",
        "italic": base / "texgyreheros-italic.otf",
        "regular": base / "texgyreheros-regular.otf",
    }
    return {k: (v if v.exists() else None) for k, v in found.items()}


FontLike = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.lru_cache(maxsize=64)
def font(kind: str, size: int) -> FontLike:
    path = _font_files().get(kind)
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size=size)


def _rgba(color: str, alpha: int = 255) -> tuple[int, int, int, int]:
    r, g, b = parse_color(color)
    return (round(r * 255), round(g * 255), round(b * 255), alpha)


#: Where the overlay writes E_T, with the T as a subscript (the fonts have no subscript T).
_ET = "E_T"


def _rich_width(draw: ImageDraw.ImageDraw, text: str, fnt: FontLike, sub: FontLike) -> float:
    """Width of ``text`` as :func:`_draw_rich` draws it."""
    width = 0.0
    for k, part in enumerate(text.split(_ET)):
        if k:
            width += draw.textlength("E", font=fnt) + draw.textlength("T", font=sub)
        width += draw.textlength(part, font=fnt)
    return width


def _draw_rich(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    fnt: FontLike,
    sub: FontLike,
    fill: tuple[int, int, int, int],
) -> None:
    """Draw ``text`` from its top-left corner, each "E_T" with a subscript T."""
    x, y = xy
    ascent = fnt.getmetrics()[0] if isinstance(fnt, ImageFont.FreeTypeFont) else 0
    baseline = y + ascent
    drop = 0.25 * getattr(fnt, "size", 10)
    for k, part in enumerate(text.split(_ET)):
        if k:
            draw.text((x, baseline), "E", font=fnt, fill=fill, anchor="ls")
            x += draw.textlength("E", font=fnt)
            draw.text((x, baseline + drop), "T", font=sub, fill=fill, anchor="ls")
            x += draw.textlength("T", font=sub)
        draw.text((x, baseline), part, font=fnt, fill=fill, anchor="ls")
        x += draw.textlength(part, font=fnt)


def draw_labels(image: np.ndarray, block: LabelBlock, style: Style) -> np.ndarray:
    """Return a copy of ``image`` (H, W, 3|4 uint8) with the labels drawn on it: at the top
    left the experiment line, the event, the energy scale and the masses; at the top right the
    energy and year of collision data (where mplhep writes "(13 TeV)") and, below it, the
    legend."""
    if not style.labels.show:
        return image
    mode = "RGBA" if image.shape[2] == 4 else "RGB"
    size = (image.shape[1], image.shape[0])
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    height = size[1]
    scale = style.labels.font_scale * height / 1080.0
    text_color = _rgba(style.labels.color)
    margin = round(36 * scale)

    big = font("bold", max(8, round(54 * scale)))
    qual = font("italic", max(8, round(42 * scale)))
    energy_size = max(8, round(38 * scale))
    energy_font = font("regular", energy_size)
    small = font("regular", max(7, round(28 * scale)))
    tiny = font("regular", max(6, round(22 * scale)))

    # Experiment line: bold "CMS", then the italic qualifier on the same baseline.
    # Pillow's text boxes are floats: so are the positions.
    x: float = margin
    y: float = margin
    right: float = margin  # the right edge of the block at the top left
    baseline: float | None = None
    if block.experiment:
        draw.text((x, y), block.experiment, font=big, fill=text_color, anchor="la")
        bbox = draw.textbbox((x, y), block.experiment, font=big, anchor="la")
        ascent_big = big.getmetrics()[0] if hasattr(big, "getmetrics") else bbox[3] - y
        baseline = y + ascent_big
        right = bbox[2]
        if block.qualifier:
            ascent_q = qual.getmetrics()[0] if hasattr(qual, "getmetrics") else 0
            at = (bbox[2] + round(14 * scale), y + ascent_big - ascent_q)
            draw.text(at, block.qualifier, font=qual, fill=text_color)
            right = draw.textbbox(at, block.qualifier, font=qual)[2]
        y = bbox[3] + round(16 * scale)
    lines = [*block.info, *([block.energy_scale] if block.energy_scale else []), *block.masses]
    for line in lines:
        _draw_rich(draw, (x, y), line, small, tiny, text_color)
        right = max(right, x + _rich_width(draw, line, small, tiny))
        bbox = draw.textbbox((x, y), line.replace(_ET, "ET"), font=small)
        y = bbox[3] + round(10 * scale)
    left_block = (right, y)

    # Energy and year at the top right, on the baseline of "CMS" as mplhep's rlabel.
    top = float(margin)
    if block.energy:
        at_x = size[0] - margin
        at_y = baseline if baseline is not None else margin + energy_size
        draw.text((at_x, at_y), block.energy, font=energy_font, fill=text_color, anchor="rs")
        top = draw.textbbox((at_x, at_y), block.energy, font=energy_font, anchor="rs")[3]
        top += round(18 * scale)

    if block.legend:
        _draw_legend(draw, block, size, scale, text_color, (small, tiny), margin, top, left_block)

    # Only the part with text is composited: converting and blending the whole picture cost
    # 8 ms at 1920x1080, for labels that cover a tenth of it. Outside the text's box the
    # layer is transparent, so the picture is the same.
    box = layer.getbbox()
    if box is None:
        return image
    x0, y0, x1, y1 = box
    region = Image.fromarray(np.ascontiguousarray(image[y0:y1, x0:x1]), mode=mode)
    merged = Image.alpha_composite(region.convert("RGBA"), layer.crop(box)).convert(mode)
    out = image.copy()
    out[y0:y1, x0:x1] = np.asarray(merged)
    return out


def _draw_legend(
    draw: ImageDraw.ImageDraw,
    block: LabelBlock,
    size: tuple[int, int],
    scale: float,
    text_color: tuple[int, int, int, int],
    fonts: tuple[FontLike, FontLike],
    margin: int,
    top: float,
    left_block: tuple[float, float],
) -> None:
    """The legend at the top right from ``top`` down: a swatch and "Label (count)" per drawn
    collection, then, smaller, one line of what the event has that is not drawn."""
    fnt, note_font = fonts
    texts = [f"{e.label} ({e.count})" for e in block.legend]
    widths = [draw.textlength(t, font=fnt) for t in texts]
    # What is not drawn: "not drawn:" and one item a line, so that a long list does not widen
    # the legend over the event.
    notes = [f"not drawn: {block.left_out[0]}", *block.left_out[1:]] if block.left_out else []
    widths += [draw.textlength(n, font=note_font) for n in notes]
    row = round(40 * scale)
    note_row = round(32 * scale)
    swatch = round(44 * scale)
    gap = round(12 * scale)
    width = swatch + gap + max(widths)
    x0 = size[0] - margin - width
    y = top
    # On a narrow picture the legend would run into the block at the top left: it goes
    # below that block instead.
    if x0 < left_block[0] + 2 * gap:
        y = max(y, left_block[1] + gap)
    for entry, text in zip(block.legend, texts, strict=True):
        color = (*(round(c * 255) for c in entry.color), 255)
        mid = y + row // 2
        draw.rectangle(
            (x0, mid - round(9 * scale), x0 + swatch, mid + round(9 * scale)), fill=color
        )
        draw.text((x0 + swatch + gap, mid), text, font=fnt, fill=text_color, anchor="lm")
        y += row
    for note in notes:
        draw.text((x0 + swatch + gap, y), note, font=note_font, fill=text_color)
        y += note_row


def title_card(size: tuple[int, int], lines: list[str], style: Style) -> np.ndarray:
    """A plain frame of the style's background with centred text: the first line bold and
    large (e.g. "CMS Open Data"), the others below it (run, event)."""
    width, height = size
    background = _rgba(style.canvas.background)
    image = Image.new("RGB", size, background[:3])
    draw = ImageDraw.Draw(image)
    color = _rgba(style.labels.color)
    scale = style.labels.font_scale * height / 1080.0
    fonts = [font("bold", max(10, round(96 * scale)))] + [
        font("regular", max(8, round(48 * scale))) for _ in lines[1:]
    ]
    gap = round(30 * scale)
    heights = [draw.textbbox((0, 0), t, font=f)[3] for t, f in zip(lines, fonts, strict=True)]
    y = (height - sum(heights) - gap * (len(lines) - 1)) // 2
    for text, fnt, h in zip(lines, fonts, heights, strict=True):
        draw.text((width // 2, y), text, font=fnt, fill=color, anchor="ma")
        y += h + gap
    return np.asarray(image)
