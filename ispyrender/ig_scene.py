"""iSpy events -> scene primitives.

Jets, photons, missing momentum and vertices become the same physics objects as NanoAOD's and
are drawn by :func:`ispyrender.event_scene.build_scene`, so both inputs look alike. What only
iSpy files carry is added here from the geometry they store:
- tracks and electrons as cubic Bezier curves through their inner and outer states ("extras":
  position and direction at both ends), as iSpy draws them;
- global muons as lines through their tracker and muon-system points;
- ECAL and HCAL rec hits as their cells (front face as stored, depth growing with energy);
- muon chambers with hits as their stored boxes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import numpy as np

from ispyrender.event_scene import build_scene
from ispyrender.ig import IgEvent
from ispyrender.objects import Jets, Met, Photons, PhysicsEvent, Vertices
from ispyrender.scene import Appearance, Hexahedra, Polylines, Scene
from ispyrender.style import CollectionStyle, HitStyle, Style, parse_color

BEZIER_POINTS = 32


def _look(style: CollectionStyle) -> Appearance:
    return Appearance(parse_color(style.color), style.opacity, style.line_width)


def _keep(pt: np.ndarray, style: CollectionStyle) -> np.ndarray:
    """Indices passing show/min_pt/max_count, highest pT first."""
    if not style.show or pt.size == 0:
        return np.zeros(0, dtype=int)
    order = np.argsort(-pt, kind="stable")
    order = order[np.isfinite(pt[order]) & (pt[order] >= style.min_pt)]
    return order[: style.max_count] if style.max_count is not None else order


def physics_event(ev: IgEvent, style: Style) -> PhysicsEvent:
    cols = style.collections
    vertices = [r for r in ev.rows("Vertices") if r.get("isValid", 1) and not r.get("isFake", 0)]
    pv = np.asarray(vertices[0]["pos"], dtype=float) if vertices else np.zeros(3)
    physics = PhysicsEvent(ev.run, ev.lumi, ev.event, ev.index, ev.source, is_simulation=False)

    jets = ev.rows("PFJets")
    if jets:
        et = np.array([j["et"] for j in jets], dtype=float)
        eta = np.array([j["eta"] for j in jets], dtype=float)
        keep = _keep(et, cols.jets)
        if keep.size:
            phi = np.array([j["phi"] for j in jets], dtype=float)[keep]
            physics.jets.append(
                Jets(
                    "jets",
                    "PFJet",
                    et[keep],
                    eta[keep],
                    phi,
                    et[keep] * np.cosh(eta[keep]),
                    cols.jets.cone_radius or 0.4,
                    pv,
                )
            )
            physics.counts["jets"] = int(keep.size)

    photons = ev.rows("Photons")
    if photons:
        et = np.array([p["et"] for p in photons], dtype=float)
        keep = _keep(et, cols.photons)
        if keep.size:
            physics.photons = Photons(
                "photons",
                "Photon",
                et[keep],
                np.array([p["eta"] for p in photons], dtype=float)[keep],
                np.array([p["phi"] for p in photons], dtype=float)[keep],
                np.array([p["energy"] for p in photons], dtype=float)[keep],
                pv,
            )
            physics.counts["photons"] = int(keep.size)

    mets = ev.rows("PFMETs")
    if mets and cols.met.show and float(mets[0]["pt"]) >= cols.met.min_pt:
        physics.met = Met("PFMET", float(mets[0]["pt"]), float(mets[0]["phi"]))
        physics.counts["met"] = 1

    if vertices and cols.vertices.show:
        positions = np.array([v["pos"] for v in vertices], dtype=float)
        physics.vertices.append(Vertices("vertices", "PV", positions))
        physics.counts["vertices"] = len(positions)
    return physics


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


def _extras_paths(
    ev: IgEvent, objects: str, association: str, style: CollectionStyle
) -> list[np.ndarray]:
    rows = ev.rows(objects)
    extras = ev.rows("Extras")
    if not rows or not extras:
        return []
    pt = np.array([float(r.get("pt", 0.0)) for r in rows])
    wanted = set(_keep(pt, style).tolist())
    paths = []
    for obj, extra in ev.links(association):
        if obj in wanted and extra < len(extras):
            x = extras[extra]
            curve = bezier(
                *(np.asarray(x[k], dtype=float) for k in ("pos_1", "dir_1", "pos_2", "dir_2"))
            )
            if np.all(np.isfinite(curve)):
                paths.append(curve)
    return paths


def _hits(ev: IgEvent, names: tuple[str, ...], style: HitStyle) -> np.ndarray:
    """Corners (N, 8, 3) of the shown hits, the back face pushed out with energy."""
    cells = []
    for name in names:
        for hit in ev.rows(name):
            energy = float(hit.get("energy", 0.0))
            if not np.isfinite(energy) or energy < style.min_energy:
                continue
            front = np.array([hit[f"front_{i}"] for i in range(1, 5)], dtype=float)
            back = np.array([hit[f"back_{i}"] for i in range(1, 5)], dtype=float)
            if style.scale > 0:
                depth = min(energy * style.scale, style.max_depth)
                axis = back.mean(axis=0) - front.mean(axis=0)
                axis /= np.linalg.norm(axis) or 1.0
                back = front + axis * depth
            cells.append(np.vstack([front, back]))
    return np.array(cells, dtype=float).reshape(-1, 8, 3)


def build_ig_scene(ev: IgEvent, style: Style) -> tuple[Scene, PhysicsEvent]:
    cols = style.collections
    physics = physics_event(ev, style)
    scene = build_scene(physics, style)
    # iSpy keeps every reconstructed primary vertex (pile-up included), NanoAOD only the chosen
    # one: say so in the legend unless the style names them.
    if cols.vertices.label is None:
        scene.legend = [
            replace(e, label="Primary vertices")
            if e.label == "Primary vertex" and e.count > 1
            else e
            for e in scene.legend
        ]

    def add_lines(group: str, key: str, label: str, paths: list[np.ndarray]) -> None:
        if paths:
            st = getattr(cols, key)
            scene.add(Polylines(group, tuple(paths), _look(st)), st.label or label, len(paths))
            physics.counts[key] = len(paths)

    # Muons: a line through the points of each global muon (tracker and muon system).
    if cols.muons.show:
        points = ev.rows("Points")
        muons = ev.rows("GlobalMuons")
        pt = np.array([float(m.get("pt", 0.0)) for m in muons])
        wanted = set(_keep(pt, cols.muons).tolist())
        by_muon: dict[int, list[np.ndarray]] = defaultdict(list)
        for mu, point in ev.links("MuonGlobalPoints"):
            if mu in wanted and point < len(points):
                by_muon[mu].append(np.asarray(points[point]["pos"], dtype=float))
        paths = [np.array(p) for _, p in sorted(by_muon.items()) if len(p) >= 2]
        add_lines("Muon", "muons", "Muons", paths)
    if cols.electrons.show:
        add_lines(
            "Electron",
            "electrons",
            "Electrons",
            _extras_paths(ev, "GsfElectrons", "GsfElectronExtras", cols.electrons),
        )
    if cols.tracks.show:
        add_lines(
            "Track", "tracks", "Tracks", _extras_paths(ev, "Tracks", "TrackExtras", cols.tracks)
        )

    for key, group, label, names in (
        ("ecal_hits", "EcalRecHits", "ECAL hits", ("EBRecHits", "EERecHits", "ESRecHits")),
        (
            "hcal_hits",
            "HcalRecHits",
            "HCAL hits",
            ("HBRecHits", "HERecHits", "HFRecHits", "HORecHits"),
        ),
    ):
        st: HitStyle = getattr(cols, key)
        if st.show:
            corners = _hits(ev, names, st)
            if len(corners):
                scene.add(Hexahedra(group, corners, _look(st)), st.label or label, len(corners))
                physics.counts[key] = len(corners)
    st = cols.muon_chambers
    if st.show:
        chambers = [
            np.array(
                [c[f"front_{i}"] for i in range(1, 5)] + [c[f"back_{i}"] for i in range(1, 5)],
                dtype=float,
            )
            for c in ev.rows("MuonChambers")
        ]
        if chambers:
            scene.add(
                Hexahedra("MuonChambers", np.array(chambers), _look(st)),
                st.label or "Muon chambers",
                len(chambers),
            )
            physics.counts["muon_chambers"] = len(chambers)
    return scene, physics
