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

from collections import defaultdict

import numpy as np

from ispyrender.config.style import CollectionStyle, HitStyle, Style
from ispyrender.physics.cleaning import Drawn, clean
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
    "ecal_hits": (("EBRecHits", "EERecHits", "ESRecHits"), "EcalRecHits"),
    "hcal_hits": (("HBRecHits", "HERecHits", "HFRecHits", "HORecHits"), "HcalRecHits"),
}


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


def _column(rows: list[dict], key: str, default: float = np.nan) -> np.ndarray:
    return np.array([float(r.get(key, default)) for r in rows], dtype=float)


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
    keep = [int(i) for i in _keep(pt, style) if int(i) in paths]
    if not keep:
        return None
    idx = np.array(keep, dtype=int)
    eta, phi, charge = (_column(rows, k)[idx] for k in ("eta", "phi", "charge"))
    curves = tuple(paths[i] for i in keep)
    # The stored curves start where CMSSW's fit starts, not at the vertex.
    origin = np.array([c[0] for c in curves], dtype=float).reshape(-1, 3)
    stop = np.full(idx.size, "muon" if key == "muons" else "ecal", dtype="<U4")
    return Tracks(key, branch, pt[idx], eta, phi, charge, origin, stop, curves)


def _extras_paths(ev: IgEvent, association: str) -> dict[int, np.ndarray]:
    extras = ev.rows("Extras")
    paths: dict[int, np.ndarray] = {}
    for obj, extra in ev.links(association):
        if extra < len(extras):
            x = extras[extra]
            curve = bezier(
                *(np.asarray(x[k], dtype=float) for k in ("pos_1", "dir_1", "pos_2", "dir_2"))
            )
            if np.all(np.isfinite(curve)):
                paths[obj] = curve
    return paths


def _muon_paths(ev: IgEvent) -> dict[int, np.ndarray]:
    """A line through the points of each global muon (tracker and muon system)."""
    points = ev.rows("Points")
    by_muon: dict[int, list[np.ndarray]] = defaultdict(list)
    for mu, point in ev.links("MuonGlobalPoints"):
        if point < len(points):
            by_muon[mu].append(np.asarray(points[point]["pos"], dtype=float))
    return {mu: np.array(p) for mu, p in sorted(by_muon.items()) if len(p) >= 2}


def _hits(ev: IgEvent, key: str, style: HitStyle) -> CaloHits | None:
    names, group = HIT_COLLECTIONS[key]
    rows = [
        hit
        for name in names
        for hit in ev.rows(name)
        if np.isfinite(float(hit.get("energy", np.nan)))
        and float(hit.get("energy", 0.0)) >= style.min_energy
    ]
    if not rows:
        return None
    front = np.array([[h[f"front_{i}"] for i in range(1, 5)] for h in rows], dtype=float)
    back = np.array([[h[f"back_{i}"] for i in range(1, 5)] for h in rows], dtype=float)
    return CaloHits(
        key,
        group,
        front.reshape(-1, 4, 3),
        back.reshape(-1, 4, 3),
        _column(rows, "energy"),
        _column(rows, "eta"),
        _column(rows, "phi"),
    )


def physics_event(ev: IgEvent, style: Style) -> PhysicsEvent:
    """The physics objects of one iSpy event, filtered as the style asks."""
    cols = style.collections
    vertices = [r for r in ev.rows("Vertices") if r.get("isValid", 1) and not r.get("isFake", 0)]
    pv = np.asarray(vertices[0]["pos"], dtype=float) if vertices else np.zeros(3)
    physics = PhysicsEvent(
        ev.run,
        ev.lumi,
        ev.event,
        ev.index,
        ev.source,
        is_simulation=ev.is_simulation,
        entry=ev.entry,
        time=ev.time,
    )
    counts = physics.counts

    for key, branch, rows, paths in (
        ("muons", "Muon", ev.rows("GlobalMuons"), _muon_paths),
        ("electrons", "Electron", ev.rows("GsfElectrons"), None),
        ("tracks", "Track", ev.rows("Tracks"), None),
    ):
        st: CollectionStyle = getattr(cols, key)
        if not st.show:
            continue
        if paths is None:
            association = "GsfElectronExtras" if key == "electrons" else "TrackExtras"
            curves = _extras_paths(ev, association)
        else:
            curves = paths(ev)
        tracks = _tracks(key, branch, rows, curves, st)
        if tracks is not None:
            physics.tracks.append(tracks)
            counts[key] = len(tracks)

    photons = ev.rows("Photons")
    if photons:
        et = _column(photons, "et")
        keep = _keep(et, cols.photons)
        if keep.size:
            physics.photons = Photons(
                "photons",
                "Photon",
                et[keep],
                _column(photons, "eta")[keep],
                _column(photons, "phi")[keep],
                _column(photons, "energy")[keep],
                pv,
            )
            counts["photons"] = int(keep.size)

    jets = ev.rows("PFJets")
    if jets:
        et = _column(jets, "et")
        eta = _column(jets, "eta")
        phi = _column(jets, "phi")
        keep = _keep(et, cols.jets, limit=False)
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
                    et[keep] * np.cosh(eta[keep]),
                    cols.jets.cone_radius or 0.4,
                    pv,
                )
            )
            counts["jets"] = int(keep.size)

    mets = ev.rows("PFMETs")
    if mets and cols.met.show and float(mets[0]["pt"]) >= cols.met.min_pt:
        physics.met = Met("PFMET", float(mets[0]["pt"]), float(mets[0]["phi"]))
        counts["met"] = 1

    if vertices and cols.vertices.show:
        positions = np.array([v["pos"] for v in vertices], dtype=float)
        physics.vertices.append(Vertices("vertices", "PV", positions))
        counts["vertices"] = len(positions)

    for key in HIT_COLLECTIONS:
        hit_style: HitStyle = getattr(cols, key)
        if hit_style.show and (hits := _hits(ev, key, hit_style)) is not None:
            physics.hits.append(hits)
            counts[key] = len(hits)

    if cols.muon_chambers.show:
        chambers = [
            [c[f"front_{i}"] for i in range(1, 5)] + [c[f"back_{i}"] for i in range(1, 5)]
            for c in ev.rows("MuonChambers")
        ]
        if chambers:
            physics.chambers = MuonChambers(np.array(chambers, dtype=float).reshape(-1, 8, 3))
            counts["muon_chambers"] = len(chambers)
    return physics
