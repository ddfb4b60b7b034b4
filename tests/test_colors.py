"""Colour names mean what they mean in matplotlib (which the package no longer imports for
them): every CSS, tableau, base and cycle name, grey levels and hex codes."""

from __future__ import annotations

import pytest
from matplotlib import colors as mcolors

from ispyrender.config.colors import parse_color

NAMES = [
    *mcolors.CSS4_COLORS,
    *mcolors.TABLEAU_COLORS,
    *mcolors.BASE_COLORS,
    *(f"C{i}" for i in range(10)),
    "0",
    "0.25",
    "1",
    "#1f77b4",
    "#ABCDEF",
    "Tab:Blue",
]


@pytest.mark.parametrize("name", NAMES)
def test_same_rgb_as_matplotlib(name: str) -> None:
    assert parse_color(name) == pytest.approx(mcolors.to_rgb(name), abs=1e-9)


@pytest.mark.parametrize("name", ["blu", "1.5", "C10", "#12345", "tab:bleu", ""])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not a color"):
        parse_color(name)
