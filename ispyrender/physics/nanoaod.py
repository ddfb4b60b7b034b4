"""NanoAOD events -> physics objects (:mod:`ispyrender.physics.objects`).

:func:`branch_plan` looks at the branches a dataset has and the style, once per job: which
branches to read, and one warning line per collection the user asked for that cannot be drawn
as asked (absent from the file, or a missing impact parameter that moves where tracks start);
collections shown only by default are not warned about, except one the file has without its
``pt``/``eta``/``phi``.
:func:`build_event` then turns each :class:`~ispyrender.sources.nanoaod.EventRecord` into a
:class:`PhysicsEvent`: vectorised arrays per collection, already filtered by the style's
``show``, ``min_pt`` and ``max_count``, with objects that carry NaN in any used field skipped and
counted (the caller reports the totals once). Jets, taus and fat jets that are the same object
as a drawn lepton or photon are left out (:mod:`ispyrender.physics.cleaning`), and PFNano's PF
candidates are summed into calorimeter towers (:mod:`ispyrender.physics.towers`).

Units and conventions: NanoAOD vertex positions (PV, SV, GenVtx) and impact parameters (dxy,
dz) are in cm and are converted to metres here. A track's origin is its point of closest
approach to the primary vertex, from the CMS sign convention dxy = (-vx py + vy px) / pT
(v = point of closest approach - PV), i.e. PV + dxy * (-sin phi, cos phi) in x-y and PV_z + dz
in z.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ispyrender.config.collections import BY_KEY, COLLECTIONS, of_kind
from ispyrender.config.style import CollectionStyle, JetStyle, Style, TowerStyle
from ispyrender.physics.cleaning import Drawn, Links, clean, electron_photons
from ispyrender.physics.objects import (
    NOUNS,
    CaloTowers,
    Jets,
    Met,
    Photons,
    PhysicsEvent,
    Tracks,
    Vertices,
)
from ispyrender.physics.quality import RULES, IdRule, chosen_id, id_rule, passes
from ispyrender.physics.towers import TOWER_KINDS, pf_towers

if TYPE_CHECKING:
    from ispyrender.sources.nanoaod import EventRecord

__all__ = [
    "JET_RADII",
    "TRACK_COLLECTIONS",
    "BranchPlan",
    "branch_plan",
    "build_event",
    "charge_from_pdgid",
]

CM = 0.01  # NanoAOD lengths are in cm

#: Style key -> (NanoAOD collection, where its tracks stop) for the charged-particle collections.
TRACK_COLLECTIONS: dict[str, tuple[str, str]] = {
    c.key: (c.nanoaod, c.stops) for c in of_kind("track") if c.nanoaod and c.stops
}

#: Style key -> (NanoAOD collection, the cone radius R used by its clustering).
JET_RADII: dict[str, tuple[str, float]] = {
    c.key: (c.nanoaod, c.cone_radius) for c in of_kind("jet") if c.nanoaod and c.cone_radius
}

#: The style keys a NanoAOD file can be drawn with (the iSpy-only hits and chambers aside).
_DRAWABLE = tuple(c.key for c in COLLECTIONS if c.kind not in ("hits", "chambers"))

_KINEMATICS = ("pt", "eta", "phi")

#: NanoAOD's links between jets and the leptons and photons among their constituents, read for
#: cross-cleaning (:mod:`ispyrender.physics.cleaning`); indices into the whole collections.
_JET_LINKS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "muons": (("Jet_muonIdx1", "Jet_muonIdx2"), "Muon_jetIdx"),
    "electrons": (("Jet_electronIdx1", "Jet_electronIdx2"), "Electron_jetIdx"),
    "photons": ((), "Photon_jetIdx"),
}
_JET_LINK_BRANCHES: tuple[str, ...] = tuple(
    name
    for forward, backward in _JET_LINKS.values()
    for name in (*forward, *((backward,) if backward else ()))
)


def charge_from_pdgid(pdg_id: np.ndarray) -> np.ndarray:
    """Electric charge (float array, units of e) from PDG ids, by the ``particle`` package's
    PDG rules: leptons, mesons, baryons (charged ones such as Sigma+ too) and nuclei. An id it
    does not know (0, or not a valid PDG id) counts as neutral."""
    from particle.pdgid import charge

    pdg = np.asarray(pdg_id, dtype=np.int64)
    # The rule per distinct id, not per particle: an event has thousands of pions.
    unique, inverse = np.unique(pdg, return_inverse=True)
    known = np.array([charge(int(p)) or 0.0 for p in unique], dtype=float)
    return known[inverse].reshape(pdg.shape)


# ---- planning which branches to read -------------------------------------------------------


@dataclass(frozen=True)
class BranchPlan:
    """What to read for a job, which shown collections can be drawn, and what to warn about."""

    branches: set[str]
    warnings: list[str]
    drawable: frozenset[str] = frozenset()  # style keys that are shown and have pt/eta/phi
    #: The analysis ID each collection is selected with (absent: every object is drawn).
    ids: dict[str, IdRule] = field(default_factory=dict)


def _missing_required(branch: str, fields: tuple[str, ...], available: Collection[str]) -> str:
    """'' when all present; 'FatJet_*' when none; else the missing names."""
    missing = [f"{branch}_{f}" for f in fields if f"{branch}_{f}" not in available]
    if not missing:
        return ""
    if len(missing) == len(fields):
        return f"{branch}_* missing in this file"
    return f"{' and '.join(missing)} missing"


def _impact_note(key: str, branch: str, available: Collection[str]) -> str | None:
    dxy = _first(available, branch, ("dxy", "d0"))
    dz = f"{branch}_dz" in available
    noun = NOUNS[key]
    if dxy is None and not dz:
        return f"{branch}_dxy and {branch}_dz missing: {noun} start at the primary vertex"
    if dxy is None:
        return f"{branch}_dxy missing: {noun} start at the primary vertex in x and y"
    if not dz:
        return f"{branch}_dz missing: {noun} start at the primary vertex z"
    return None


def _first(available: Collection[str], branch: str, names: tuple[str, ...]) -> str | None:
    for name in names:
        if f"{branch}_{name}" in available:
            return f"{branch}_{name}"
    return None


def _met_sources(available: Collection[str]) -> list[str]:
    return sorted(
        name[: -len("_pt")]
        for name in available
        if name.endswith("MET_pt") and f"{name[: -len('_pt')]}_phi" in available
    )


def file_collections(available: Collection[str], counted: bool = False) -> list[str]:
    """Every collection a NanoAOD file holds, by its branches (``nX`` counters and ``X_pt``
    fields), standard or not (ScoutingNANO's ScoutingMuonVtx, a private skim's). With
    ``counted``, only those with a counter (lists of objects, not one value per event)."""
    names = {
        b[1:]
        for b in available
        if b.startswith("n") and any(a.startswith(f"{b[1:]}_") for a in available)
    }
    if not counted:
        names |= {b[: -len("_pt")] for b in available if b.endswith("_pt")}
    return sorted(names)


def nothing_to_draw(
    style: Style, plan: BranchPlan, available: Collection[str], source: str
) -> str | None:
    """The error when ``style`` shows collections but the file has none of them (``plan``
    can draw nothing: a ScoutingNANO file, a skim of other objects): better said once than
    drawn as an empty detector for every event."""
    if plan.drawable or not any(getattr(style.collections, k).show for k in _DRAWABLE):
        return None
    has = file_collections(available)
    shown = ", ".join(has[:6]) + (f" and {len(has) - 6} more" if len(has) > 6 else "")
    scouting = (
        " (ScoutingNANO collections are not drawn)"
        if any(h.startswith("Scouting") for h in has)
        else ""
    )
    return (
        f"nothing to draw in {source}: it has none of the collections this style draws "
        f"(Muon, Electron, Photon, Jet, MET, ...); it has {shown or 'no collections'}{scouting}; "
        "see 'ispyrender inspect'"
    )


def branch_plan(style: Style, available: Collection[str]) -> BranchPlan:
    """The branches to read for ``style`` from a dataset with ``available`` branches, and one
    warning line for each shown collection that is missing something it needs.

    Warnings are about what the user asked for: a collection that the file lacks entirely, or
    one drawn less precisely than it could be (no impact parameter, no mass, ...), is named
    only when the user's style file or ``--set`` names it (``style.requested_collections``).
    Defaults stay silent: every file lacks some collection a preset shows, and ``inspect``
    lists what a file has. A collection the file has but without pt, eta or phi is always
    named: the file, not the style, is odd."""
    cols = style.collections
    requested = style.requested_collections
    branches: set[str] = set()
    warnings: list[str] = []
    drawable: set[str] = set()

    def want(*names: str) -> None:
        branches.update(n for n in names if n in available)

    def shown(key: str) -> bool:
        return bool(getattr(cols, key).show)

    def not_drawn(keys: tuple[str, ...], problem: str) -> None:
        """Warn that ``keys`` are not drawn, unless the whole collection is absent and the user
        asked for none of them."""
        if problem.endswith("missing in this file") and not requested.intersection(keys):
            return
        nouns = " and ".join(NOUNS[k] for k in keys)
        warnings.append(f"{problem}: {nouns} not drawn")

    pv = ("PV_x", "PV_y", "PV_z")
    anything = any(shown(key) for key in _DRAWABLE)
    if anything:
        want(*pv)
        if not all(name in available for name in pv):
            absent = ", ".join(n for n in pv if n not in available)
            tail = "; the primary vertex is not drawn" if shown("vertices") else ""
            warnings.append(f"{absent} missing: objects start at the detector centre{tail}")

    for key, (branch, _) in TRACK_COLLECTIONS.items():
        if not shown(key):
            continue
        need = (*_KINEMATICS, "pdgId") if key == "genparts" else _KINEMATICS
        problem = _missing_required(branch, need, available)
        if problem:
            not_drawn((key,), problem)
            continue
        drawable.add(key)
        want(*(f"{branch}_{f}" for f in (*_KINEMATICS, "charge", "pdgId", "dxy", "d0", "dz")))
        notes = []
        if key == "genparts":
            want("GenPart_status", "GenVtx_x", "GenVtx_y", "GenVtx_z")
            if "GenPart_status" not in available:
                notes.append("GenPart_status missing: all stored charged particles drawn")
        else:
            if f"{branch}_charge" not in available and f"{branch}_pdgId" not in available:
                notes.append(
                    f"{branch}_charge and {branch}_pdgId missing: {NOUNS[key]} drawn "
                    "as straight lines (their bending is unknown)"
                )
            note = _impact_note(key, branch, available)
            if note:
                notes.append(note)
        if notes and key in requested:
            warnings.append("; ".join(notes))

    for key, (branch, _) in (*JET_RADII.items(), ("photons", ("Photon", 0.0))):
        if not shown(key):
            continue
        problem = _missing_required(branch, _KINEMATICS, available)
        if problem:
            not_drawn((key,), problem)
            continue
        drawable.add(key)
        want(*(f"{branch}_{f}" for f in (*_KINEMATICS, "mass")))
        if key != "photons" and f"{branch}_mass" not in available and key in requested:
            # Photons are massless; for jets the mass adds to the energy that sets the length.
            warnings.append(f"{branch}_mass missing: {NOUNS[key]} drawn as massless")

    if "photons" in drawable and shown("electrons"):
        # Photons that are electrons are drawn as electrons only: the links where they exist.
        want("Photon_electronIdx", "Electron_photonIdx")

    if style.cleaning.enabled and shown("jets"):
        # Jets are cleaned by NanoAOD's links where the file has them, else by Delta R.
        want(*_JET_LINK_BRANCHES)

    towers = tuple(key for key in TOWER_KINDS if shown(key))
    if towers:
        problem = _missing_required("PFCands", (*_KINEMATICS, "pdgId"), available)
        if problem:
            # Towers are made from the PF candidates, whose own problems the pfcands line
            # names: a missing pdgId alone (no towers, tracks fine) is news only to who asked.
            asked = tuple(key for key in towers if key in requested)
            if asked:
                warnings.append(f"{problem}: {' and '.join(NOUNS[k] for k in asked)} not drawn")
        else:
            drawable.update(towers)
            want(*(f"PFCands_{f}" for f in (*_KINEMATICS, "pdgId", "charge", "d0", "dxy", "dz")))

    if shown("met"):
        source = cols.met.source
        names = (f"{source}_pt", f"{source}_phi")
        if all(n in available for n in names):
            drawable.add("met")
            want(*names)
        elif "met" in requested:
            others = [s for s in _met_sources(available) if s != source]
            hint = f" (this file has {', '.join(others)})" if others else ""
            absent = " and ".join(n for n in names if n not in available)
            warnings.append(f"{absent} missing: MET not drawn{hint}")

    if shown("vertices") and all(n in available for n in pv):
        drawable.add("vertices")
    if shown("secondary_vertices"):
        problem = _missing_required("SV", ("x", "y", "z"), available)
        if problem:
            not_drawn(("secondary_vertices",), problem)
        else:
            drawable.add("secondary_vertices")
            want("SV_x", "SV_y", "SV_z", "SV_pt")
    ids: dict[str, IdRule] = {}
    for key in RULES:
        name = chosen_id(key, getattr(cols, key).id)
        if key not in drawable or name == "none":
            continue
        rule = id_rule(key, name, available)
        if rule is None:
            # Said whatever the style: a picture for a paper should not lose its ID silently.
            tried = " and ".join(r.branch for r in RULES[key][name])
            warnings.append(f"{tried} missing: {NOUNS[key]} drawn without the {name} ID")
            continue
        ids[key] = rule
        want(rule.branch)
    return BranchPlan(branches=branches, warnings=warnings, drawable=frozenset(drawable), ids=ids)


# ---- building an event ---------------------------------------------------------------------


class _Values:
    """Typed access to one event's branch values (numpy 1D arrays or scalars)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def array(self, name: str | None) -> np.ndarray | None:
        if name is None or name not in self.values:
            return None
        return np.asarray(self.values[name], dtype=float).reshape(-1)

    def ints(self, name: str) -> np.ndarray | None:
        if name not in self.values:
            return None
        # A float branch of damaged data may hold NaN or huge values: they become some int,
        # which the checks downstream treat as any other bad id, without numpy's warning.
        with np.errstate(invalid="ignore"):
            return np.asarray(self.values[name]).astype(np.int64, copy=False).reshape(-1)

    def has(self, name: str) -> bool:
        return name in self.values

    def size(self, name: str) -> int:
        """The number of values of a branch (0 when absent)."""
        return 0 if name not in self.values else int(np.size(self.values[name]))


def _select(
    pt: np.ndarray, keep: np.ndarray, style: CollectionStyle, *, limit: bool = True
) -> np.ndarray:
    """Indices of the kept objects passing min_pt, highest pT first, at most max_count (unless
    ``limit`` is False: cleaning comes first, so that max_count counts drawn objects)."""
    idx = np.flatnonzero(keep & (pt >= style.min_pt))
    idx = idx[np.argsort(-pt[idx], kind="stable")]
    if limit and style.max_count is not None:
        idx = idx[: style.max_count]
    return idx


def _finite(*arrays: np.ndarray | None) -> np.ndarray:
    present = [a for a in arrays if a is not None]
    return np.logical_and.reduce([np.isfinite(a) for a in present])


#: Beyond these a value is impossible, not rare: a damaged or hand-made entry, left out like a
#: NaN (one such object would set the energy scale of the whole picture, or make a mass of
#: 1e22 GeV). No object carries more than a beam's energy; the detector reaches |eta| 5.2 (HF),
#: and NanoAOD's phi lies in [-pi, pi].
MAX_ENERGY = 7000.0  # GeV
MAX_ETA = 6.0
MAX_PHI = np.pi + 1e-3


def _plausible(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    mass: np.ndarray | None = None,
    *,
    any_eta: bool = False,
) -> np.ndarray:
    """True where an object's kinematics are finite and possible (``any_eta``: generator
    particles, which may fly down the beam pipe)."""
    with np.errstate(invalid="ignore"):
        ok = _finite(pt, eta, phi, mass) & (pt < MAX_ENERGY) & (np.abs(phi) <= MAX_PHI)
        if not any_eta:
            ok &= np.abs(eta) <= MAX_ETA
        if mass is not None:
            ok &= (mass > -1.0) & (mass < MAX_ENERGY)
    return np.asarray(ok)


def _lengths_differ(branch: str, values: _Values, fields: tuple[str, ...]) -> str:
    """ "Muon_eta has 2 values where Muon_pt has 3": how a collection's branches disagree in
    length (a damaged or hand-made file)."""
    sizes = {f: values.size(f"{branch}_{f}") for f in fields if values.has(f"{branch}_{f}")}
    n = sizes.get("pt", 0)
    odd = next((f for f, size in sizes.items() if size != n), "pt")
    return f"{branch}_{odd} has {sizes.get(odd, 0)} values where {branch}_pt has {n}"


def _same_length(n: int, *arrays: np.ndarray | None) -> bool:
    return all(a is None or a.size == n for a in arrays)


def _primary_vertex(values: _Values) -> np.ndarray | None:
    """The primary vertex in metres, or None when absent or not finite."""
    xyz = [values.array(f"PV_{c}") for c in "xyz"]
    if any(a is None or a.size != 1 for a in xyz):
        return None
    pv = np.array([float(a[0]) for a in xyz if a is not None]) * CM
    # A collision happens inside the beam pipe (rho < 2.2 cm) and within a metre of the centre.
    with np.errstate(invalid="ignore"):
        inside = np.hypot(pv[0], pv[1]) < 0.05 and abs(pv[2]) < 1.0
    return pv if np.all(np.isfinite(pv)) and inside else None


def _closest_approach(
    pv: np.ndarray,
    phi: np.ndarray,
    dxy: np.ndarray | None,
    dz: np.ndarray | None,
    *,
    pf_candidates: bool = False,
) -> np.ndarray:
    """(N, 3) metres: each track's point of closest approach, PV + dxy (-sin phi, cos phi) in
    x-y and PV_z + dz in z (cm in the file); at the PV where the impact parameters are absent."""
    n = phi.size
    origin = np.repeat(pv[None, :], n, axis=0)
    d_xy = dxy * CM if dxy is not None else np.zeros(n)
    d_z = dz * CM if dz is not None else np.zeros(n)
    if pf_candidates and dxy is not None and dz is not None:
        # PFNano writes dxy = dz = -1 for candidates without track details: no shift.
        none = (dxy == -1) & (dz == -1)
        d_xy = np.where(none, 0.0, d_xy)
        d_z = np.where(none, 0.0, d_z)
    origin[:, 0] += -d_xy * np.sin(phi)
    origin[:, 1] += d_xy * np.cos(phi)
    origin[:, 2] += d_z
    return origin


def _charges(
    key: str, branch: str, values: _Values, pdg: np.ndarray | None, n: int
) -> tuple[np.ndarray | None, bool]:
    """Each object's charge and whether it is known (from the charge branch, else the pdgId)."""
    if values.has(f"{branch}_charge") and key != "genparts":
        return values.array(f"{branch}_charge"), True
    if pdg is not None:
        # Older IsoTrack (and all GenPart) have no charge branch: the pdgId says it.
        return charge_from_pdgid(pdg), True
    return np.zeros(n), False  # warned in branch_plan: straight lines


def _count(counts: dict[str, int], key: str, which: np.ndarray) -> None:
    """Add the number of True entries of ``which`` (objects left out) to ``counts[key]``."""
    if n := int(np.count_nonzero(which)):
        counts[key] = counts.get(key, 0) + n


def _passing(
    key: str, rule: IdRule | None, values: _Values, candidates: np.ndarray, event: PhysicsEvent
) -> np.ndarray:
    """Which objects pass the collection's ID; the ``candidates`` (one per object: those the
    picture would otherwise draw) that fail are counted in ``event.failed_id``."""
    n = candidates.size
    flags = None if rule is None else values.ints(rule.branch)
    if rule is None or flags is None or flags.size != n:
        return np.ones(n, dtype=bool)
    ok = passes(rule, flags)
    _count(event.failed_id, key, candidates & ~ok)
    return ok


def _tracks(
    key: str,
    values: _Values,
    style: CollectionStyle,
    pv: np.ndarray,
    event: PhysicsEvent,
    rule: IdRule | None = None,
) -> tuple[Tracks, np.ndarray] | None:
    """The drawn tracks of a collection and their positions in the file's collection; what is
    left out and why is counted in ``event``."""
    branch, stop = TRACK_COLLECTIONS[key]
    pt, eta, phi = (values.array(f"{branch}_{f}") for f in _KINEMATICS)
    if pt is None or eta is None or phi is None:
        return None
    n = pt.size
    pdg = values.ints(f"{branch}_pdgId")
    charge, charge_known = _charges(key, branch, values, pdg, n)
    dxy = values.array(_first(values.values, branch, ("dxy", "d0")))
    dz = values.array(f"{branch}_dz")
    if not _same_length(n, eta, phi, charge, dxy, dz, pdg):
        # A malformed event: nothing sensible to draw of this collection (said per job).
        fields = ("pt", "eta", "phi", "charge", "dxy", "d0", "dz", "pdgId")
        event.mismatched[key] = _lengths_differ(branch, values, fields)
        return None
    assert charge is not None
    finite = _finite(charge, dxy, dz) & _plausible(pt, eta, phi, any_eta=key == "genparts")
    _count(event.skipped_nan, key, ~finite)
    keep = finite & (pt > 0)
    if charge_known:
        # Neutral PF candidates and generator particles leave no track; an IsoTrack whose
        # pdgId gives no charge (pdgId 0: not a PF candidate) cannot be bent honestly.
        keep &= charge != 0
    if key == "genparts":
        status = values.ints("GenPart_status")
        if status is not None and status.size == n:
            keep &= status == 1  # final-state particles only
    keep &= _passing(key, rule, values, keep & (pt >= style.min_pt), event)
    idx = _select(pt, keep, style)
    pt, eta, phi, charge = pt[idx], eta[idx], phi[idx], charge[idx]

    if key == "genparts":
        origin = np.repeat(pv[None, :], idx.size, axis=0)
        gen = [values.array(f"GenVtx_{c}") for c in "xyz"]
        if all(a is not None and a.size == 1 and np.isfinite(a[0]) for a in gen):
            # The generated collision point; NanoAOD stores no production vertex per particle,
            # so decay products of long-lived particles are drawn from here too.
            origin[:] = np.array([float(a[0]) for a in gen if a is not None]) * CM
    else:
        origin = _closest_approach(
            pv,
            phi,
            None if dxy is None else dxy[idx],
            None if dz is None else dz[idx],
            pf_candidates=key == "pfcands",
        )
    stops = np.full(idx.size, stop, dtype="<U4")
    if key == "genparts" and pdg is not None:
        stops[np.abs(pdg[idx]) == 13] = "muon"
    return Tracks(key, branch, pt, eta, phi, charge, origin, stops), idx


def _energy(pt: np.ndarray, eta: np.ndarray, mass: np.ndarray | None) -> np.ndarray:
    p = pt * np.cosh(eta)  # |p| = pT cosh(eta)
    if mass is None:
        return p
    return np.sqrt(p * p + mass * mass)


@dataclass(frozen=True)
class _Objects:
    """Selected objects of a jet-like or photon collection, highest pT first."""

    index: np.ndarray  # positions in the file's collection
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    energy: np.ndarray

    def subset(self, which: np.ndarray | slice) -> _Objects:
        return _Objects(*(a[which] for a in (self.index, self.pt, self.eta, self.phi, self.energy)))

    def first(self, count: int | None) -> _Objects:
        """The ``count`` leading objects (all when None): the style's max_count, applied after
        cleaning so that it counts what is drawn."""
        return self if count is None else self.subset(slice(0, count))

    def kinematics(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.pt, self.eta, self.phi, self.energy


def _objects(
    key: str,
    branch: str,
    values: _Values,
    style: CollectionStyle,
    event: PhysicsEvent,
    *,
    limit: bool = True,
    rule: IdRule | None = None,
) -> _Objects | None:
    pt, eta, phi = (values.array(f"{branch}_{f}") for f in _KINEMATICS)
    mass = values.array(f"{branch}_mass")
    if pt is None or eta is None or phi is None:
        return None
    if not _same_length(pt.size, eta, phi, mass):
        event.mismatched[key] = _lengths_differ(branch, values, (*_KINEMATICS, "mass"))
        return None
    finite = _plausible(pt, eta, phi, mass)
    _count(event.skipped_nan, key, ~finite)
    keep = finite & (pt > 0)
    keep &= _passing(key, rule, values, keep & (pt >= style.min_pt), event)
    idx = _select(pt, keep, style, limit=limit)
    energy = _energy(pt[idx], eta[idx], None if mass is None else mass[idx])
    return _Objects(idx, pt[idx], eta[idx], phi[idx], energy)


def _jet_links(values: _Values, key: str, n_jets: int, n_other: int | None) -> Links | None:
    """NanoAOD's links between the Jet collection and the drawn collection ``key``, where the
    file has them and their lengths fit the collections (else None: Delta R is used)."""
    if key not in _JET_LINKS:
        return None
    forward_names, backward_name = _JET_LINKS[key]
    forward = tuple(
        a for name in forward_names if (a := values.ints(name)) is not None and a.size == n_jets
    )
    backward = values.ints(backward_name) if backward_name else None
    if backward is not None and (n_other is None or backward.size != n_other):
        backward = None
    links = Links(forward, backward)
    return links if links else None


def _egamma_links(values: _Values, photons: _Objects, n_electrons: int) -> Links | None:
    """NanoAOD's links between photons and electrons of one deposit, where the file has them
    and their lengths fit the collections."""
    forward = values.ints("Photon_electronIdx")
    backward = values.ints("Electron_photonIdx")
    links = Links(
        (forward,) if forward is not None and forward.size == values.size("Photon_pt") else (),
        backward if backward is not None and backward.size == n_electrons else None,
    )
    return links if links else None


def _cleaned(
    key: str,
    candidates: _Objects,
    drawn: dict[str, Drawn],
    sizes: dict[str, int],
    values: _Values,
    style: Style,
) -> tuple[_Objects, dict[str, int]]:
    """The candidates of a jet-like collection that are not the same object as drawn leptons
    or photons (see :mod:`ispyrender.physics.cleaning`), and how many were left out by which."""
    settings = style.cleaning
    names = BY_KEY[key].clean_against
    if not settings.enabled or not names:
        return candidates, {}
    # NanoAOD links jets (only) to leptons and photons; the others go by Delta R.
    n_jets = values.size("Jet_pt")
    against = [
        (d, _jet_links(values, d.key, n_jets, sizes.get(d.key)) if key == "jets" else None)
        for name in names
        if (d := drawn.get(name)) is not None
    ]
    radius = settings.fatjet_delta_r if key == "fatjets" else settings.delta_r
    result = clean(
        candidates.pt, candidates.eta, candidates.phi, against, radius, index=candidates.index
    )
    return candidates.subset(result.keep), result.removed


def _towers(values: _Values, style: Style, plan: BranchPlan, pv: np.ndarray) -> list[CaloTowers]:
    """Towers of the shown kinds summed from the PF candidates (see
    :mod:`ispyrender.physics.towers`)."""
    styles: dict[str, TowerStyle] = {
        key: getattr(style.collections, key) for key in TOWER_KINDS if key in plan.drawable
    }
    pt, eta, phi = (values.array(f"PFCands_{f}") for f in _KINEMATICS)
    pdg = values.ints("PFCands_pdgId")
    if not styles or pt is None or eta is None or phi is None or pdg is None:
        return []
    charge, _ = _charges("pfcands", "PFCands", values, pdg, pt.size)
    dxy = values.array(_first(values.values, "PFCands", ("dxy", "d0")))
    dz = values.array("PFCands_dz")
    if not _same_length(pt.size, eta, phi, pdg, charge, dxy, dz):
        return []
    assert charge is not None
    origin = _closest_approach(pv, phi, dxy, dz, pf_candidates=True)
    # Candidates with NaN anywhere are not summed (bin_cells and pf_towers skip them).
    bad = ~(_finite(charge, dxy, dz) & _plausible(pt, eta, phi))
    pt = np.where(bad, np.nan, pt)
    origin[bad] = np.nan
    return pf_towers(pt, eta, phi, pdg, charge, origin, styles)


def build_event(record: EventRecord, style: Style, plan: BranchPlan) -> PhysicsEvent:
    """The physics objects of one event, filtered and converted as the style asks.

    Leptons and photons are selected first; jets, taus and fat jets that are the same object as
    one of them are then left out (``style.cleaning``; how many, in ``PhysicsEvent.removed``)
    before their max_count is applied, so that max_count counts what is drawn."""
    values = _Values(record.values)
    cols = style.collections
    event = PhysicsEvent.named_as(record)
    skipped, counts = event.skipped_nan, event.counts
    pv = _primary_vertex(values)
    if pv is None and all(values.has(f"PV_{c}") for c in "xyz"):
        skipped["vertices"] = skipped.get("vertices", 0) + 1  # present but NaN
    origin = pv if pv is not None else np.zeros(3)

    # What jets may duplicate: the drawn leptons and photons, with their positions in the
    # file's collections (NanoAOD's links count in those) and those collections' sizes.
    drawn: dict[str, Drawn] = {}
    sizes: dict[str, int] = {}
    for key in TRACK_COLLECTIONS:
        if key not in plan.drawable:
            continue
        if BY_KEY[key].simulated and not record.is_simulation:
            continue
        built = _tracks(key, values, getattr(cols, key), origin, event, plan.ids.get(key))
        if built is not None:
            tracks, idx = built
            event.tracks.append(tracks)
            counts[key] = len(tracks)
            if key in ("muons", "electrons"):
                drawn[key] = Drawn(key, tracks.pt, tracks.eta, tracks.phi, idx)
                sizes[key] = values.size(f"{TRACK_COLLECTIONS[key][0]}_pt")

    if "photons" in plan.drawable:
        rule = plan.ids.get("photons")
        photons = _objects("photons", "Photon", values, cols.photons, event, limit=False, rule=rule)
        if photons is not None and "electrons" in drawn:
            # An electron's deposit is also reconstructed as a photon: drawn once, as it.
            same = electron_photons(
                Drawn("photons", photons.pt, photons.eta, photons.phi, photons.index),
                drawn["electrons"],
                _egamma_links(values, photons, sizes["electrons"]),
            )
            if same.any():
                event.removed["photons"] = {"electrons": int(np.count_nonzero(same))}
                photons = photons.subset(~same)
        if photons is not None:
            photons = photons.first(cols.photons.max_count)
            event.photons = Photons("photons", "Photon", *photons.kinematics(), origin.copy())
            counts["photons"] = photons.pt.size
            drawn["photons"] = Drawn("photons", photons.pt, photons.eta, photons.phi, photons.index)
            sizes["photons"] = values.size("Photon_pt")

    for key, (branch, default_radius) in JET_RADII.items():
        if key not in plan.drawable or (BY_KEY[key].simulated and not record.is_simulation):
            continue
        jet_style: JetStyle = getattr(cols, key)
        rule = plan.ids.get(key)
        candidates = _objects(key, branch, values, jet_style, event, limit=False, rule=rule)
        if candidates is None:
            continue
        kept, removed = _cleaned(key, candidates, drawn, sizes, values, style)
        if removed:
            event.removed[key] = removed
        kept = kept.first(jet_style.max_count)
        radius = jet_style.cone_radius if jet_style.cone_radius is not None else default_radius
        event.jets.append(Jets(key, branch, *kept.kinematics(), float(radius), origin.copy()))
        counts[key] = kept.pt.size

    if any(key in plan.drawable for key in TOWER_KINDS):
        for towers in _towers(values, style, plan, origin):
            event.towers.append(towers)
            counts[towers.collection] = len(towers)

    if "met" in plan.drawable:
        source = cols.met.source
        pt_a, phi_a = values.array(f"{source}_pt"), values.array(f"{source}_phi")
        if pt_a is not None and phi_a is not None and pt_a.size == 1 and phi_a.size == 1:
            met_pt, met_phi = float(pt_a[0]), float(phi_a[0])
            if not (0.0 <= met_pt < 2.0 * MAX_ENERGY and abs(met_phi) <= MAX_PHI):
                skipped["met"] = skipped.get("met", 0) + 1
            elif met_pt >= cols.met.min_pt and met_pt > 0:
                event.met = Met(source, met_pt, met_phi)
        counts["met"] = int(event.met is not None)

    if "vertices" in plan.drawable:
        positions = pv[None, :] if pv is not None else np.zeros((0, 3))
        event.vertices.append(Vertices("vertices", "PV", positions))
        counts["vertices"] = len(positions)

    if "secondary_vertices" in plan.drawable:
        xyz = [values.array(f"SV_{c}") for c in "xyz"]
        sv_pt = values.array("SV_pt")
        if all(a is not None for a in xyz):
            x, y, z = (a for a in xyz if a is not None)
            if _same_length(x.size, y, z, sv_pt):
                finite = _finite(x, y, z, sv_pt)
                if nan := int(np.count_nonzero(~finite)):
                    skipped["secondary_vertices"] = nan
                # Without SV_pt, min_pt and max_count cannot rank: keep them in file order.
                rank = sv_pt if sv_pt is not None else np.full(x.size, np.inf)
                idx = _select(rank, finite, cols.secondary_vertices)
                positions = np.stack([x[idx], y[idx], z[idx]], axis=1) * CM
                event.vertices.append(Vertices("secondary_vertices", "SV", positions))
                counts["secondary_vertices"] = len(positions)
    return event
