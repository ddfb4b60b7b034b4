"""Physics objects -> scene primitives: what one event looks like, in metres.

* Tracks (muons, electrons, isolated tracks, PF candidates, generator particles): helices
  through the field model of :mod:`ispyrender.physics.trajectories`, one Polylines per NanoAOD
  collection (group "Muon", "Electron", ...), ending at the ECAL front face or the muon system.
* Jets, fat jets and taus: cones from the primary vertex along (eta, phi). A cone of radius R in
  (eta, phi) is drawn with a 3D half-angle of R * sin(theta): near the axis a step of d(eta)
  turns the direction by d(theta) = -sin(theta) d(eta), and a step of d(phi) by
  sin(theta) d(phi), so both a Delta-eta and a Delta-phi of R subtend about R * sin(theta)
  (central jets look as wide as R, forward jets as narrow as they are in the detector). The
  length follows the jet's transverse energy on the energy scale and is clipped so that the
  whole cone, rim included, stays inside the calorimeters (HCAL barrel outer radius, HCAL
  endcap back face). A light fill with an outline (rim and silhouette), drawn under tracks.
* Photons: a straight line from the vertex to the ECAL front face and a tower standing there
  along the photon's direction, as long as its E_T on the energy scale.
* PF towers (PFNano): boxes standing on the ECAL or HCAL inner surface along their cell's
  direction, as wide as the cell and as long as their E_T on the energy scale.
* MET: an arrow in the transverse plane (z = 0) from the beam line along phi, as long as its
  magnitude on the energy scale.
* Vertices: dots of a fixed size in pixels.

One energy scale (``style.energy_scale``, metres per GeV of E_T) serves jets, towers, photon
deposits and MET, so their lengths compare; the scene records it so the picture can state it.
Legend entries are added only for collections with something drawn, with a note of what
cross-cleaning removed.
"""

from __future__ import annotations

import numpy as np

from ispyrender.config.collections import drawing_order
from ispyrender.config.style import (
    CollectionStyle,
    EnergyScale,
    HitStyle,
    JetStyle,
    Style,
    TowerStyle,
    parse_color,
)
from ispyrender.physics.cms_dimensions import (
    CALORIMETER_ENVELOPE,
    ECAL_ENTRANCE,
    HCAL_ENTRANCE,
    Boundary,
)
from ispyrender.physics.objects import (
    DEFAULT_LABELS,
    NOUNS,
    CaloHits,
    CaloTowers,
    Jets,
    Photons,
    PhysicsEvent,
    Tracks,
)
from ispyrender.physics.quality import chosen_id
from ispyrender.physics.trajectories import line_exit_distance, propagate
from ispyrender.scene.primitives import (
    Appearance,
    Arrows,
    Cones,
    Hexahedra,
    Polylines,
    Scene,
    Spheres,
    Towers,
)

__all__ = [
    "MAX_HALF_ANGLE",
    "build_scene",
    "cone_half_angle",
    "direction",
    "energy_lengths",
    "event_energy_scale",
    "max_cone_length",
]

#: Widest cone drawn (radians): keeps tan(half-angle) finite for R up to 1.5 at theta = 90 deg.
MAX_HALF_ANGLE = 1.0

#: Towers beyond this |eta| (the forward calorimeter, 11 m from the centre) are drawn in the
#: lego only.
MAX_TOWER_ETA = 3.0

#: An arrow shorter than this fraction of the energy scale's longest length is not drawn (its
#: legend entry gives its size): MET of 60 GeV beside a 1.7 TeV jet would be a speck.
MIN_ARROW_FRACTION = 0.05

#: Order of the collections in the scene and the legend: leptons and photons first.
_TRACK_ORDER = drawing_order("track")
_JET_ORDER = drawing_order("jet")


def look(style: CollectionStyle) -> Appearance:
    return Appearance(
        color=parse_color(style.color), opacity=style.opacity, line_width=style.line_width
    )


def cone_look(style: JetStyle) -> Appearance:
    """A cone's light fill at the style's opacity, outlined in the same colour."""
    color = parse_color(style.color)
    return Appearance(
        color=color,
        opacity=style.opacity,
        line_width=style.line_width,
        edge_color=color if style.outline > 0 else None,
        edge_opacity=style.outline,
    )


def label(key: str, style: CollectionStyle) -> str:
    return style.label if style.label is not None else DEFAULT_LABELS[key]


def direction(eta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Unit vectors (N, 3) along (eta, phi): (sin th cos ph, sin th sin ph, cos th), with
    theta = 2 atan(exp(-eta)), i.e. sin th = 1 / cosh eta and cos th = tanh eta."""
    eta = np.asarray(eta, dtype=float)
    phi = np.asarray(phi, dtype=float)
    with np.errstate(over="ignore"):  # |eta| > 710 (damaged data): cosh is inf, sin th is 0
        sin_t = 1.0 / np.cosh(eta)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), np.tanh(eta)], axis=-1)


def cone_half_angle(eta: np.ndarray, radius: float) -> np.ndarray:
    """3D half-angle of a cone of radius R in (eta, phi): R sin(theta), at most MAX_HALF_ANGLE."""
    return np.minimum(radius / np.cosh(np.asarray(eta, dtype=float)), MAX_HALF_ANGLE)


def event_energy_scale(energies: list[np.ndarray], scale: EnergyScale) -> float | None:
    """Metres per GeV of E_T for one event: the style's, shrunk in "combined" mode when the
    largest drawn energy would be longer than ``max_length`` (Fireworks' combined scale); None
    when nothing energy-scaled is drawn."""
    values = [np.asarray(e, dtype=float).ravel() for e in energies if np.size(e)]
    if not values:
        return None
    top = float(np.max(np.concatenate(values)))
    k = scale.metres_per_gev
    if scale.mode == "combined" and top * k > scale.max_length:
        k = scale.max_length / top
    return k


def energy_lengths(et: np.ndarray, k: float, scale: EnergyScale) -> np.ndarray:
    """Lengths (metres) of E_T values on the event's scale ``k``; in "fixed" mode capped at
    ``max_length`` (in "combined" mode ``k`` already keeps them below it)."""
    return np.minimum(np.asarray(et, dtype=float) * k, scale.max_length)


def max_cone_length(
    apex: np.ndarray,
    eta: np.ndarray,
    half_angle: np.ndarray,
    envelope: Boundary = CALORIMETER_ENVELOPE,
) -> np.ndarray:
    """Longest axis length for which a cone stays inside ``envelope``, rim included.

    The cone is the convex hull of its apex and rim, so it is inside the cylinder when its
    generators' ends are. The generators (length L / cos a) have polar angles from
    |theta - a| to theta + a (folded at pi); the largest |sin| reaches the radius, the largest
    +cos and -cos the two end faces. The apex's own distance from the beam line is subtracted
    from the radius, which is exact on the beam line and safe elsewhere.
    """
    apex = np.asarray(apex, dtype=float).reshape(-1, 3)
    with np.errstate(over="ignore"):  # eta < -710: exp is inf, theta is pi, as it should be
        theta = 2.0 * np.arctan(np.exp(-np.asarray(eta, dtype=float)))
    a = np.asarray(half_angle, dtype=float)
    lo = np.abs(theta - a)
    hi = np.minimum(theta + a, 2.0 * np.pi - (theta + a))
    hi = np.maximum(hi, lo)
    max_sin = np.where(
        (lo <= np.pi / 2) & (hi >= np.pi / 2), 1.0, np.maximum(np.sin(lo), np.sin(hi))
    )
    max_cos_fwd = np.maximum(np.cos(lo), 0.0)  # towards +z
    max_cos_bwd = np.maximum(-np.cos(hi), 0.0)  # towards -z
    room_r = envelope.radius - np.hypot(apex[:, 0], apex[:, 1])
    room_fwd = envelope.half_length - apex[:, 2]
    room_bwd = envelope.half_length + apex[:, 2]
    with np.errstate(divide="ignore"):
        limit = np.minimum.reduce(
            [
                np.where(max_sin > 0, room_r / max_sin, np.inf),
                np.where(max_cos_fwd > 0, room_fwd / max_cos_fwd, np.inf),
                np.where(max_cos_bwd > 0, room_bwd / max_cos_bwd, np.inf),
            ]
        )
    return np.maximum(limit * np.cos(a), 0.0)


def _left_out(scene: Scene, key: str, total: int, why: str) -> None:
    """One item of the legend's note line: "3 jets (same as muons)", "1 photon (...)"."""
    if total:
        noun = NOUNS.get(key, key)
        scene.left_out.append(f"{total} {noun.removesuffix('s') if total == 1 else noun} ({why})")


def _failed_id(scene: Scene, event: PhysicsEvent, style: Style, key: str) -> None:
    """Say on the legend's note line how many objects failed the collection's ID."""
    name = chosen_id(key, getattr(style.collections, key).id).replace("_", " ")
    _left_out(scene, key, event.failed_id.get(key, 0), f"failing the {name} ID")


def _removed(scene: Scene, event: PhysicsEvent, key: str) -> None:
    """Say on the legend's note line what cross-cleaning left out of a collection."""
    removed = event.removed.get(key, {})
    why = " or ".join(NOUNS.get(k, k) for k in removed)
    _left_out(scene, key, sum(removed.values()), f"same as {why}")


def _propagate_all(collections: list[Tracks]) -> dict[str, list[np.ndarray]]:
    """The trajectories of every collection without stored curves, in one propagation.

    Particles are independent, so one call gives the same curves as one call per collection,
    but pays the per-step cost of a propagation (a few dozen numpy calls on short arrays)
    once for the event instead of once per collection: half the scene's time for a
    thumbnail."""
    todo = [t for t in collections if t.paths is None and len(t)]
    if not todo:
        return {}
    paths = propagate(
        np.concatenate([t.pt for t in todo]),
        np.concatenate([t.eta for t in todo]),
        np.concatenate([t.phi for t in todo]),
        np.concatenate([t.charge for t in todo]),
        np.concatenate([np.asarray(t.origin, dtype=float).reshape(-1, 3) for t in todo]),
        np.concatenate([np.broadcast_to(np.asarray(t.stop, dtype=str), (len(t),)) for t in todo]),
    )
    out: dict[str, list[np.ndarray]] = {}
    start = 0
    for t in todo:
        out[t.collection] = paths[start : start + len(t)]
        start += len(t)
    return out


def _add_tracks(
    scene: Scene, tracks: Tracks, style: Style, propagated: dict[str, list[np.ndarray]]
) -> None:
    track_style: CollectionStyle = getattr(style.collections, tracks.collection)
    if tracks.paths is not None:  # the curves the file stores (iSpy)
        paths = list(tracks.paths)
    else:
        paths = propagated.get(tracks.collection, [])
    drawn = tuple(p for p in paths if len(p) >= 2)
    if drawn:
        scene.add(
            Polylines(tracks.branch, drawn, look(track_style)),
            label(tracks.collection, track_style),
            len(drawn),
            tracks.collection,
        )


def _add_jets(scene: Scene, jets: Jets, style: Style, k: float) -> None:
    jet_style: JetStyle = getattr(style.collections, jets.collection)
    n = len(jets)
    if n == 0:
        return
    apex = np.repeat(np.asarray(jets.origin, dtype=float).reshape(1, 3), n, axis=0)
    half_angle = cone_half_angle(jets.eta, jets.radius)
    length = np.minimum(
        energy_lengths(jets.pt, k, style.energy_scale), max_cone_length(apex, jets.eta, half_angle)
    )
    scene.add(
        Cones(
            jets.branch,
            apex,
            direction(jets.eta, jets.phi),
            length,
            half_angle,
            cone_look(jet_style),
        ),
        label(jets.collection, jet_style),
        n,
        jets.collection,
    )


def _add_towers(scene: Scene, towers: CaloTowers, style: Style, k: float) -> None:
    """PF towers standing on the ECAL or HCAL inner surface, one box per (eta, phi) cell."""
    tower_style: TowerStyle = getattr(style.collections, towers.collection)
    # The forward calorimeter (|eta| > 3) stands 11 m out: its towers are in the lego only,
    # where they do not set the frame of the picture.
    central = np.abs(np.asarray(towers.eta, dtype=float)) <= MAX_TOWER_ETA
    n = int(central.sum())
    if n == 0:
        return
    eta = np.asarray(towers.eta, dtype=float)[central]
    axis = direction(eta, np.asarray(towers.phi, dtype=float)[central])
    surface = ECAL_ENTRANCE if towers.surface == "ecal" else HCAL_ENTRANCE
    distance = line_exit_distance(np.zeros((n, 3)), axis, surface)
    base = axis * distance[:, None]
    # The cell's angular size across the line of sight, at that distance.
    width = distance * min(towers.eta_width, towers.phi_width) / np.cosh(eta)
    length = np.minimum(
        energy_lengths(np.asarray(towers.et)[central], k, style.energy_scale),
        max_cone_length(base, eta, np.zeros(n)),  # inside the calorimeters, as the cones
    )
    scene.add(
        Towers(towers.branch, base, axis, length, width, look(tower_style)),
        label(towers.collection, tower_style),
        n,
        towers.collection,
    )


def _add_photons(scene: Scene, photons: Photons, style: Style, k: float) -> None:
    photon_style = style.collections.photons
    n = len(photons)
    if n == 0:
        return
    start = np.repeat(np.asarray(photons.origin, dtype=float).reshape(1, 3), n, axis=0)
    axis = direction(photons.eta, photons.phi)
    face = start + axis * line_exit_distance(start, axis, ECAL_ENTRANCE)[:, None]
    appearance = look(photon_style)
    paths = tuple(np.stack([s, f]) for s, f in zip(start, face, strict=True))
    scene.add(
        Polylines(photons.branch, paths, appearance), label("photons", photon_style), n, "photons"
    )
    scene.add(
        Towers(
            photons.branch,
            face,
            axis,
            np.minimum(
                energy_lengths(photons.pt, k, style.energy_scale),
                max_cone_length(face, photons.eta, np.zeros(n)),
            ),
            np.full(n, photon_style.deposit_width),
            appearance,
        )
    )


def build_scene(event: PhysicsEvent, style: Style) -> Scene:
    """The primitives and legend of one event."""
    scene = Scene()
    cols = style.collections
    tracks = {t.collection: t for t in event.tracks}
    jets = {j.collection: j for j in event.jets}
    energies = [j.pt for j in event.jets] + [t.et for t in event.towers]
    if event.photons is not None:
        energies.append(event.photons.pt)
    if event.met is not None:
        energies.append(np.array([event.met.pt]))
    k = event_energy_scale(energies, style.energy_scale)
    scene.metres_per_gev = k
    k = k or style.energy_scale.metres_per_gev

    propagated = _propagate_all(list(tracks.values()))
    for key in _TRACK_ORDER[:2]:  # muons, electrons
        if key in tracks:
            _add_tracks(scene, tracks[key], style, propagated)
        _failed_id(scene, event, style, key)
    if event.photons is not None:
        _add_photons(scene, event.photons, style, k)
    _failed_id(scene, event, style, "photons")
    _removed(scene, event, "photons")
    for key in _JET_ORDER:
        if key in jets:
            _add_jets(scene, jets[key], style, k)
        _failed_id(scene, event, style, key)
        _removed(scene, event, key)
    for towers in event.towers:
        _add_towers(scene, towers, style, k)
    if event.met is not None:
        met_style = cols.met
        length = float(energy_lengths(np.array([event.met.pt]), k, style.energy_scale)[0])
        vector = length * np.array([[np.cos(event.met.phi), np.sin(event.met.phi), 0.0]])
        default = "MET" if event.met.source == "MET" else event.met.source
        name = met_style.label if met_style.label is not None else default
        if length >= MIN_ARROW_FRACTION * style.energy_scale.max_length:
            arrow = Arrows(event.met.source, np.zeros((1, 3)), vector, look(met_style))
            scene.add(arrow, name, 1, "met")
        else:
            # Next to a far larger object the arrow would be a speck: say its size instead.
            scene.left_out.append(f"{name} of {event.met.pt:.0f} GeV (too short at this scale)")
    for key in _TRACK_ORDER[2:]:  # isolated tracks, PF candidates, generator particles
        if key in tracks:
            _add_tracks(scene, tracks[key], style, propagated)
    for vertices in event.vertices:
        if len(vertices) == 0:
            continue
        vertex_style = getattr(cols, vertices.collection)
        positions = np.asarray(vertices.positions, dtype=float).reshape(-1, 3)
        name = label(vertices.collection, vertex_style)
        if vertices.collection == "vertices" and len(positions) > 1:
            # iSpy keeps every reconstructed primary vertex, pile-up included (the first is
            # the chosen one); NanoAOD only the chosen one. The pile-up vertices lie within
            # centimetres of it, a blur under its dot at any picture's scale: the chosen one is
            # drawn, the others counted on the note line.
            name = vertex_style.label or "Primary vertex"
            pile_up = len(positions) - 1
            scene.left_out.append(f"{pile_up} pile-up vert{'ex' if pile_up == 1 else 'ices'}")
            positions = positions[:1]
        scene.add(
            Spheres(
                vertices.branch,
                positions,
                vertex_style.radius,
                look(vertex_style),
                pixels=vertex_style.size,
            ),
            name,
            len(positions),
            vertices.collection,
        )
    for hits in event.hits:
        hit_style: HitStyle = getattr(cols, hits.collection)
        _add_cells(
            scene, hits.collection, hits.branch, hit_cells(hits, hit_style), hits.barrel, hit_style
        )
    if event.chambers is not None and len(event.chambers):
        chambers = event.chambers
        _add_cells(
            scene,
            "muon_chambers",
            "MuonChambers",
            chambers.corners,
            chambers.barrel,
            cols.muon_chambers,
        )
    return scene


def _add_cells(
    scene: Scene,
    key: str,
    group: str,
    corners: np.ndarray,
    barrel: np.ndarray | None,
    style: HitStyle,
) -> None:
    """Rec hits or chambers as cells; those of the endcaps only where the style shows them."""
    if barrel is not None and not style.endcaps:
        corners, barrel = corners[barrel], barrel[barrel]
    if len(corners):
        cells = Hexahedra(group, corners, look(style), barrel)
        scene.add(cells, style.label or DEFAULT_LABELS[key], len(corners), key)


def hit_cells(hits: CaloHits, style: HitStyle) -> np.ndarray:
    """Corners (N, 8, 3) of rec-hit cells: the front face as stored, the back face pushed out
    along the cell's axis by energy x ``scale`` (at most ``max_depth``), as iSpy draws them;
    with ``scale`` 0 the stored back face."""
    front, back = hits.front, hits.back
    if style.scale > 0:
        depth = np.minimum(hits.energy * style.scale, style.max_depth)
        axis = back.mean(axis=1) - front.mean(axis=1)
        norm = np.linalg.norm(axis, axis=1, keepdims=True)
        axis = axis / np.where(norm > 0, norm, 1.0)
        back = front + (axis * depth[:, None])[:, None, :]
    return np.concatenate([front, back], axis=1)
