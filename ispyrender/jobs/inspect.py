"""What is in a dataset, and what a render of it would miss.

:func:`inspect_dataset` reads only event ids and collection counters (never the collections
themselves), so it stays fast on large files. The CLI formats the report; ``to_dict`` gives
plain JSON-able data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ispyrender.config.collections import COLLECTIONS
from ispyrender.sources.base import EventSource
from ispyrender.sources.ispy import IspySource
from ispyrender.sources.nanoaod import Dataset

__all__ = [
    "DRAWABLE_FIELDS",
    "KNOWN_COLLECTIONS",
    "MET_SOURCES",
    "CollectionSummary",
    "InputSummary",
    "InspectReport",
    "event_ids",
    "inspect_dataset",
    "inspect_source",
]

#: Collections reported when present, in display order.
KNOWN_COLLECTIONS: tuple[str, ...] = (
    "Muon",
    "Electron",
    "Photon",
    "Tau",
    "boostedTau",
    "Jet",
    "FatJet",
    "SubJet",
    "CorrT1METJet",
    "IsoTrack",
    "PFCands",
    "JetPFCands",
    "FatJetPFCands",
    "LowPtElectron",
    "FsrPhoton",
    "SV",
    "OtherPV",
    "TrigObj",
    "GenPart",
    "GenJet",
    "GenJetAK8",
    "GenVisTau",
    "GenDressedLepton",
)

#: Missing-transverse-momentum records, reported when both _pt and _phi are present.
MET_SOURCES: tuple[str, ...] = (
    "MET",
    "PuppiMET",
    "ChsMET",
    "RawMET",
    "RawPuppiMET",
    "CaloMET",
    "TkMET",
    "DeepMETResolutionTune",
    "DeepMETResponseTune",
    "GenMET",
)

#: Fields each drawable collection needs for a full drawing (from the collections' table).
DRAWABLE_FIELDS: dict[str, tuple[str, ...]] = {
    c.nanoaod: c.fields for c in COLLECTIONS if c.nanoaod
}
_SIMULATED = {c.nanoaod for c in COLLECTIONS if c.simulated}


@dataclass(frozen=True)
class InputSummary:
    path: str
    entries: int
    storage: str
    compression: str | None
    has_luminosity_block: bool
    has_runs_tree: bool


@dataclass(frozen=True)
class CollectionSummary:
    name: str
    mean: float  # mean multiplicity per event (over inputs that have it)
    max: int
    counted_from: str  # the branch the multiplicity was read from, e.g. "nMuon"
    events_with: int  # events with at least one object


@dataclass
class InspectReport:
    num_events: int
    is_simulation: bool
    kind: str  # "simulation" or "collision data"
    run_range: tuple[int, int] | None  # None when there are no events
    inputs: list[InputSummary]
    collections: list[CollectionSummary]
    met_sources: list[str]
    missing: list[str] = field(default_factory=list)
    # The LHC data taking of collision data's runs, as labels write it: "2018 (13 TeV)"; None
    # for simulation and for runs outside the known proton-proton periods.
    period: str | None = None

    @classmethod
    def of(
        cls,
        run: np.ndarray,
        is_simulation: bool,
        inputs: list[InputSummary],
        collections: list[CollectionSummary],
        met_sources: list[str],
        missing: list[str],
    ) -> InspectReport:
        """The report of events with these ``run`` numbers: their number, kind, run range and
        data-taking period follow from them, the same for every format."""
        run_range = (int(run.min()), int(run.max())) if run.size else None
        return cls(
            num_events=int(run.size),
            is_simulation=is_simulation,
            kind="simulation" if is_simulation else "collision data",
            run_range=run_range,
            inputs=inputs,
            collections=collections,
            met_sources=met_sources,
            missing=missing,
            period=data_period(run_range, is_simulation),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``files`` is a list, ``collections`` maps name -> statistics."""
        return {
            "num_events": self.num_events,
            "is_simulation": self.is_simulation,
            "kind": self.kind,
            "run_range": list(self.run_range) if self.run_range is not None else None,
            "files": [asdict(i) for i in self.inputs],
            # Keyed by name: the natural shape for JSON consumers (and the CLI's table).
            "collections": {
                c.name: {k: v for k, v in asdict(c).items() if k != "name"}
                for c in self.collections
            },
            "met_sources": list(self.met_sources),
            "missing": list(self.missing),
            "period": self.period,
        }


def _collection_names(branches: set[str]) -> list[str]:
    """The collections ispyrender draws first, then every other one the file holds
    (ScoutingNANO's, a private skim's), so that the report shows what is there."""
    from ispyrender.physics.nanoaod import file_collections

    known = [c for c in KNOWN_COLLECTIONS if f"n{c}" in branches or f"{c}_pt" in branches]
    return known + [c for c in file_collections(branches, counted=True) if c not in known]


def _multiplicities(dataset: Dataset, names: list[str]) -> list[CollectionSummary]:
    """Read counters (or, lacking one, the _pt branch's lengths) file by file."""
    totals: dict[str, list[np.ndarray]] = {c: [] for c in names}
    source: dict[str, str] = {}
    for index, info in enumerate(dataset.inputs):
        wanted: dict[str, str] = {}
        for c in names:
            if f"n{c}" in info.branches:
                wanted[c] = f"n{c}"
            elif f"{c}_pt" in info.branches:
                wanted[c] = f"{c}_pt"
        if not wanted or info.num_entries == 0:
            continue
        ranges = [(index, 0, info.num_entries)]
        for _info, _start, cols in dataset.iter_chunks(wanted.values(), 100_000, ranges):
            for c, branch in wanted.items():
                col = cols[branch]
                counts = col.counts() if col.offsets is not None else col.content
                totals[c].append(np.asarray(counts, dtype=np.int64))
                # Report the counter when any input has it; the _pt fallback otherwise.
                if source.get(c) != f"n{c}":
                    source[c] = branch
    result = []
    for c in names:
        if not totals[c]:
            continue
        counts = np.concatenate(totals[c])
        result.append(
            CollectionSummary(
                name=c,
                mean=round(float(counts.mean()), 3) if counts.size else 0.0,
                max=int(counts.max()) if counts.size else 0,
                counted_from=source[c],
                events_with=int(np.count_nonzero(counts)),
            )
        )
    return result


def _missing(dataset: Dataset, branches: set[str]) -> list[str]:
    notes: list[str] = []
    for coll, needed in DRAWABLE_FIELDS.items():
        fields = {b[len(coll) + 1 :] for b in branches if b.startswith(coll + "_")}
        if not fields:
            if coll in _SIMULATED and not dataset.is_simulation:
                notes.append(f"{coll}: absent (collision data has no generator record)")
            elif coll == "PFCands":
                notes.append("PFCands: absent (only PFNano files have them), none will be drawn")
            else:
                notes.append(f"{coll}: absent, nothing of it will be drawn")
            continue
        lacking = [f for f in needed if f not in fields]
        if not lacking:
            continue
        if "charge" in lacking and "pdgId" in fields:
            lacking.remove("charge")
            notes.append(f"{coll}: no {coll}_charge; the charge comes from {coll}_pdgId")
        if lacking:
            names = ", ".join(f"{coll}_{f}" for f in lacking)
            notes.append(f"{coll}: lacks {names}")
    # Always say which input lacks something when not all of them do.
    n = len(dataset.inputs)
    no_ids = dataset.missing_ids()
    if no_ids:
        which = "all inputs" if len(no_ids) == n else ", ".join(no_ids)
        notes.append(f"no run/event branches ({which}): events are named by input and entry")
    no_lumi = [i.path for i in dataset.inputs if not i.has_lumi]
    if no_lumi:
        which = "all inputs" if len(no_lumi) == n else ", ".join(no_lumi)
        notes.append(f"no luminosityBlock branch ({which}): event ids show RUN:EVENT only")
    no_runs = [i.path for i in dataset.inputs if not i.has_runs_tree]
    if no_runs:
        which = "all inputs" if len(no_runs) == n else ", ".join(no_runs)
        notes.append(f"no Runs tree ({which}): per-run metadata is unavailable")
    return notes


def data_period(run_range: tuple[int, int] | None, is_simulation: bool) -> str | None:
    """ "2018 (13 TeV)" for collision data whose runs are in one known period (from the same
    table as the labels), "2017 (13 TeV) to 2018 (13 TeV)" across two; None otherwise."""
    from ispyrender.scene.labels import run_period

    if is_simulation or run_range is None:
        return None
    start, end = run_period(run_range[0]), run_period(run_range[1])
    if start is None or end is None:
        return None
    first, last = (f"{p.year} ({p.energy})" for p in (start, end))
    return first if first == last else f"{first} to {last}"


def inspect_dataset(dataset: Dataset) -> InspectReport:
    """Summarise a dataset reading only event ids and collection counters."""
    branches = dataset.available_branches()
    # Collections are listed if any input has them; missing-field notes use the intersection,
    # since a render of all inputs misses whatever one of them lacks.
    union: set[str] = set().union(*(i.branches for i in dataset.inputs))
    run, _lumi, _event = dataset.event_ids()
    met_sources = [m for m in MET_SOURCES if f"{m}_pt" in union and f"{m}_phi" in union]
    inputs = [
        InputSummary(
            path=i.path,
            entries=i.num_entries,
            storage=i.storage,
            compression=i.compression,
            has_luminosity_block=i.has_lumi,
            has_runs_tree=i.has_runs_tree,
        )
        for i in dataset.inputs
    ]
    return InspectReport.of(
        run,
        dataset.is_simulation,
        inputs,
        _multiplicities(dataset, _collection_names(union)),
        met_sources,
        _missing(dataset, branches),
    )


#: What ispyrender draws of an iSpy file: (collection, what it becomes in the picture).
ISPY_DRAWN: tuple[tuple[str, str], ...] = tuple(
    (name, c.noun.removeprefix("the ")) for c in COLLECTIONS for name in c.ispy
)


def _inspect_ispy(source: IspySource) -> InspectReport:
    """The same report for iSpy files: collections are iSpy's (version suffix dropped), their
    multiplicities counted from the rows of every event."""
    counts: dict[str, list[int]] = {}
    ids = source.ids()
    n = len(source)
    for index in range(n):
        event = source.event(index)
        for name, rows in event.collections.items():
            base = name.rsplit("_V", 1)[0]
            counts.setdefault(base, [0] * n)[index] += len(rows)
    collections = [
        CollectionSummary(
            name=name,
            mean=round(float(np.mean(c)), 3),
            max=int(max(c)),
            counted_from=name,
            events_with=int(np.count_nonzero(c)),
        )
        for name, c in sorted(counts.items())
        if name not in ("Event", "Products", "Errors")
    ]
    from ispyrender.physics.ispy import NEWER_NAMES

    missing = [
        f"{name}: absent, no {what} will be drawn"
        for name, what in ISPY_DRAWN
        if not any(any(counts.get(n, [])) for n in (name, *NEWER_NAMES.get(name, ())))
    ]
    missing.append("iSpy files hold no generator record: GenPart cannot be drawn")
    if ids.lumi is None:
        missing.append("no lumi section in some event headers: event ids show RUN:EVENT only")
    inputs = [
        InputSummary(span.path, span.num_entries, "iSpy", "zip", ids.lumi is not None, False)
        for span in source.inputs
    ]
    met = ["PFMETs"] if any(counts.get("PFMETs", [])) else []
    return InspectReport.of(ids.run, source.is_simulation, inputs, collections, met, missing)


def inspect_source(source: EventSource) -> InspectReport:
    """What is in a source (NanoAOD or iSpy), and what a render of it would miss."""
    if isinstance(source, IspySource):
        return _inspect_ispy(source)
    assert isinstance(source, Dataset)
    return inspect_dataset(source)


def event_ids(
    source: EventSource, where: str | None = None, max_events: int | None = None
) -> list[dict[str, int | None]]:
    """The ids of the events (passing ``where``, at most ``max_events``): entry, run, lumi
    section (None where the inputs lack it) and event, as ``--ids`` and ``--ids-file`` take
    them. An input without run and event numbers has none to give: that is an error naming it."""
    from ispyrender.errors import SelectionError
    from ispyrender.selection import Selection

    ids = source.ids()
    if ids.synthetic:
        raise SelectionError(
            "the inputs have no run and event numbers: pick their events by entry (--events)"
        )
    entries = Selection(where=where, max_events=max_events).resolve(source)
    return [
        {
            "entry": int(i),
            "run": int(ids.run[i]),
            "lumi": None if ids.lumi is None else int(ids.lumi[i]),
            "event": int(ids.event[i]),
        }
        for i in entries
    ]
