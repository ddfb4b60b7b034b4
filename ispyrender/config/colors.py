"""Colours as users write them (CSS and tableau names, hex codes) -> RGB floats.

matplotlib.colors knows the names users expect from mplhep; it is imported lazily so that
``ispyrender --help`` stays fast.
"""

from __future__ import annotations

import functools

RGB = tuple[float, float, float]

__all__ = ["RGB", "check_color", "parse_color"]


@functools.lru_cache(maxsize=512)
def parse_color(value: str) -> RGB:
    """Turn a color name ('red', 'tab:blue') or hex code ('#ff0000') into RGB floats.

    Raises ValueError with a message that says what is accepted.
    """
    # matplotlib knows the CSS4 and tableau names users expect from mplhep; imported lazily
    # so that `ispyrender --help` stays fast.
    from matplotlib import colors as mcolors

    text = str(value).strip()
    try:
        r, g, b, _ = mcolors.to_rgba(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a color: use a name such as 'red' or 'tab:blue', "
            "or a hex code such as '#1f77b4'"
        ) from None
    return (float(r), float(g), float(b))


def check_color(value: str) -> str:
    parse_color(value)
    return value
