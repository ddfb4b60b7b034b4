"""The words on a picture follow one rule, whatever makes it (render PNG, figure, movie title):
simulation says "Simulation" and no energy (its run number says nothing); collision data says
the style's data text ("" : "CMS" alone) and its year and centre-of-mass energy from the run.
Checked on real files through the real readers, scene builder and label code."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ispyrender.config.loader import load_style
from ispyrender.config.style import Style
from ispyrender.physics import EventBuilder
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.rendering.overlay import draw_labels
from ispyrender.scene.event import build_scene
from ispyrender.scene.labels import (
    RUN_PERIODS,
    energy_scale_text,
    energy_text,
    event_labels,
    experiment_qualifier,
    label_mode_warning,
    plain_text,
    removed_text,
    run_period,
    title_lines,
)
from ispyrender.scene.primitives import Scene
from ispyrender.sources import open_source

#: file -> (simulation?, the energy text its events get)
FILES = {
    "nano_dy.root": (True, ""),
    "NanoAODv5_sample.root": (True, ""),
    "nano_dimuon.root": (False, "2018 (13 TeV)"),  # Run2018A, run 315267
    "EGamma_2022E_v13.root": (False, "2022 (13.6 TeV)"),  # Run2022E, run 359571
}


def first_event(path: Path, style: Style) -> tuple[PhysicsEvent, Scene]:
    with open_source([str(path)]) as source:
        events: Iterator[PhysicsEvent] = EventBuilder(source, style).events([0])
        physics = next(iter(events))
    return physics, build_scene(physics, style)


@pytest.fixture(scope="module")
def style() -> Style:
    # The paper's words: collision data is "CMS" alone.
    return load_style("publication", ["labels.data_text=", "labels.masses=true"])


@pytest.mark.parametrize("name", list(FILES))
def test_label_word_and_energy_from_the_file(name: str, shared_data: Path, style: Style) -> None:
    is_simulation, energy = FILES[name]
    physics, scene = first_event(shared_data / "nanoaod" / name, style)
    assert physics.is_simulation is is_simulation
    block = event_labels(physics, scene, style)
    assert block.experiment == "CMS"
    assert block.qualifier == ("Simulation" if is_simulation else "")
    assert block.energy == energy
    # Figures (label_mode auto) and movie title cards say the same.
    assert experiment_qualifier(physics.is_simulation, style, "auto") == block.qualifier
    assert energy_text(style, physics.run, physics.is_simulation) == energy
    title = title_lines(physics, style)
    assert title[0] == ("CMS Simulation" if is_simulation else "CMS")
    assert (energy in title) if energy else len(title) == 2
    # What is drawn to scale is stated with the scale it was drawn at.
    if scene.metres_per_gev is not None:
        assert block.energy_scale.startswith("Energy scale (")
        assert f"1 m = {1 / scene.metres_per_gev:.3g} GeV E_T" in block.energy_scale


def test_data_text_and_label_modes(shared_data: Path) -> None:
    open_data = load_style("publication", ["labels.data_text=Open Data"])
    data, _ = first_event(shared_data / "nanoaod" / "nano_dimuon.root", open_data)
    sim, _ = first_event(shared_data / "nanoaod" / "nano_dy.root", open_data)
    assert experiment_qualifier(data.is_simulation, open_data) == "Open Data"
    assert experiment_qualifier(sim.is_simulation, open_data) == "Simulation"
    # Explicit figure modes set the data's words; simulation keeps saying it is simulation.
    for mode, words in (("cms", ""), ("preliminary", "Preliminary"), ("open_data", "Open Data")):
        assert experiment_qualifier(False, open_data, mode) == words
        assert experiment_qualifier(True, open_data, mode) == f"Simulation {words}".strip()
    # Forcing "simulation" onto collision data is done as asked, but said.
    forced = load_style("paper", ["figure.label_mode=simulation"])
    assert experiment_qualifier(False, forced, "simulation") == "Simulation"
    assert label_mode_warning(forced, is_simulation=False)
    assert label_mode_warning(forced, is_simulation=True) is None


def test_energy_setting() -> None:
    auto = load_style("paper")
    assert energy_text(auto, 315267, False) == "2018 (13 TeV)"
    assert energy_text(auto, 315267, True) == ""  # simulation: nothing
    assert energy_text(auto, 1, False) == ""  # no known run: nothing rather than a guess
    fixed = load_style("paper", ["figure.energy=13.6 TeV"])
    assert energy_text(fixed, 1, True) == "(13.6 TeV)"
    assert energy_text(fixed, 360000, False) == "2022 (13.6 TeV)"
    assert energy_text(load_style("paper", ["figure.energy=null"]), 315267, False) == ""


@pytest.mark.parametrize(
    ("run", "year", "energy"),
    [
        (136033, 2010, "7 TeV"),
        (149442, 2010, "7 TeV"),
        (160404, 2011, "7 TeV"),
        (161400, 2011, "2.76 TeV"),  # the 2011 reference run inside the 7 TeV range
        (180252, 2011, "7 TeV"),
        (190456, 2012, "8 TeV"),
        (195099, 2012, "8 TeV"),  # the iSpy file's H -> 4l candidates
        (208686, 2012, "8 TeV"),
        (211800, 2013, "2.76 TeV"),
        (246908, 2015, "13 TeV"),
        (262100, 2015, "5.02 TeV"),
        (271036, 2016, "13 TeV"),
        (284044, 2016, "13 TeV"),
        (294927, 2017, "13 TeV"),
        (306600, 2017, "5.02 TeV"),
        (315267, 2018, "13 TeV"),
        (325175, 2018, "13 TeV"),
        (355100, 2022, "13.6 TeV"),
        (359571, 2022, "13.6 TeV"),
        (362760, 2022, "13.6 TeV"),
        (366442, 2023, "13.6 TeV"),
        (370790, 2023, "13.6 TeV"),
        (378981, 2024, "13.6 TeV"),
        (386951, 2024, "13.6 TeV"),
        (387500, 2024, "5.36 TeV"),
        (391658, 2025, "13.6 TeV"),
        (398903, 2025, "13.6 TeV"),
    ],
)
def test_run_periods(run: int, year: int, energy: str) -> None:
    period = run_period(run)
    assert period is not None and (period.year, period.energy) == (year, energy)


@pytest.mark.parametrize("run", [1, 132440, 150500, 209000, 262600, 326500, 354000, 394000])
def test_runs_outside_proton_proton_periods(run: int) -> None:
    # Simulation's run 1, heavy-ion runs (2010, 2015, 2018), pPb 2013, 2022 commissioning and
    # the 2025 oxygen run: no energy rather than a wrong one.
    assert run_period(run) is None


def test_periods_are_ordered_and_years_increase() -> None:
    years = [p.year for p in RUN_PERIODS]
    assert years == sorted(years)
    assert all(p.first <= p.last for p in RUN_PERIODS)


def test_texts() -> None:
    assert energy_scale_text(0.01, ("jets", "MET")) == "Energy scale (jets, MET): 1 m = 100 GeV E_T"
    assert energy_scale_text(1 / 1234.0, ()) == "Energy scale: 1 m = 1.23 TeV E_T"
    assert energy_scale_text(1 / 136.2, ("jets",)).endswith("1 m = 136 GeV E_T")
    assert plain_text(r"$m(\mu\mu)$ = 91.2 GeV") == "m(µµ) = 91.2 GeV"
    assert plain_text(r"$m(4\ell)$") == "m(4ℓ)"
    assert plain_text(r"$m(\mathrm{e}^{\pm}\mu^{\mp})$") == "m(e±µ∓)"
    assert plain_text(r"$m(\mathrm{e}\mathrm{e})$") == "m(ee)"
    assert removed_text({"jets": {"muons": 2}, "taus": {"electrons": 1}}) == (
        "Not drawn, same object as a lepton or photon: 2 jets, 1 tau"
    )
    assert removed_text({"jets": {}}) == ""


def _ink(image: np.ndarray) -> np.ndarray:
    """Where the overlay drew on a white picture."""
    return (image[..., :3] < 200).any(axis=2)


def _swatch_top(image: np.ndarray, color: tuple[float, float, float]) -> int:
    """The first row of the legend's first swatch (its colour, exactly)."""
    rgb = np.array([round(c * 255) for c in color])
    rows = np.flatnonzero((image[..., :3] == rgb).all(axis=2).any(axis=1))
    return int(rows[0])


@pytest.mark.parametrize("name", ["nano_dimuon.root", "nano_dy.root"])
def test_png_overlay_writes_energy_top_right_and_legend_below_it(
    name: str, shared_data: Path, style: Style
) -> None:
    physics, scene = first_event(shared_data / "nanoaod" / name, style)
    block = event_labels(physics, scene, style)
    assert block.legend
    blank = np.full((540, 960, 3), 255, np.uint8)
    drawn = draw_labels(blank, block, style)
    without = draw_labels(blank, dataclasses.replace(block, energy=""), style)
    top = _swatch_top(drawn, block.legend[0].color)
    if block.energy:
        # The energy and year are written above the legend, which moves down to make room.
        assert _ink(drawn)[:top, 700:].sum() > 50
        assert top > _swatch_top(without, block.legend[0].color)
    else:
        # Simulation: no energy text, the legend starts at the top.
        assert np.array_equal(drawn, without)
    # The block at the top left ends before the legend column begins.
    left = np.flatnonzero(_ink(drawn)[: top + 20, :].any(axis=0))
    assert left.size and (np.diff(left) > 40).any()


def test_masses_on_render_pictures_use_the_figure_computation(
    shared_data: Path, style: Style
) -> None:
    from ispyrender.physics.quantities import masses

    with_masses = load_style(
        "publication",
        ["labels.masses=true", "figure.masses=[{collection: muons, count: 2}]"],
    )
    physics, scene = first_event(shared_data / "nanoaod" / "nano_dimuon.root", with_masses)
    block = event_labels(physics, scene, with_masses)
    (result,) = masses(physics, with_masses.figure.masses)
    assert result.value is not None
    assert block.masses == (f"m(µ⁺µ⁻) = {result.value:.1f} GeV",)
    off = load_style("publication", ["figure.masses=[{collection: muons, count: 2}]"])
    assert event_labels(physics, scene, off).masses == ()


def test_event_facts_are_never_invented(shared_data) -> None:  # type: ignore[no-untyped-def]
    """A file without run and event numbers names its events by entry, never "Run 0"; an iSpy
    file's recording time is printed as CMS prints it, for collision data."""
    from ispyrender.physics.objects import PhysicsEvent
    from ispyrender.scene.labels import identity, recorded

    anonymous = PhysicsEvent(0, None, 3, 3, "/data/slim.root", False, entry=3, has_ids=False)
    assert identity(anonymous) == "Entry 3 of slim.root"
    style = load_style("publication")
    physics, scene = first_event(shared_data / "ig" / "Hto4l_120-130GeV.ig", style)
    block = event_labels(physics, scene, style)
    assert block.info[1] == "Data recorded: 2012-Aug-18 14:12:31.867428 GMT"
    simulated = PhysicsEvent(1, 1, 1, 0, "x", True, time="2012-Aug-18 14:12:31 GMT")
    assert recorded(simulated, style) is None
