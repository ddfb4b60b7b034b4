"""iSpy events -> physics objects, with the geometry the file stores.

Jets, photons, missing momentum and vertices become the same objects as NanoAOD's. Charged
particles keep their kinematics (for masses, tables and the lego) and carry the curve iSpy
draws instead of a propagated helix:
- tracks and electrons: cubic Bezier curves through their inner and outer states ("extras":
  position and direction at both ends), as iSpy draws them;
- global muons: lines through their tracker and muon-system points.
Calorimeter rec hits and muon chambers with hits are kept as the cells the file stores.
Jets that are the same object as a drawn muon, electron or photon are left out
(``style.cleaning``, by Delta R: iSpy files store no links between them).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np

from ispyrender.config.collections import of_kind
from ispyrender.config.style import CollectionStyle, HitStyle, Style
from ispyrender.errors import InputError
from ispyrender.physics.cleaning import Drawn, clean, electron_photons
from ispyrender.physics.cms_dimensions import in_muon_barrel
from ispyrender.physics.objects import (
    CaloHits,
    Jets,
    Met,
    MuonChambers,
    Photons,
    PhysicsEvent,
    Tracks,
    Vertices,
)
from ispyrender.sources.ispy import IgEvent

__all__ = ["BEZIER_POINTS", "bezier", "physics_event"]

BEZIER_POINTS = 32

#: Style key -> (iSpy collections, scene group) of the calorimeter rec hits.
HIT_COLLECTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    c.key: (c.ispy, c.group or c.key) for c in of_kind("hits")
}


#: The rec hits of the barrel parts; the others are of the endcaps (EE, ES, HE) or HF.
_BARREL_HITS = frozenset({"EBRecHits", "HBRecHits", "HORecHits"})


def _keep(pt: np.ndarray, style: CollectionStyle, *, limit: bool = True) -> np.ndarray:
    """Indices passing show/min_pt/max_count, highest pT first (max_count only if ``limit``:
    jets are cleaned first, so that max_count counts drawn jets)."""
    if not style.show or pt.size == 0:
        return np.zeros(0, dtype=int)
    order = np.argsort(-pt, kind="stable")
    order = order[np.isfinite(pt[order]) & (pt[order] >= style.min_pt)]
    if limit and style.max_count is not None:
        return order[: style.max_count]
    return order


def bezier(p0: np.ndarray, d0: np.ndarray, p3: np.ndarray, d3: np.ndarray) -> np.ndarray:
    """Cubic Bezier from p0 (leaving along d0) to p3 (arriving along d3), control points a
    quarter of the chord along each direction, as iSpy draws track extras."""
    chord = float(np.linalg.norm(p3 - p0))
    n0 = d0 / (np.linalg.norm(d0) or 1.0)
    n3 = d3 / (np.linalg.norm(d3) or 1.0)
    p1 = p0 + n0 * chord * 0.25
    p2 = p3 - n3 * chord * 0.25
    t = np.linspace(0.0, 1.0, BEZIER_POINTS)[:, None]
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3


@contextlib.contextmanager
def _reading(ev: IgEvent, collection: str) -> Iterator[None]:
    """Values of the wrong type or shape, or missing columns, in one collection of one event:
    a damaged file or not iSpy's, said in one line (the batch records it as a failed event)."""
    try:
        yield
    except KeyError as exc:
        problem = f"it has no {exc.args[0]!r} column" if exc.args else "a column is missing"
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        problem = " ".join(str(exc).split())[:120] or type(exc).__name__
    else:
        return
    raise InputError(
        f"iSpy event {ev.run}:{ev.event} in {ev.source!r}: {collection} cannot be drawn "
        f"({problem}); the file is damaged or not written by iSpy: download or copy it again"
    ) from None


def _column(rows: list[dict], key: str, default: float = np.nan) -> np.ndarray:
    return np.array([float(r.get(key, default)) for r in rows], dtype=float)


def _points(values: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Coordinates as floats of exactly ``shape`` (e.g. a 3-vector, or N cells of 4 corners):
    a ValueError otherwise, where numpy would broadcast or reshape a damaged value silently."""
    array = np.asarray(values, dtype=float)
    if array.size == 0 and shape[0] == 0:
        return array.reshape(shape)
    if array.shape != shape:
        raise ValueError(f"coordinates of shape {array.shape}, not {shape}")
    return array


def _tracks(
    key: str,
    branch: str,
    rows: list[dict],
    paths: dict[int, np.ndarray],
    style: CollectionStyle,
) -> Tracks | None:
    """The kept objects that have a stored curve, with their kinematics."""
    if not rows:
        return None
    pt = _column(rows, "pt", 0.0)
    eta_all, phi_all = _column(rows, "eta"), _column(rows, "phi")
    keep = [
        int(i)
        for i in _keep(pt, style)
        if int(i) in paths and np.isfinite(eta_all[i]) and np.isfinite(phi_all[i])
    ]
    if not keep:
        return None
    idx = np.array(keep, dtype=int)
    eta, phi, charge = eta_all[idx], phi_all[idx], _column(rows, "charge")[idx]
    curves = tuple(paths[i] for i in keep)
    # The stored curves start where CMSSW's fit starts, not at the vertex.
    origin = np.array([c[0] for c in curves], dtype=float).reshape(-1, 3)
    stop = np.full(idx.size, "muon" if key == "muons" else "ecal", dtype="<U4")
    return Tracks(key, branch, pt[idx], eta, phi, charge, origin, stop, curves)


def _extras_paths(ev: IgEvent, association: str) -> dict[int, np.ndarray]:
    extras = ev.rows("Extras")
    paths: dict[int, np.ndarray] = {}
    for obj, extra in ev.links(association):
        if 0 <= extra < len(extras):
            x = extras[extra]
            ends = (_points(x[k], (3,)) for k in ("pos_1", "dir_1", "pos_2", "dir_2"))
            with np.errstate(all="ignore"):  # absurd values: dropped below, not warned about
                curve = bezier(*ends)
            if np.all(np.isfinite(curve)):
                paths[obj] = curve
    return paths


def _muon_paths(ev: IgEvent) -> dict[int, np.ndarray]:
    """A line through the points of each global muon (tracker and muon system)."""
    points = ev.rows("Points")
    by_muon: dict[int, list[np.ndarray]] = defaultdict(list)
    for mu, point in ev.links("MuonGlobalPoints"):
        if 0 <= point < len(points):
            by_muon[mu].append(_points(points[point]["pos"], (3,)))
    return {
        mu: np.array(p)
        for mu, p in sorted(by_muon.items())
        if len(p) >= 2 and np.all(np.isfinite(p))
    }


def _hits(ev: IgEvent, key: str, style: HitStyle) -> CaloHits | None:
    names, group = HIT_COLLECTIONS[key]
    found = [
        (hit, name in _BARREL_HITS)
        for name in names
        for hit in ev.rows(name)
        if np.isfinite(float(hit.get("energy", np.nan)))
        and float(hit.get("energy", 0.0)) >= style.min_energy
    ]
    if not found:
        return None
    rows = [hit for hit, _ in found]
    barrel = np.array([in_barrel for _, in_barrel in found], dtype=bool)
    shape = (len(rows), 4, 3)
    front = _points([[h[f"front_{i}"] for i in range(1, 5)] for h in rows], shape)
    back = _points([[h[f"back_{i}"] for i in range(1, 5)] for h in rows], shape)
    energy, eta, phi = (_column(rows, k) for k in ("energy", "eta", "phi"))
    ok = _finite(front).all(axis=(1, 2)) & _finite(back).all(axis=(1, 2)) & _finite(eta, phi)
    if not ok.any():
        return None
    kept = (front[ok], back[ok], energy[ok], eta[ok], phi[ok])
    return CaloHits(key, group, *kept, barrel=barrel[ok])


def physics_event(ev: IgEvent, style: Style) -> PhysicsEvent:
    """The physics objects of one iSpy event, filtered as the style asks. Objects with values
    that are not finite are left out; values of the wrong type or shape, or missing columns,
    are an InputError naming the collection."""
    # Absurd values (eta of 1e3 in a cosh) would warn on the terminal: they are dropped as
    # not finite instead.
    with np.errstate(all="ignore"):
        return _physics_event(ev, style)


def _finite(*arrays: np.ndarray) -> np.ndarray:
    return np.logical_and.reduce([np.isfinite(a) for a in arrays])


#: Collections that iSpy files written by CMSSW from 2016 on keep under a newer name, with the
#: same columns (ISpyVertex: isValid, isFake, pos, ...; the chambers' eight corners).
NEWER_NAMES: dict[str, tuple[str, ...]] = {
    "Vertices": ("PrimaryVertices",),
    "MuonChambers": ("MatchingCSCs",),
}


def _rows(ev: IgEvent, name: str) -> tuple[str, list[dict[str, Any]]]:
    """The rows of ``name``, or of its newer name where the file has that instead."""
    for candidate in (name, *NEWER_NAMES.get(name, ())):
        rows = ev.rows(candidate)
        if rows:
            return candidate, rows
    return name, []


def _physics_event(ev: IgEvent, style: Style) -> PhysicsEvent:
    cols = style.collections
    vertex_name, vertex_rows = _rows(ev, "Vertices")
    with _reading(ev, vertex_name):
        vertices = [r for r in vertex_rows if r.get("isValid", 1) and not r.get("isFake", 0)]
        positions = _points([v["pos"] for v in vertices], (len(vertices), 3))
        positions = positions[_finite(positions).all(axis=1)]
    pv = positions[0] if len(positions) else np.zeros(3)
    physics = PhysicsEvent.named_as(ev)
    counts = physics.counts

    for key, branch, name, paths in (
        ("muons", "Muon", "GlobalMuons", _muon_paths),
        ("electrons", "Electron", "GsfElectrons", None),
        ("tracks", "Track", "Tracks", None),
    ):
        st: CollectionStyle = getattr(cols, key)
        if not st.show:
            continue
        # The curves come from another collection: name both, the damage may be in either.
        with _reading(ev, f"{name} (with their {'Points' if paths else 'Extras'})"):
            if paths is None:
                association = "GsfElectronExtras" if key == "electrons" else "TrackExtras"
                curves = _extras_paths(ev, association)
            else:
                curves = paths(ev)
            tracks = _tracks(key, branch, ev.rows(name), curves, st)
        if tracks is not None:
            physics.tracks.append(tracks)
            counts[key] = len(tracks)

    photons = ev.rows("Photons")
    if photons:
        with _reading(ev, "Photons"):
            et = _column(photons, "et")
            eta, phi, energy = (_column(photons, k) for k in ("eta", "phi", "energy"))
            keep = _keep(et, cols.photons, limit=False)
            keep = keep[_finite(eta[keep], phi[keep], energy[keep])]
        electrons = next((t for t in physics.tracks if t.collection == "electrons"), None)
        if keep.size and electrons is not None:
            # GsfElectrons and Photons of one ECAL deposit: drawn once, as the electron.
            same = electron_photons(
                Drawn("photons", et[keep], eta[keep], phi[keep]),
                Drawn("electrons", electrons.pt, electrons.eta, electrons.phi),
                None,
            )
            if same.any():
                physics.removed["photons"] = {"electrons": int(np.count_nonzero(same))}
                keep = keep[~same]
        if cols.photons.max_count is not None:
            keep = keep[: cols.photons.max_count]
        if keep.size:
            physics.photons = Photons(
                "photons", "Photon", et[keep], eta[keep], phi[keep], energy[keep], pv
            )
            counts["photons"] = int(keep.size)

    jets = ev.rows("PFJets")
    if jets:
        with _reading(ev, "PFJets"):
            et = _column(jets, "et")
            eta = _column(jets, "eta")
            phi = _column(jets, "phi")
            energy = et * np.cosh(eta)
            keep = _keep(et, cols.jets, limit=False)
            keep = keep[_finite(eta[keep], phi[keep], energy[keep])]
        if keep.size and style.cleaning.enabled:
            drawn = [
                (Drawn(t.collection, t.pt, t.eta, t.phi), None)
                for t in physics.tracks
                if t.collection in ("muons", "electrons")
            ]
            if physics.photons is not None:
                p = physics.photons
                drawn.append((Drawn("photons", p.pt, p.eta, p.phi), None))
            cleaned = clean(et[keep], eta[keep], phi[keep], drawn, style.cleaning.delta_r)
            keep = keep[cleaned.keep]
            if cleaned.removed:
                physics.removed["jets"] = cleaned.removed
        if cols.jets.max_count is not None:
            keep = keep[: cols.jets.max_count]
        if keep.size:
            physics.jets.append(
                Jets(
                    "jets",
                    "PFJet",
                    et[keep],
                    eta[keep],
                    phi[keep],
                    energy[keep],
                    cols.jets.cone_radius or 0.4,
                    pv,
                )
            )
            counts["jets"] = int(keep.size)

    mets = ev.rows("PFMETs")
    if mets and cols.met.show:
        with _reading(ev, "PFMETs"):
            pt, phi_met = float(mets[0]["pt"]), float(mets[0]["phi"])
        if np.isfinite(pt) and np.isfinite(phi_met) and pt >= cols.met.min_pt:
            physics.met = Met("PFMET", pt, phi_met)
            counts["met"] = 1

    if len(positions) and cols.vertices.show:
        physics.vertices.append(Vertices("vertices", "PV", positions))
        counts["vertices"] = len(positions)

    for key in HIT_COLLECTIONS:
        hit_style: HitStyle = getattr(cols, key)
        if not hit_style.show:
            continue
        with _reading(ev, "/".join(HIT_COLLECTIONS[key][0])):
            hits = _hits(ev, key, hit_style)
        if hits is not None:
            physics.hits.append(hits)
            counts[key] = len(hits)

    if cols.muon_chambers.show:
        chamber_name, rows = _rows(ev, "MuonChambers")
        with _reading(ev, chamber_name):
            corners = [
                [c[f"front_{i}"] for i in range(1, 5)] + [c[f"back_{i}"] for i in range(1, 5)]
                for c in rows
            ]
            chambers = _points(corners, (len(rows), 8, 3))
            chambers = chambers[_finite(chambers).all(axis=(1, 2))]
        if len(chambers):
            physics.chambers = MuonChambers(chambers, in_muon_barrel(chambers.mean(axis=1)))
            counts["muon_chambers"] = len(chambers)
    return physics
