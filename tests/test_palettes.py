"""Every preset's colours tell the collections apart: any two collections that can be drawn
together, each collection and the background, and each collection and the detector (its fill
as seen over the background, and its outline) are at least 20 apart in CIEDE2000, the
distance the issue asks for (about the difference between two clearly named colours). Hidden
collections count too: a user may turn them on.

The publication presets are also colour-blind safe: every two collections are still at least
10 apart as a reader with deuteranopia or protanopia (the common forms) sees them, simulated
with Machado, Oliveira and Fernandes (2009) at full severity."""

from __future__ import annotations

import itertools

import colour
import numpy as np
import pytest

from ispyrender.config.collections import COLLECTIONS
from ispyrender.config.loader import PRESETS, load_style
from ispyrender.config.style import Style, parse_color

MIN_DISTANCE = 20.0

#: Collections that can be in the same picture (from the collections' table): NanoAOD files
#: (PFNano ones with PF candidates and towers) and iSpy files. A NanoAOD file never has iSpy's
#: tracks or rec hits, nor the reverse, so those pairs may share a colour (isolated tracks and
#: iSpy tracks do).
DRAWN_TOGETHER = {
    "NanoAOD": tuple(c.key for c in COLLECTIONS if c.nanoaod or c.kind in ("towers", "met")),
    "iSpy": tuple(c.key for c in COLLECTIONS if c.ispy),
}


def _lab(rgb: tuple[float, float, float]) -> np.ndarray:
    return np.asarray(colour.XYZ_to_Lab(colour.sRGB_to_XYZ(np.asarray(rgb))))


def distance(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return float(colour.delta_E(_lab(a), _lab(b), method="CIE 2000"))


def _seen(color: str, opacity: float, background: tuple[float, float, float]) -> tuple[float, ...]:
    rgb = np.asarray(parse_color(color))
    return tuple(opacity * rgb + (1.0 - opacity) * np.asarray(background))


def detector_colours(style: Style) -> dict[str, tuple[float, ...]]:
    background = parse_color(style.canvas.background)
    seen: dict[str, tuple[float, ...]] = {}
    if not style.detector.show:
        return seen
    for name in type(style.detector).model_fields:
        part = getattr(style.detector, name)
        if not hasattr(part, "opacity") or not part.show:
            continue
        seen[f"detector.{name}"] = _seen(part.color, part.opacity, background)
        if part.edge_color:
            seen[f"detector.{name} outline"] = parse_color(part.edge_color)
    return seen


def palette_problems(style: Style) -> list[str]:
    background = parse_color(style.canvas.background)
    detector = detector_colours(style)
    problems: list[str] = []
    for source, keys in DRAWN_TOGETHER.items():
        shown = {k: parse_color(getattr(style.collections, k).color) for k in keys}
        for (a, ca), (b, cb) in itertools.combinations(shown.items(), 2):
            if (d := distance(ca, cb)) < MIN_DISTANCE:
                problems.append(f"{source}: {a} and {b} are {d:.1f} apart")
        for a, ca in shown.items():
            if (d := distance(ca, background)) < MIN_DISTANCE:
                problems.append(f"{a} is {d:.1f} from the background")
            for part, cp in detector.items():
                if (d := distance(ca, cp)) < MIN_DISTANCE:
                    problems.append(f"{a} is {d:.1f} from {part}")
    return sorted(set(problems))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_tells_collections_background_and_detector_apart(preset: str) -> None:
    assert palette_problems(load_style(preset)) == []


MIN_CVD_DISTANCE = 10.0
CVD_KINDS = ("Deuteranomaly", "Protanomaly")


def as_seen_with(kind: str, rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """An sRGB colour as seen with a colour-vision deficiency (Machado 2009, severity 1)."""
    matrix = colour.matrix_cvd_Machado2009(kind, 1.0)
    linear = colour.models.eotf_sRGB(np.asarray(rgb))
    seen = colour.models.eotf_inverse_sRGB(np.clip(matrix @ linear, 0.0, 1.0))
    return (float(seen[0]), float(seen[1]), float(seen[2]))


def colour_blind_problems(style: Style) -> list[str]:
    problems = []
    for kind in CVD_KINDS:
        for source, keys in DRAWN_TOGETHER.items():
            seen = {
                k: as_seen_with(kind, parse_color(getattr(style.collections, k).color))
                for k in keys
            }
            for (a, ca), (b, cb) in itertools.combinations(seen.items(), 2):
                if (d := distance(ca, cb)) < MIN_CVD_DISTANCE:
                    problems.append(f"{kind} {source}: {a} and {b} are {d:.1f} apart")
    return problems


@pytest.mark.parametrize("preset", ["publication", "paper", "transverse", "lego"])
def test_publication_presets_are_colour_blind_safe(preset: str) -> None:
    assert colour_blind_problems(load_style(preset)) == []


def test_the_colour_blind_check_finds_red_green() -> None:
    # Pure red and a green of the same lightness collapse for a deuteranope.
    style = load_style("publication")
    style.collections.electrons.color = "#4f8f00"
    style.collections.muons.color = "#b35900"
    assert any("muons and electrons" in p for p in colour_blind_problems(style))


def test_the_distance_is_ciede2000() -> None:
    # Sharma, Wu and Dalal's CIEDE2000 test data, pair 1: Lab (50, 2.6772, -79.7751) and
    # (50, 0, -82.7485) are 2.0425 apart.
    d = colour.delta_E([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], method="CIE 2000")
    assert d == pytest.approx(2.0425, abs=1e-4)
    # And the check finds a clash: red muons on a red detector.
    style = load_style("publication")
    style.detector.muon_barrel.color = style.collections.muons.color
    assert any("muons is 0.0 from detector.muon_barrel" in p for p in palette_problems(style))


def test_publication_uses_petroff_colours_for_the_leptons_photons_and_taus() -> None:
    # M. Petroff's 6- and 10-colour sequences (mplhep's CMS cyclers since 2024).
    petroff6 = {"#5790fc", "#f89c20", "#e42536", "#964a8b", "#9c9ca1", "#7a21dd"}
    petroff10 = {"#3f90da", "#ffa90e", "#bd1f01", "#94a4a2", "#832db6", "#a96b59", "#e76300"}
    petroff10 |= {"#b9ac70", "#717581", "#92dadd"}
    cols = load_style("publication").collections
    for key in ("muons", "electrons", "photons", "taus"):
        assert getattr(cols, key).color in petroff6 | petroff10
