"""Quantities computed from an event's physics objects: four-vectors and invariant masses.

Plain numpy, no drawing. Objects are the ones the physics stage keeps for the style (its
``min_pt``, ``max_count`` and ``show``), so a mass written on a figure is the mass of objects
drawn in it. Leptons get their PDG masses (NanoAOD's Muon_mass is exactly this
constant and Electron_mass is a regression output close to it); photons are massless; jets keep
the mass NanoAOD gives them through their energy.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ispyrender.config.collections import BY_KEY
from ispyrender.config.style import MassRequest, Style
from ispyrender.errors import StyleError
from ispyrender.physics.objects import PhysicsEvent

__all__ = [
    "ELECTRON_MASS",
    "MUON_MASS",
    "MassResult",
    "ObjectList",
    "event_objects",
    "four_vectors",
    "invariant_mass",
    "mass_label",
    "masses",
    "served_mass_requests",
]

MUON_MASS = 0.1056583755  # GeV, PDG 2022
ELECTRON_MASS = 0.00051099895  # GeV, PDG 2022

#: Mass request collection -> the style collections it is made of.
_STYLE_KEYS: dict[str, tuple[str, ...]] = {
    "muons": ("muons",),
    "electrons": ("electrons",),
    "leptons": ("muons", "electrons"),
    "photons": ("photons",),
    "jets": ("jets",),
}
#: Mass request collection -> the NanoAOD collections it is made of.
_BRANCHES: dict[str, tuple[str, ...]] = {
    request: tuple(str(BY_KEY[key].nanoaod) for key in keys)
    for request, keys in _STYLE_KEYS.items()
}
#: mathtext symbol of one object of each kind.
_SYMBOLS = {key: str(BY_KEY[key].symbol) for key in ("muons", "electrons", "photons", "jets")}
_SYMBOLS["leptons"] = r"\ell"


@dataclass(frozen=True)
class ObjectList:
    """Objects of one kind (or several merged), sorted by decreasing pT."""

    kind: np.ndarray  # style key of each object: "muons", "electrons", ...
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    mass: np.ndarray
    charge: np.ndarray  # NaN where the object has no charge (photons, jets)

    def __len__(self) -> int:
        return int(self.pt.size)

    def leading(self, n: int | None) -> ObjectList:
        stop = len(self) if n is None else n
        return ObjectList(*(a[:stop] for a in self._arrays()))

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.kind, self.pt, self.eta, self.phi, self.mass, self.charge)

    @staticmethod
    def merge(parts: Sequence[ObjectList]) -> ObjectList:
        if not parts:
            return ObjectList(*(np.zeros(0) for _ in range(6)))
        arrays = [np.concatenate(a) for a in zip(*(p._arrays() for p in parts), strict=True)]
        order = np.argsort(-arrays[1], kind="stable")
        return ObjectList(*(a[order] for a in arrays))


def _momenta(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, mass: np.ndarray) -> Any:
    """The objects as scikit-hep ``vector`` Lorentz vectors (numpy backend)."""
    import vector

    arrays = (np.asarray(a, dtype=float).reshape(-1) for a in (pt, eta, phi, mass))
    return vector.array(dict(zip(("pt", "eta", "phi", "mass"), arrays, strict=True)))


def four_vectors(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """(N, 4) array of (E, px, py, pz) in GeV from pT, eta, phi and mass."""
    p = _momenta(pt, eta, phi, mass)
    return np.stack([p.E, p.px, p.py, p.pz], axis=-1)


def invariant_mass(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, mass: np.ndarray) -> float:
    """The mass of the objects' summed four-momentum (0 where rounding makes m^2 negative)."""
    import vector

    p = _momenta(pt, eta, phi, mass)
    total = vector.obj(px=p.px.sum(), py=p.py.sum(), pz=p.pz.sum(), E=p.E.sum())
    return float(np.sqrt(max(float(total.mass2), 0.0)))


def _one_kind(
    key: str, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, mass: np.ndarray, charge: np.ndarray
) -> ObjectList:
    return ObjectList(np.full(pt.size, key, dtype="<U9"), pt, eta, phi, mass, charge)


def event_objects(event: PhysicsEvent) -> dict[str, ObjectList]:
    """The event's objects per kind: muons, electrons, photons, jets, and leptons (both)."""
    found: dict[str, ObjectList] = {}
    for tracks in event.tracks:
        if tracks.collection not in ("muons", "electrons"):
            continue
        m = MUON_MASS if tracks.collection == "muons" else ELECTRON_MASS
        found[tracks.collection] = _one_kind(
            tracks.collection,
            tracks.pt,
            tracks.eta,
            tracks.phi,
            np.full(len(tracks), m),
            np.asarray(tracks.charge, dtype=float),
        )
    if event.photons is not None:
        p = event.photons
        found["photons"] = _one_kind(
            "photons", p.pt, p.eta, p.phi, np.zeros(len(p)), np.full(len(p), np.nan)
        )
    for jets in event.jets:
        if jets.collection != "jets":
            continue
        # Back from the energy the objects module made: m^2 = E^2 - (pT cosh eta)^2.
        p2 = (jets.pt * np.cosh(jets.eta)) ** 2
        mass = np.sqrt(np.maximum(jets.energy**2 - p2, 0.0))
        found["jets"] = _one_kind(
            "jets", jets.pt, jets.eta, jets.phi, mass, np.full(len(jets), np.nan)
        )
    found["leptons"] = ObjectList.merge([found[k] for k in ("muons", "electrons") if k in found])
    return found


def mass_label(request: MassRequest, n: int) -> str:
    """'$m(\\mu\\mu)$' for two muons, '$m(4\\ell)$' for four leptons, or the style's label."""
    if request.label is not None:
        return request.label
    symbol = _SYMBOLS[request.collection]
    inner = symbol * n if n <= 3 else f"{n}{symbol}"
    return f"$m({inner})$"


@dataclass(frozen=True)
class MassResult:
    request: MassRequest
    label: str  # mathtext
    value: float | None  # GeV; None when the event has no such candidate
    count: int  # objects used (or found, when there is no candidate)
    why: str = ""  # why there is no candidate
    parts: tuple[float, ...] = ()  # four leptons: m(Z1), m(Z2)

    @property
    def text(self) -> str:
        if self.value is None:
            return f"{self.label}: {self.why}"
        return f"{self.label} = {self.value:.1f} GeV"


def masses(event: PhysicsEvent, requests: Sequence[MassRequest]) -> list[MassResult]:
    """One result per request, in the style's order: the mass of a physical candidate
    (:mod:`.candidates`), or no value and the reason."""
    objects = event_objects(event)
    results = []
    for request in requests:
        pool = objects.get(request.collection, ObjectList.merge([]))
        found = _candidate(request, pool)
        label = request.label if request.label is not None else found.label
        results.append(MassResult(request, label, found.value, found.count, found.why, found.parts))
    return results


def _candidate(request: MassRequest, pool: ObjectList) -> Any:
    """The candidate a request asks for: charged leptons paired (two: the opposite-sign
    same-flavour pair closest to m(Z); four: CMS's H -> 4l pairing; other counts: the
    leading ones when their charges add up to zero), photons and jets the leading ones."""
    from ispyrender.physics import candidates

    collection, count = request.collection, request.count
    if collection in ("muons", "electrons", "leptons"):
        if count == 2:
            return candidates.z_candidate(pool, None if collection == "leptons" else collection)
        if count == 4:
            return candidates.four_lepton(pool)
        label = mass_label(request, count or len(pool))
        found = candidates.leading(pool, count, label, label)
        charge = float(np.nansum(pool.leading(count).charge))
        if found.value is not None and charge != 0:
            return candidates.Candidate(
                None, label, label, found.count, f"total charge {charge:+.0f}, not a neutral state"
            )
        return found
    label = mass_label(request, count or len(pool))
    return candidates.leading(pool, count, label, label)


def served_mass_requests(
    style: Style, available: Collection[str] | None
) -> tuple[list[MassRequest], list[str]]:
    """The mass requests of ``style`` this file can serve, and a note for each one it cannot
    (that mass is left out; the figure is still made); before anything is drawn. The style
    itself is left as it is (the runner makes the style of the run).

    ``available`` lists the file's branches; None for sources without branches (iSpy), whose
    objects are checked per event instead. A request whose collection the style hides is a
    contradiction in the style and is refused."""
    kept = []
    notes = []
    for i, request in enumerate(style.figure.masses):
        key = f"figure.masses[{i}].collection = {request.collection!r}"
        hidden = [
            k for k in _STYLE_KEYS[request.collection] if not getattr(style.collections, k).show
        ]
        if len(hidden) == len(_STYLE_KEYS[request.collection]):
            raise StyleError(
                f"{key}: collections.{hidden[0]}.show is false, so there is nothing to add up: "
                f"--set collections.{hidden[0]}.show=true"
            )
        branches = _BRANCHES[request.collection]
        have = [
            b
            for b in branches
            if available is None or all(f"{b}_{f}" in available for f in ("pt", "eta", "phi"))
        ]
        if have or available is None:
            kept.append(request)
            continue
        names = " or ".join(f"{b}_pt/eta/phi" for b in branches)
        notes.append(f"the {request.collection} mass is left out: this file has no {names}")
    return kept, notes


@dataclass(frozen=True)
class LeadingMass:
    """The invariant mass of the leading objects of one kind, as listed in manifests and on
    gallery pages."""

    name: str  # "dimuon", "four_lepton", ...
    label: str  # "m(μμ)", plain text
    kind: str  # muons, electrons, leptons, photons, jets
    count: int
    value: float  # GeV


def leading_masses(event: PhysicsEvent) -> list[LeadingMass]:
    """The masses of the physical candidates the drawn objects of ``event`` make, as listed in
    manifests and on gallery pages: leptons first (the usual showcase: Z, J/psi, H -> 4l),
    then photons (H -> gamma gamma), then jets. m(ℓℓ) and m(eμ) are listed only when the event
    has both muons and electrons (else m(ℓℓ) repeats m(μμ) or m(ee))."""
    from ispyrender.physics import candidates

    objects = event_objects(event)
    empty = ObjectList.merge([])
    muons, electrons = objects.get("muons", empty), objects.get("electrons", empty)
    leptons = objects["leptons"]
    both = len(muons) > 0 and len(electrons) > 0
    found = [
        ("dimuon", "muons", candidates.z_candidate(muons, "muons")),
        ("dielectron", "electrons", candidates.z_candidate(electrons, "electrons")),
    ]
    if both:
        found.append(("dilepton", "leptons", candidates.z_candidate(leptons, None)))
        found.append(("electron_muon", "leptons", candidates.electron_muon(leptons)))
    found += [
        ("four_lepton", "leptons", candidates.four_lepton(leptons)),
        (
            "diphoton",
            "photons",
            candidates.leading(objects.get("photons", empty), 2, "", "m(γγ)"),
        ),
        ("dijet", "jets", candidates.leading(objects.get("jets", empty), 2, "", "m(jj)")),
    ]
    return [
        LeadingMass(name, c.plain, kind, c.count, c.value)
        for name, kind, c in found
        if c.value is not None
    ]
