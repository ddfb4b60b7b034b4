"""Colours as users write them (CSS and tableau names, hex codes) -> RGB floats.

The names are the ones users expect from matplotlib and mplhep: the CSS colour names and hex
codes (Pillow's table, the same values), matplotlib's tableau names ('tab:blue'), its colour
cycle ('C0'..'C9'), one-letter base colours and grey levels ('0.5'). matplotlib itself is not
imported: only figure code may, and it cost a sixth of a second of every command's start-up.
Pillow also reads 'rgb(...)' and 'hsl(...)'. matplotlib's xkcd names are not known.
"""

from __future__ import annotations

import contextlib
import functools

RGB = tuple[float, float, float]

__all__ = ["RGB", "check_color", "parse_color"]

#: matplotlib's tableau palette (matplotlib.colors.TABLEAU_COLORS).
TABLEAU = {
    "blue": "#1f77b4",
    "orange": "#ff7f0e",
    "green": "#2ca02c",
    "red": "#d62728",
    "purple": "#9467bd",
    "brown": "#8c564b",
    "pink": "#e377c2",
    "gray": "#7f7f7f",
    "grey": "#7f7f7f",
    "olive": "#bcbd22",
    "cyan": "#17becf",
}

#: matplotlib's default colour cycle, 'C0'..'C9': the tableau colours in this order.
CYCLE = [
    TABLEAU[name]
    for name in (
        *("blue", "orange", "green", "red", "purple"),
        *("brown", "pink", "gray", "olive", "cyan"),
    )
]

#: matplotlib's one-letter colours (matplotlib.colors.BASE_COLORS).
BASE: dict[str, RGB] = {
    "b": (0.0, 0.0, 1.0),
    "g": (0.0, 0.5, 0.0),
    "r": (1.0, 0.0, 0.0),
    "c": (0.0, 0.75, 0.75),
    "m": (0.75, 0.0, 0.75),
    "y": (0.75, 0.75, 0.0),
    "k": (0.0, 0.0, 0.0),
    "w": (1.0, 1.0, 1.0),
}


@functools.lru_cache(maxsize=512)
def parse_color(value: str) -> RGB:
    """Turn a color name ('red', 'tab:blue') or hex code ('#ff0000') into RGB floats.

    Raises ValueError with a message that says what is accepted.
    """
    from PIL import ImageColor

    text = str(value).strip()
    if text in BASE:
        return BASE[text]
    with contextlib.suppress(ValueError):
        grey = float(text)  # matplotlib's grey levels: '0' black to '1' white
        if 0.0 <= grey <= 1.0:
            return (grey, grey, grey)
    lower = text.lower()
    if lower.startswith("tab:") and lower[4:] in TABLEAU:
        text = TABLEAU[lower[4:]]
    elif len(lower) == 2 and lower[0] == "c" and lower[1].isdigit():
        text = CYCLE[int(lower[1])]  # matplotlib's default colour cycle
    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a color: use a name such as 'red' or 'tab:blue', "
            "or a hex code such as '#1f77b4'"
        ) from None
    return (rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0)


def check_color(value: str) -> str:
    parse_color(value)
    return value
