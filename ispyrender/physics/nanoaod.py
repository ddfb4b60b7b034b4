"""NanoAOD events -> physics objects (:mod:`ispyrender.physics.objects`).

:func:`branch_plan` looks at the branches a dataset has and the style, once per job: which
branches to read, and one warning line per shown collection that cannot be drawn as asked
(a missing ``pt``/``eta``/``phi``, or a missing impact parameter that moves where tracks start).
:func:`build_event` then turns each :class:`~ispyrender.sources.nanoaod.EventRecord` into a
:class:`PhysicsEvent`: vectorised arrays per collection, already filtered by the style's
``show``, ``min_pt`` and ``max_count``, with objects that carry NaN in any used field skipped and
counted (the caller reports the totals once).

Units and conventions: NanoAOD vertex positions (PV, SV, GenVtx) and impact parameters (dxy,
dz) are in cm and are converted to metres here. A track's origin is its point of closest
approach to the primary vertex, from the CMS sign convention dxy = (-vx py + vy px) / pT
(v = point of closest approach - PV), i.e. PV + dxy * (-sin phi, cos phi) in x-y and PV_z + dz
in z.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ispyrender.config.style import CollectionStyle, JetStyle, Style
from ispyrender.physics.objects import (
    DEFAULT_LABELS,
    NOUNS,
    Jets,
    Met,
    Photons,
    PhysicsEvent,
    Tracks,
    Vertices,
)

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
    "muons": ("Muon", "muon"),
    "electrons": ("Electron", "ecal"),
    "isotracks": ("IsoTrack", "ecal"),
    "pfcands": ("PFCands", "ecal"),
    "genparts": ("GenPart", "ecal"),  # generator muons go to the muon system, see _tracks
}

#: Style key -> (NanoAOD collection, the cone radius R used by its clustering).
JET_RADII: dict[str, tuple[str, float]] = {
    "jets": ("Jet", 0.4),  # anti-kT R = 0.4
    "fatjets": ("FatJet", 0.8),  # anti-kT R = 0.8
    "taus": ("Tau", 0.1),  # hadronic taus are narrow: about the signal cone
}

_KINEMATICS = ("pt", "eta", "phi")


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


def branch_plan(style: Style, available: Collection[str]) -> BranchPlan:
    """The branches to read for ``style`` from a dataset with ``available`` branches, and one
    warning line for each shown collection that is missing something it needs."""
    cols = style.collections
    branches: set[str] = set()
    warnings: list[str] = []
    drawable: set[str] = set()

    def want(*names: str) -> None:
        branches.update(n for n in names if n in available)

    def shown(key: str) -> bool:
        return bool(getattr(cols, key).show)

    pv = ("PV_x", "PV_y", "PV_z")
    anything = any(shown(key) for key in DEFAULT_LABELS)
    if anything:
        want(*pv)
        if not all(name in available for name in pv):
            missing = ", ".join(n for n in pv if n not in available)
            tail = "; the primary vertex is not drawn" if shown("vertices") else ""
            warnings.append(f"{missing} missing: objects start at the detector centre{tail}")

    for key, (branch, _) in TRACK_COLLECTIONS.items():
        if not shown(key):
            continue
        need = (*_KINEMATICS, "pdgId") if key == "genparts" else _KINEMATICS
        problem = _missing_required(branch, need, available)
        if problem:
            # Only PFNano files have PF candidates: their absence elsewhere is the norm, not a
            # problem worth a line on every run (a partial PFCands collection still warns).
            if not (key == "pfcands" and problem.endswith("missing in this file")):
                warnings.append(f"{problem}: {NOUNS[key]} not drawn")
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
        if notes:
            warnings.append("; ".join(notes))

    for key, (branch, _) in (*JET_RADII.items(), ("photons", ("Photon", 0.0))):
        if not shown(key):
            continue
        problem = _missing_required(branch, _KINEMATICS, available)
        if problem:
            warnings.append(f"{problem}: {NOUNS[key]} not drawn")
            continue
        drawable.add(key)
        want(*(f"{branch}_{f}" for f in (*_KINEMATICS, "mass")))
        if key != "photons" and f"{branch}_mass" not in available:
            # Photons are massless; for jets the mass adds to the energy that sets the length.
            warnings.append(f"{branch}_mass missing: {NOUNS[key]} drawn as massless")

    if shown("met"):
        source = cols.met.source
        names = (f"{source}_pt", f"{source}_phi")
        if all(n in available for n in names):
            drawable.add("met")
            want(*names)
        else:
            others = [s for s in _met_sources(available) if s != source]
            hint = f" (this file has {', '.join(others)})" if others else ""
            missing = " and ".join(n for n in names if n not in available)
            warnings.append(f"{missing} missing: MET not drawn{hint}")

    if shown("vertices") and all(n in available for n in pv):
        drawable.add("vertices")
    if shown("secondary_vertices"):
        problem = _missing_required("SV", ("x", "y", "z"), available)
        if problem:
            warnings.append(f"{problem}: secondary vertices not drawn")
        else:
            drawable.add("secondary_vertices")
            want("SV_x", "SV_y", "SV_z", "SV_pt")
    return BranchPlan(branches=branches, warnings=warnings, drawable=frozenset(drawable))


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
        return np.asarray(self.values[name]).astype(np.int64, copy=False).reshape(-1)

    def has(self, name: str) -> bool:
        return name in self.values


def _select(pt: np.ndarray, keep: np.ndarray, style: CollectionStyle) -> np.ndarray:
    """Indices of the kept objects passing min_pt, highest pT first, at most max_count."""
    idx = np.flatnonzero(keep & (pt >= style.min_pt))
    idx = idx[np.argsort(-pt[idx], kind="stable")]
    if style.max_count is not None:
        idx = idx[: style.max_count]
    return idx


def _finite(*arrays: np.ndarray | None) -> np.ndarray:
    present = [a for a in arrays if a is not None]
    return np.logical_and.reduce([np.isfinite(a) for a in present])


def _same_length(n: int, *arrays: np.ndarray | None) -> bool:
    return all(a is None or a.size == n for a in arrays)


def _primary_vertex(values: _Values) -> np.ndarray | None:
    """The primary vertex in metres, or None when absent or not finite."""
    xyz = [values.array(f"PV_{c}") for c in "xyz"]
    if any(a is None or a.size != 1 for a in xyz):
        return None
    pv = np.array([float(a[0]) for a in xyz if a is not None]) * CM
    return pv if np.all(np.isfinite(pv)) else None


def _tracks(
    key: str, values: _Values, style: CollectionStyle, pv: np.ndarray, skipped: dict[str, int]
) -> Tracks | None:
    branch, stop = TRACK_COLLECTIONS[key]
    pt, eta, phi = (values.array(f"{branch}_{f}") for f in _KINEMATICS)
    if pt is None or eta is None or phi is None:
        return None
    n = pt.size
    pdg = values.ints(f"{branch}_pdgId")
    charge_known = True
    if values.has(f"{branch}_charge") and key != "genparts":
        charge = values.array(f"{branch}_charge")
    elif pdg is not None:
        # Older IsoTrack (and all GenPart) have no charge branch: the pdgId says it.
        charge = charge_from_pdgid(pdg)
    else:
        charge = np.zeros(n)  # warned in branch_plan: straight lines
        charge_known = False
    dxy = values.array(_first(values.values, branch, ("dxy", "d0")))
    dz = values.array(f"{branch}_dz")
    if not _same_length(n, eta, phi, charge, dxy, dz, pdg):
        return None  # a malformed event; nothing sensible to draw
    assert charge is not None
    finite = _finite(pt, eta, phi, charge, dxy, dz)
    if nan := int(np.count_nonzero(~finite)):
        skipped[key] = skipped.get(key, 0) + nan
    keep = finite & (pt > 0)
    if charge_known:
        # Neutral PF candidates and generator particles leave no track; an IsoTrack whose
        # pdgId gives no charge (pdgId 0: not a PF candidate) cannot be bent honestly.
        keep &= charge != 0
    if key == "genparts":
        status = values.ints("GenPart_status")
        if status is not None and status.size == n:
            keep &= status == 1  # final-state particles only
    idx = _select(pt, keep, style)
    pt, eta, phi, charge = pt[idx], eta[idx], phi[idx], charge[idx]

    origin = np.repeat(pv[None, :], idx.size, axis=0)
    if key == "genparts":
        gen = [values.array(f"GenVtx_{c}") for c in "xyz"]
        if all(a is not None and a.size == 1 and np.isfinite(a[0]) for a in gen):
            # The generated collision point; NanoAOD stores no production vertex per particle,
            # so decay products of long-lived particles are drawn from here too.
            origin[:] = np.array([float(a[0]) for a in gen if a is not None]) * CM
    else:
        d_xy = dxy[idx] * CM if dxy is not None else np.zeros(idx.size)
        d_z = dz[idx] * CM if dz is not None else np.zeros(idx.size)
        if key == "pfcands" and dxy is not None and dz is not None:
            # PFNano writes dxy = dz = -1 for candidates without track details: no shift.
            none = (dxy[idx] == -1) & (dz[idx] == -1)
            d_xy[none] = 0.0
            d_z[none] = 0.0
        origin[:, 0] += -d_xy * np.sin(phi)
        origin[:, 1] += d_xy * np.cos(phi)
        origin[:, 2] += d_z
    stops = np.full(idx.size, stop, dtype="<U4")
    if key == "genparts" and pdg is not None:
        stops[np.abs(pdg[idx]) == 13] = "muon"
    return Tracks(key, branch, pt, eta, phi, charge, origin, stops)


def _energy(pt: np.ndarray, eta: np.ndarray, mass: np.ndarray | None) -> np.ndarray:
    p = pt * np.cosh(eta)  # |p| = pT cosh(eta)
    if mass is None:
        return p
    return np.sqrt(p * p + mass * mass)


def _kinematics(
    key: str,
    branch: str,
    values: _Values,
    style: CollectionStyle,
    skipped: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    pt, eta, phi = (values.array(f"{branch}_{f}") for f in _KINEMATICS)
    mass = values.array(f"{branch}_mass")
    if pt is None or eta is None or phi is None or not _same_length(pt.size, eta, phi, mass):
        return None
    finite = _finite(pt, eta, phi, mass)
    if nan := int(np.count_nonzero(~finite)):
        skipped[key] = skipped.get(key, 0) + nan
    idx = _select(pt, finite & (pt > 0), style)
    energy = _energy(pt[idx], eta[idx], None if mass is None else mass[idx])
    return pt[idx], eta[idx], phi[idx], energy


def build_event(record: EventRecord, style: Style, plan: BranchPlan) -> PhysicsEvent:
    """The physics objects of one event, filtered and converted as the style asks."""
    values = _Values(record.values)
    cols = style.collections
    skipped: dict[str, int] = {}
    counts: dict[str, int] = {}
    event = PhysicsEvent(
        run=record.run,
        lumi=record.lumi,
        event=record.event,
        index=record.index,
        source=record.source,
        is_simulation=record.is_simulation,
        entry=record.entry,
        counts=counts,
        skipped_nan=skipped,
    )
    pv = _primary_vertex(values)
    if pv is None and all(values.has(f"PV_{c}") for c in "xyz"):
        skipped["vertices"] = skipped.get("vertices", 0) + 1  # present but NaN
    origin = pv if pv is not None else np.zeros(3)

    for key in TRACK_COLLECTIONS:
        if key not in plan.drawable:
            continue
        if key == "genparts" and not record.is_simulation:
            continue
        tracks = _tracks(key, values, getattr(cols, key), origin, skipped)
        if tracks is not None:
            event.tracks.append(tracks)
            counts[key] = len(tracks)

    for key, (branch, default_radius) in JET_RADII.items():
        if key not in plan.drawable:
            continue
        jet_style: JetStyle = getattr(cols, key)
        kin = _kinematics(key, branch, values, jet_style, skipped)
        if kin is not None:
            radius = jet_style.cone_radius if jet_style.cone_radius is not None else default_radius
            event.jets.append(Jets(key, branch, *kin, float(radius), origin.copy()))
            counts[key] = kin[0].size

    if "photons" in plan.drawable:
        kin = _kinematics("photons", "Photon", values, cols.photons, skipped)
        if kin is not None:
            event.photons = Photons("photons", "Photon", *kin, origin.copy())
            counts["photons"] = kin[0].size

    if "met" in plan.drawable:
        source = cols.met.source
        pt_a, phi_a = values.array(f"{source}_pt"), values.array(f"{source}_phi")
        if pt_a is not None and phi_a is not None and pt_a.size == 1 and phi_a.size == 1:
            met_pt, met_phi = float(pt_a[0]), float(phi_a[0])
            if not (np.isfinite(met_pt) and np.isfinite(met_phi)):
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
