"""Physics objects -> scene primitives: what one event looks like, in metres.

* Tracks (muons, electrons, isolated tracks, PF candidates, generator particles): helices
  through the field model of :mod:`ispyrender.physics.trajectories`, one Polylines per NanoAOD
  collection (group "Muon", "Electron", ...), ending at the ECAL front face or the muon system.
* Jets, fat jets and taus: cones from the primary vertex along (eta, phi). A cone of radius R in
  (eta, phi) is drawn with a 3D half-angle of R * sin(theta): near the axis a step of d(eta)
  turns the direction by d(theta) = -sin(theta) d(eta), and a step of d(phi) by
  sin(theta) d(phi), so both a Delta-eta and a Delta-phi of R subtend about R * sin(theta)
  (central jets look as wide as R, forward jets as narrow as they are in the detector). The
  length follows the style's ``length_mode`` and is clipped so that the whole cone, rim
  included, stays inside the calorimeters (HCAL barrel outer radius, HCAL endcap back face).
* Photons: a straight line from the vertex to the ECAL front face and a tower standing there
  along the photon's direction, ``deposit_scale`` metres per GeV long.
* MET: an arrow in the transverse plane (z = 0) from the beam line along phi, ``scale`` metres
  per GeV, at most ``max_length``.
* Vertices: spheres.

Legend entries are added only for collections with something drawn.
"""

from __future__ import annotations

import numpy as np

from ispyrender.config.style import CollectionStyle, HitStyle, JetStyle, Style, parse_color
from ispyrender.physics.cms_dimensions import CALORIMETER_ENVELOPE, ECAL_ENTRANCE, Boundary
from ispyrender.physics.objects import DEFAULT_LABELS, CaloHits, Jets, Photons, PhysicsEvent, Tracks
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
    "cone_length",
    "direction",
    "max_cone_length",
]

#: Widest cone drawn (radians): keeps tan(half-angle) finite for R up to 1.5 at theta = 90 deg.
MAX_HALF_ANGLE = 1.0

#: Order of the collections in the scene and the legend: leptons and photons first.
_TRACK_ORDER = ("muons", "electrons", "isotracks", "pfcands", "genparts", "tracks")
_JET_ORDER = ("taus", "jets", "fatjets")


def look(style: CollectionStyle) -> Appearance:
    return Appearance(
        color=parse_color(style.color), opacity=style.opacity, line_width=style.line_width
    )


def label(key: str, style: CollectionStyle) -> str:
    return style.label if style.label is not None else DEFAULT_LABELS[key]


def direction(eta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Unit vectors (N, 3) along (eta, phi): (sin th cos ph, sin th sin ph, cos th), with
    theta = 2 atan(exp(-eta)), i.e. sin th = 1 / cosh eta and cos th = tanh eta."""
    eta = np.asarray(eta, dtype=float)
    phi = np.asarray(phi, dtype=float)
    sin_t = 1.0 / np.cosh(eta)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), np.tanh(eta)], axis=-1)


def cone_half_angle(eta: np.ndarray, radius: float) -> np.ndarray:
    """3D half-angle of a cone of radius R in (eta, phi): R sin(theta), at most MAX_HALF_ANGLE."""
    return np.minimum(radius / np.cosh(np.asarray(eta, dtype=float)), MAX_HALF_ANGLE)


def cone_length(energy: np.ndarray, style: JetStyle) -> np.ndarray:
    """Unclipped cone length: ``length`` at ``reference_energy``; fixed, linear in E, or
    logarithmic, length * ln(1 + E/GeV) / ln(1 + E_ref/GeV), which keeps soft jets visible and
    hard ones inside the picture."""
    energy = np.asarray(energy, dtype=float)
    if style.length_mode == "fixed":
        return np.full(energy.shape, style.length)
    if style.length_mode == "linear":
        return style.length * energy / style.reference_energy
    return style.length * np.log1p(energy) / np.log1p(style.reference_energy)


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


def _add_tracks(scene: Scene, tracks: Tracks, style: Style) -> None:
    track_style: CollectionStyle = getattr(style.collections, tracks.collection)
    if tracks.paths is not None:  # the curves the file stores (iSpy)
        paths = list(tracks.paths)
    else:
        paths = propagate(
            tracks.pt, tracks.eta, tracks.phi, tracks.charge, tracks.origin, tracks.stop
        )
    drawn = tuple(p for p in paths if len(p) >= 2)
    if drawn:
        scene.add(
            Polylines(tracks.branch, drawn, look(track_style)),
            label(tracks.collection, track_style),
            len(drawn),
        )


def _add_jets(scene: Scene, jets: Jets, style: Style) -> None:
    jet_style: JetStyle = getattr(style.collections, jets.collection)
    n = len(jets)
    if n == 0:
        return
    apex = np.repeat(np.asarray(jets.origin, dtype=float).reshape(1, 3), n, axis=0)
    half_angle = cone_half_angle(jets.eta, jets.radius)
    length = np.minimum(
        cone_length(jets.energy, jet_style), max_cone_length(apex, jets.eta, half_angle)
    )
    scene.add(
        Cones(
            jets.branch, apex, direction(jets.eta, jets.phi), length, half_angle, look(jet_style)
        ),
        label(jets.collection, jet_style),
        n,
    )


def _add_photons(scene: Scene, photons: Photons, style: Style) -> None:
    photon_style = style.collections.photons
    n = len(photons)
    if n == 0:
        return
    start = np.repeat(np.asarray(photons.origin, dtype=float).reshape(1, 3), n, axis=0)
    axis = direction(photons.eta, photons.phi)
    face = start + axis * line_exit_distance(start, axis, ECAL_ENTRANCE)[:, None]
    appearance = look(photon_style)
    paths = tuple(np.stack([s, f]) for s, f in zip(start, face, strict=True))
    scene.add(Polylines(photons.branch, paths, appearance), label("photons", photon_style), n)
    scene.add(
        Towers(
            photons.branch,
            face,
            axis,
            photon_style.deposit_scale * np.asarray(photons.energy, dtype=float),
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

    for key in _TRACK_ORDER[:2]:  # muons, electrons
        if key in tracks:
            _add_tracks(scene, tracks[key], style)
    if event.photons is not None:
        _add_photons(scene, event.photons, style)
    for key in _JET_ORDER:
        if key in jets:
            _add_jets(scene, jets[key], style)
    if event.met is not None:
        met_style = cols.met
        length = min(met_style.scale * event.met.pt, met_style.max_length)
        vector = length * np.array([[np.cos(event.met.phi), np.sin(event.met.phi), 0.0]])
        default = "MET" if event.met.source == "MET" else event.met.source
        scene.add(
            Arrows(event.met.source, np.zeros((1, 3)), vector, look(met_style)),
            met_style.label if met_style.label is not None else default,
            1,
        )
    for key in _TRACK_ORDER[2:]:  # isolated tracks, PF candidates, generator particles
        if key in tracks:
            _add_tracks(scene, tracks[key], style)
    for vertices in event.vertices:
        if len(vertices) == 0:
            continue
        vertex_style = getattr(cols, vertices.collection)
        name = label(vertices.collection, vertex_style)
        if vertex_style.label is None and vertices.collection == "vertices" and len(vertices) > 1:
            # iSpy keeps every reconstructed primary vertex (pile-up included), NanoAOD only
            # the chosen one.
            name = "Primary vertices"
        scene.add(
            Spheres(vertices.branch, vertices.positions, vertex_style.radius, look(vertex_style)),
            name,
            len(vertices),
        )
    for hits in event.hits:
        hit_style: HitStyle = getattr(cols, hits.collection)
        scene.add(
            Hexahedra(hits.branch, hit_cells(hits, hit_style), look(hit_style)),
            hit_style.label or _HIT_LABELS[hits.collection],
            len(hits),
        )
    if event.chambers is not None and len(event.chambers):
        st = cols.muon_chambers
        scene.add(
            Hexahedra("MuonChambers", event.chambers.corners, look(st)),
            st.label or "Muon chambers",
            len(event.chambers),
        )
    return scene


_HIT_LABELS = {"ecal_hits": "ECAL hits", "hcal_hits": "HCAL hits"}


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
