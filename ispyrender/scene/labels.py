"""What the labels on a picture say: experiment line, energy and year, event identity, legend,
energy scale and masses.

Text only; :mod:`ispyrender.rendering.overlay` draws it on render PNGs and movies, and
:mod:`ispyrender.figures.layout` on figures. Both take every word from here, so a PNG, a figure
and a movie of the same event say the same thing. The experiment line follows mplhep's CMS
labels: a bold "CMS", then an italic qualifier fixed by a rule rather than by a preset:
simulation always says ``labels.simulation_text``, collision data ``labels.data_text`` (empty
for a paper's figure: "CMS" alone). The centre-of-mass energy and the year come from the run
number for collision data, and are left out for simulation, whose run number says nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ispyrender.config.collections import BY_KEY
from ispyrender.config.style import Style
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.physics.quantities import MassResult
from ispyrender.physics.quantities import masses as compute_masses
from ispyrender.scene.primitives import Arrows, Cones, LegendEntry, Polylines, Scene, Towers

if TYPE_CHECKING:
    from ispyrender.sources.base import EventHeader

__all__ = [
    "RUN_PERIODS",
    "LabelBlock",
    "RunPeriod",
    "energy_scale_text",
    "energy_text",
    "event_info",
    "event_labels",
    "experiment_qualifier",
    "label_block",
    "label_mode_warning",
    "mass_lines",
    "plain_text",
    "removed_text",
    "run_period",
    "scaled_objects",
    "title_lines",
]


# ---- the run number: year and centre-of-mass energy ---------------------------------------


@dataclass(frozen=True)
class RunPeriod:
    first: int  # first and last run, inclusive
    last: int
    year: int
    energy: str  # proton-proton centre-of-mass energy, as CMS figures write it


#: LHC proton-proton data taking by CMS run number. Source: the run ranges of CMS's certified
#: ("golden") run lists, which name their first and last run: Cert_136033-149442_7TeV (2010),
#: Cert_160404-180252_7TeV (2011), Cert_190456-208686_8TeV (2012), Cert_246908-260627_13TeV
#: (2015), Cert_271036-284044_13TeV (2016), Cert_294927-306462_13TeV (2017),
#: Cert_314472-325175_13TeV (2018), Cert_Collisions2022_355100_362760,
#: Cert_Collisions2023_366442_370790, Cert_Collisions2024_378981_386951 and
#: Cert_Collisions2025_391658_398903; the reference runs at lower energy from their own lists
#: (Cert_161366-161474_2760GeV, Cert_262081-262328_5TeV, Cert_306546-306826_5TeV,
#: Cert_Collisions2024_ppref_387474_387721) and the CERN Open Data record of the 2013 2.76 TeV
#: run (runs 211739-211831). The 2025 oxygen and neon runs (between eras 2025C, last run
#: 393609, and 2025D, first run 394286) are not proton-proton: that gap is left out. Runs
#: outside every period (heavy ions, commissioning, cosmics) get no energy or year rather than
#: a wrong one. The first matching period wins, so the reference runs inside a year's range
#: come before it.
RUN_PERIODS: tuple[RunPeriod, ...] = (
    RunPeriod(136033, 149442, 2010, "7 TeV"),
    RunPeriod(161366, 161474, 2011, "2.76 TeV"),
    RunPeriod(160404, 180252, 2011, "7 TeV"),
    RunPeriod(190456, 208686, 2012, "8 TeV"),
    RunPeriod(211739, 211831, 2013, "2.76 TeV"),
    RunPeriod(246908, 260627, 2015, "13 TeV"),
    RunPeriod(262081, 262328, 2015, "5.02 TeV"),
    RunPeriod(271036, 284044, 2016, "13 TeV"),
    RunPeriod(294927, 306462, 2017, "13 TeV"),
    RunPeriod(306546, 306826, 2017, "5.02 TeV"),
    RunPeriod(314472, 325175, 2018, "13 TeV"),
    RunPeriod(355100, 362760, 2022, "13.6 TeV"),
    RunPeriod(366442, 370790, 2023, "13.6 TeV"),
    RunPeriod(378981, 386951, 2024, "13.6 TeV"),
    RunPeriod(387474, 387721, 2024, "5.36 TeV"),
    RunPeriod(391658, 393609, 2025, "13.6 TeV"),
    RunPeriod(394286, 398903, 2025, "13.6 TeV"),
)


#: Runs inside a proton-proton year's range that are not proton-proton collisions: the 2017
#: xenon-xenon runs (304899 and 304906) and the 2012 proton-lead pilot run (202792).
NOT_PROTON_PROTON: tuple[tuple[int, int], ...] = ((304899, 304906), (202792, 202792))


def run_period(run: int) -> RunPeriod | None:
    """The proton-proton data-taking period of a collision-data run, or None."""
    if any(first <= run <= last for first, last in NOT_PROTON_PROTON):
        return None
    for period in RUN_PERIODS:
        if period.first <= run <= period.last:
            return period
    return None


def energy_text(style: Style, run: int, is_simulation: bool) -> str:
    """The text at the right of the experiment line, as mplhep's ``rlabel``: "2018 (13 TeV)"
    for collision data, "" for simulation or an unknown run. ``figure.energy`` other than
    "auto" replaces the energy ("" or null: no energy text at all); the year still comes from
    the run of collision data."""
    setting = style.figure.energy
    if setting is None or not setting.strip():
        return ""
    period = None if is_simulation else run_period(run)
    if setting == "auto":
        return f"{period.year} ({period.energy})" if period is not None else ""
    year = f"{period.year} " if period is not None else ""
    return f"{year}({setting.strip()})"


# ---- the experiment line ------------------------------------------------------------------

#: The words each explicit ``figure.label_mode`` writes after "CMS".
_MODE_WORDS = {"cms": "", "preliminary": "Preliminary", "open_data": "Open Data"}


def experiment_qualifier(is_simulation: bool, style: Style, mode: str = "auto") -> str:
    """The italic words after "CMS".

    "auto" (every render, movie and page, and figures by default): simulation gets
    ``labels.simulation_text``, collision data ``labels.data_text``. An explicit figure mode
    ("cms", "preliminary", "open_data") sets the data's words; simulated events keep saying
    that they are simulation in front of them, as mplhep writes "CMS Simulation Preliminary",
    so a simulated event is never labelled as data. "simulation" writes the simulation text
    whatever the file (:func:`label_mode_warning` says so when the file is collision data).
    """
    labels = style.labels
    if mode == "simulation":
        return labels.simulation_text
    words = labels.data_text if mode == "auto" else _MODE_WORDS[mode]
    if not is_simulation:
        return words
    if mode == "auto":
        return labels.simulation_text
    return " ".join(w for w in (labels.simulation_text, words) if w)


def label_mode_warning(style: Style, is_simulation: bool) -> str | None:
    """A warning when ``figure.label_mode`` makes a figure say something the file is not."""
    if style.figure.label_mode == "simulation" and not is_simulation:
        return (
            "figure.label_mode = 'simulation' labels collision data as simulation; "
            "'auto' follows the file"
        )
    return None


# ---- the event, the energy scale, cleaning and masses -------------------------------------


def identity(event: EventHeader) -> str:
    """How a picture names its event: "Run 315267, Lumi section 205, Event 197713878", or, for
    an input without run and event numbers, "Entry 3 of file.root" (never an invented run)."""
    if not getattr(event, "has_ids", True):
        return f"Entry {getattr(event, 'entry', event.index)} of {source_stem_name(event.source)}"
    return event_info(event.run, event.lumi, event.event)


def recorded(event: EventHeader, style: Style) -> str | None:
    """ "Data recorded: 2012-May-14 05:37:50.0 GMT", as CMS's images print it: the style's
    figure.recorded, else the time the file gives (iSpy), for collision data only."""
    when = style.figure.recorded or getattr(event, "time", None)
    if not when or event.is_simulation:
        return None
    return f"Data recorded: {when}"


def source_stem_name(source: str) -> str:
    return source.rstrip("/").rsplit("/", 1)[-1]


def event_info(run: int, lumi: int | None, event: int) -> str:
    parts = [f"Run {run}"]
    if lumi is not None:
        parts.append(f"Lumi section {lumi}")
    parts.append(f"Event {event}")
    return ", ".join(parts)


def _energy(gev: float) -> str:
    """Three significant figures, in TeV from 1000 GeV on: the scale is a measuring rod, so
    "136 GeV" rather than a rounding of a few per cent."""
    if gev >= 999.5:
        return f"{gev / 1000.0:.3g} TeV"
    return f"{gev:.3g} GeV"


def scaled_objects(scene: Scene) -> tuple[str, ...]:
    """What is drawn with a length proportional to its transverse energy, in the order of the
    text: cones (jets, taus), photon deposits, calorimeter towers and the MET arrow. A photon's
    deposit is a tower of the photon's group, which also has the photon's line."""
    lines = {p.group for p in scene.primitives if isinstance(p, Polylines)}
    towers = [p.group for p in scene.primitives if isinstance(p, Towers)]
    found = {
        "jets": any(isinstance(p, Cones) for p in scene.primitives),
        "photons": any(g in lines for g in towers),
        "towers": any(g not in lines for g in towers),
        "MET": any(isinstance(p, Arrows) for p in scene.primitives),
    }
    return tuple(name for name, drawn in found.items() if drawn)


def energy_scale_text(metres_per_gev: float, objects: Sequence[str], et: str = "E_T") -> str:
    """ "Energy scale (jets, MET): 1 m = 100 GeV E_T". ``et`` is how the caller writes E_T (the
    overlay draws the T as a subscript, figures use mathtext)."""
    which = f" ({', '.join(objects)})" if objects else ""
    return f"Energy scale{which}: 1 m = {_energy(1.0 / metres_per_gev)} {et}"


def removed_text(removed: dict[str, dict[str, int]]) -> str:
    """One line of what cross-cleaning left out: "Not drawn, same object as a lepton or photon:
    2 jets, 1 tau"; "" when nothing was."""
    parts = []
    for key, by in removed.items():
        n = sum(by.values())
        if n:
            names = BY_KEY[key]
            parts.append(f"{n} {names.singular if n == 1 else names.noun}")
    if not parts:
        return ""
    return f"Not drawn, same object as a lepton or photon: {', '.join(parts)}"


#: mathtext commands in mass labels and the characters they stand for (the fonts have them; mu
#: is the micro sign, whose spacing in TeX Gyre Heros suits running text, unlike its Greek mu).
_SYMBOLS = {r"\mu": "µ", r"\ell": "ℓ", r"\gamma": "γ", r"\tau": "τ", r"\nu": "ν", r"\pi": "π"}


def plain_text(mathtext: str) -> str:
    """A mass label such as "$m(\\mu\\mu)$" as plain text for the PNG overlay: "m(μμ)"."""
    text = mathtext.replace("$", "")
    # Charges as superscripts: "\\mu^{+}" -> "μ⁺", "\\mathrm{e}^{\\pm}" -> "e±".
    for sign, char in (("+", "⁺"), ("-", "⁻"), ("\\pm", "±"), ("\\mp", "∓")):
        text = text.replace(f"^{{{sign}}}", char)
    text = re.sub(r"\\math(?:rm|it|bf)\{([^}]*)\}", r"\1", text)
    for command, char in _SYMBOLS.items():
        text = text.replace(command, char)
    return text.replace("\\", "").replace("{", "").replace("}", "")


def mass_lines(results: Sequence[MassResult]) -> tuple[str, ...]:
    """The masses an event could make, as plain text; requests it cannot serve are left out,
    as on figures."""
    return tuple(plain_text(r.text) for r in results if r.value is not None)


# ---- the block ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelBlock:
    experiment: str
    qualifier: str
    info: tuple[str, ...] = ()
    legend: tuple[LegendEntry, ...] = field(default_factory=tuple)
    # "2018 (13 TeV)": written at the top right, as mplhep's rlabel; "" for simulation.
    energy: str = ""
    # The energy scale the picture was drawn with, stated on it (None: nothing scaled).
    metres_per_gev: float | None = None
    # What that scale applies to: "jets", "towers", "MET".
    scaled: tuple[str, ...] = ()
    # Invariant masses as plain text lines (labels.masses).
    masses: tuple[str, ...] = ()
    # Under the legend, smaller: what the event has that is not drawn ("" for nothing).
    left_out: tuple[str, ...] = ()  # each "2 jets (same as muons)"

    @property
    def energy_scale(self) -> str:
        """The energy-scale statement ("" when nothing is drawn to scale), E_T written "E_T"."""
        if self.metres_per_gev is None or self.metres_per_gev <= 0:
            return ""
        return energy_scale_text(self.metres_per_gev, self.scaled)


def label_block(
    *,
    run: int,
    lumi: int | None,
    event: int,
    is_simulation: bool,
    legend: Sequence[LegendEntry],
    style: Style,
    metres_per_gev: float | None = None,
    scaled: Sequence[str] = (),
    masses: Sequence[str] = (),
    left_out: Sequence[str] = (),
    info_lines: Sequence[str] | None = None,
) -> LabelBlock:
    labels = style.labels
    if info_lines is None:
        info_lines = (event_info(run, lumi, event),)
    info = tuple(info_lines) if labels.event_info else ()
    return LabelBlock(
        experiment=labels.experiment,
        qualifier=experiment_qualifier(is_simulation, style),
        info=info,
        legend=tuple(legend) if labels.legend else (),
        energy=energy_text(style, run, is_simulation),
        metres_per_gev=metres_per_gev,
        scaled=tuple(scaled),
        masses=tuple(masses) if labels.masses else (),
        left_out=tuple(left_out) if labels.legend else (),
    )


def event_labels(
    event: EventHeader, scene: Scene | Sequence[LegendEntry], style: Style
) -> LabelBlock:
    """The label block of one event, whichever its source: the same for PNGs, pages, figures
    and movies. Given the event's Scene (rather than only its legend) the block also states
    the energy scale; given the PhysicsEvent and ``labels.masses``, the masses of
    ``figure.masses``, computed as figures compute them."""
    left_out: Sequence[str] = ()
    if isinstance(scene, Scene):
        legend: Sequence[LegendEntry] = scene.legend
        metres_per_gev, scaled = scene.metres_per_gev, scaled_objects(scene)
        left_out = scene.left_out
    else:
        legend, metres_per_gev, scaled = scene, None, ()
    masses: tuple[str, ...] = ()
    if style.labels.masses and isinstance(event, PhysicsEvent):
        masses = mass_lines(compute_masses(event, style.figure.masses))
    return label_block(
        run=event.run,
        lumi=event.lumi,
        event=event.event,
        is_simulation=event.is_simulation,
        legend=legend,
        style=style,
        metres_per_gev=metres_per_gev,
        scaled=scaled,
        masses=masses,
        left_out=left_out,
        info_lines=[identity(event), *filter(None, [recorded(event, style)])],
    )


def title_lines(event: EventHeader, style: Style) -> list[str]:
    """The lines of a movie's title card: the experiment line ("CMS Simulation", "CMS Open
    Data"), the energy and year of collision data ("2018 (13 TeV)"), then the event."""
    first = f"{style.labels.experiment} {experiment_qualifier(event.is_simulation, style)}"
    energy = energy_text(style, event.run, event.is_simulation)
    lines = [first.strip(), energy] if energy else [first.strip()]
    return [*lines, identity(event)]
