"""What the labels on a picture say: experiment line, event identity, legend.

Text only; :mod:`ispyrender.rendering.overlay` draws it. The experiment line follows mplhep's CMS
labels: a bold "CMS" followed by an italic qualifier chosen from the file (collision data or
simulation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ispyrender.config.style import Style
from ispyrender.scene.primitives import LegendEntry

if TYPE_CHECKING:
    from ispyrender.sources.base import EventHeader


@dataclass(frozen=True)
class LabelBlock:
    experiment: str
    qualifier: str
    info: tuple[str, ...] = ()
    legend: tuple[LegendEntry, ...] = field(default_factory=tuple)


def experiment_qualifier(is_simulation: bool, style: Style) -> str:
    """'Simulation' for simulated events, the style's data text (e.g. 'Open Data') otherwise."""
    return style.labels.simulation_text if is_simulation else style.labels.data_text


def event_info(run: int, lumi: int | None, event: int) -> str:
    parts = [f"Run {run}"]
    if lumi is not None:
        parts.append(f"Lumi section {lumi}")
    parts.append(f"Event {event}")
    return ", ".join(parts)


def label_block(
    *,
    run: int,
    lumi: int | None,
    event: int,
    is_simulation: bool,
    legend: Sequence[LegendEntry],
    style: Style,
) -> LabelBlock:
    labels = style.labels
    info = (event_info(run, lumi, event),) if labels.event_info else ()
    return LabelBlock(
        experiment=labels.experiment,
        qualifier=experiment_qualifier(is_simulation, style),
        info=info,
        legend=tuple(legend) if labels.legend else (),
    )


def event_labels(event: EventHeader, legend: Sequence[LegendEntry], style: Style) -> LabelBlock:
    """The label block of one event, whichever its source: the same for PNGs, pages, figures
    and movies."""
    return label_block(
        run=event.run,
        lumi=event.lumi,
        event=event.event,
        is_simulation=event.is_simulation,
        legend=legend,
        style=style,
    )
