"""Events already in memory: awkward records of NanoAOD fields, as a notebook holds them.

Two shapes are understood, and both may be mixed in one record:

* flat NanoAOD branches, as ``uproot``'s ``tree.arrays()`` gives them: ``Muon_pt``, ``nMuon``,
  ``MET_pt``, ``run``...;
* nested collections, as coffea's NanoEvents gives them: ``Muon.pt``, ``MET.pt``, ``run``...,
  turned into the flat names (``Muon_pt``) that the physics stage reads.

So an analysis can draw ``events[mask][0]`` directly. Fields that are not plain numbers (coffea's
cross-references to other collections, strings) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ispyrender.errors import InputError
from ispyrender.sources.base import EventIds, EventSource, InputSpan
from ispyrender.sources.nanoaod import EventRecord

__all__ = ["RecordSource", "flatten_record"]

_NAME = "<awkward>"


def _numbers(value: Any) -> np.ndarray | None:
    """A plain numeric 0D/1D numpy array from an awkward/numpy value, or None."""
    import awkward as ak

    try:
        if isinstance(value, (ak.Array, ak.Record)):
            value = ak.to_numpy(value)
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if array.dtype.kind not in "biuf" or array.ndim > 1:
        return None
    return array


def flatten_record(record: Any) -> dict[str, Any]:
    """NanoAOD branch name -> value (numpy scalar or 1D array) for one event's record."""
    import awkward as ak

    if not isinstance(record, ak.Record):
        raise InputError(
            f"cannot draw a {type(record).__name__}: pass one event, an awkward Record of NanoAOD "
            "fields (e.g. events[0] from uproot's tree.arrays() or coffea's NanoEvents)"
        )
    values: dict[str, Any] = {}
    for field in record.fields:
        try:
            value = record[field]
        except Exception:  # a collection coffea cannot build from this file (missing fields)
            continue
        layout_fields = getattr(value, "fields", None)
        if layout_fields:  # a collection (Muon) or a singleton record (MET) of coffea
            for sub in layout_fields:
                try:
                    found = _numbers(value[sub])
                except Exception:  # a cross-reference coffea cannot resolve here
                    found = None
                if found is not None:
                    values[f"{field}_{sub}"] = found if found.ndim else found[()]
            continue
        found = _numbers(value)
        if found is not None:
            values[field] = found if found.ndim else found[()]
    return values


class RecordSource(EventSource):
    """In-memory events (awkward records), seen as a source of one input."""

    kind = "awkward"
    has_branches = True

    def __init__(self, records: Sequence[Any], name: str = _NAME) -> None:
        self._values = [flatten_record(r) for r in records]
        if not self._values:
            raise InputError("no events given: pass at least one awkward Record")
        self.inputs = [InputSpan(name, len(self._values), 0)]
        names = set().union(*(v.keys() for v in self._values))
        self._branches = {n for n in names if all(n in v for v in self._values)}
        self.is_simulation = "genWeight" in names or "GenPart_pt" in names
        self._ids: EventIds | None = None

    def available_branches(self) -> set[str]:
        return set(self._branches)

    def ids(self) -> EventIds:
        if self._ids is None:
            n = len(self._values)
            have = all("run" in v and "event" in v for v in self._values)
            run = np.array([int(v.get("run", 0)) for v in self._values], dtype=np.int64)
            event = np.array(
                [int(v["event"]) if have else i for i, v in enumerate(self._values)],
                dtype=np.int64,
            )
            lumi = None
            if all("luminosityBlock" in v for v in self._values):
                lumi = np.array([int(v["luminosityBlock"]) for v in self._values], dtype=np.int64)
            self._ids = EventIds(run if have else np.zeros(n, np.int64), lumi, event, not have)
        return self._ids

    def read(self, entries: Sequence[int], branches: Iterable[str] = ()) -> Iterator[EventRecord]:
        ids = self.ids()
        wanted = set(branches)
        for index in entries:
            values = self._values[index]
            yield EventRecord(
                index=index,
                source=self.inputs[0].path,
                entry=index,
                run=int(ids.run[index]),
                lumi=None if ids.lumi is None else int(ids.lumi[index]),
                event=int(ids.event[index]),
                is_simulation=self.is_simulation,
                values={k: v for k, v in values.items() if not wanted or k in wanted},
            )
