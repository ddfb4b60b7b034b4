"""Scene primitives: what is drawn, in metres, independent of any graphics library.

The physics-object and geometry modules turn events and detector dimensions into these plain
numpy records; :mod:`ispyrender.rendering.renderer` turns them into pyvista actors and the exporters
(Phoenix JSON, later glTF and vector figures) read them directly. Keeping them free of pyvista
means they can be tested against numbers worked out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Appearance:
    """How a primitive looks: color as RGB floats in [0, 1], opacity, line width in pixels."""

    color: RGB
    opacity: float = 1.0
    line_width: float = 2.0
    wireframe: bool = False
    # Outline drawn over a surface: cones get their rim and silhouette, boxes and cells their
    # edges, in this colour (None: no outline) at ``edge_opacity``.
    edge_color: RGB | None = None
    edge_opacity: float = 1.0


@dataclass(frozen=True)
class Polylines:
    """Open curves (tracks, photon lines): one (n_i, 3) array of points per curve."""

    group: str
    paths: tuple[np.ndarray, ...]
    look: Appearance


@dataclass(frozen=True)
class Cones:
    """Solid cones with the apex at ``apex`` opening along the unit vector ``axis``."""

    group: str
    apex: np.ndarray  # (N, 3)
    axis: np.ndarray  # (N, 3) unit vectors
    length: np.ndarray  # (N,) metres from apex to base
    half_angle: np.ndarray  # (N,) radians
    look: Appearance


@dataclass(frozen=True)
class Spheres:
    """Points such as vertices: spheres of ``radius`` metres in 3D exports; in pictures dots of
    ``pixels`` (at 1080 pixels of picture height) when set, so they show at every zoom."""

    group: str
    centers: np.ndarray  # (N, 3)
    radius: float
    look: Appearance
    pixels: float | None = None


@dataclass(frozen=True)
class Arrows:
    """Arrows from ``start`` to ``start + vector``."""

    group: str
    start: np.ndarray  # (N, 3)
    vector: np.ndarray  # (N, 3)
    look: Appearance


@dataclass(frozen=True)
class Towers:
    """Boxes standing on ``base`` and extending ``length`` along the unit vector ``axis``,
    with a square cross-section of side ``width``: energy deposits in a calorimeter."""

    group: str
    base: np.ndarray  # (N, 3)
    axis: np.ndarray  # (N, 3)
    length: np.ndarray  # (N,)
    width: np.ndarray  # (N,)
    look: Appearance


@dataclass(frozen=True)
class Tube:
    """A hollow cylinder around the beam line: rmin..rmax in radius, zmin..zmax along z,
    spanning phi_start..phi_end (radians, counter-clockwise; a full turn by default)."""

    group: str
    rmin: float
    rmax: float
    zmin: float
    zmax: float
    look: Appearance
    phi_start: float = 0.0
    phi_end: float = 2.0 * np.pi

    @property
    def closed(self) -> bool:
        return self.phi_end - self.phi_start >= 2.0 * np.pi - 1e-9


@dataclass(frozen=True)
class Boxes:
    """Boxes with centers, full sizes along their local (radial, tangential, z) axes and a
    rotation ``phi`` about the z axis: muon chambers."""

    group: str
    centers: np.ndarray  # (N, 3)
    sizes: np.ndarray  # (N, 3): radial thickness, tangential width, length along z
    phi: np.ndarray  # (N,)
    look: Appearance


@dataclass(frozen=True)
class Hexahedra:
    """Six-sided cells given by their corners: four on the front face, then the four behind
    them in the same order (iSpy's calorimeter rec hits and muon chambers)."""

    group: str
    corners: np.ndarray  # (N, 8, 3)
    look: Appearance
    # (N,) bool: the cell is in a barrel part; None: all are (the projections' rho-phi view
    # draws the barrel's cells only).
    barrel: np.ndarray | None = None


Primitive = Polylines | Cones | Spheres | Arrows | Towers | Tube | Boxes | Hexahedra


@dataclass(frozen=True)
class LegendEntry:
    label: str
    color: RGB
    count: int
    group: str = ""  # the group of the primitives drawn for it
    key: str = ""  # the style key of its collection (collections.<key>)


@dataclass
class Scene:
    """The drawable content of one event (the detector is drawn separately, once per process)."""

    primitives: list[Primitive] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)
    # The energy scale the lengths of cones, towers and MET were drawn with (metres per GeV
    # of transverse energy), stated on the picture; None when nothing energy-scaled is drawn.
    metres_per_gev: float | None = None
    # What the event has but the picture does not show, and why, one item each: "2 jets
    # (same as muons)". The legend lists only what is drawn; these go on one note line.
    left_out: list[str] = field(default_factory=list)

    def add(
        self,
        primitive: Primitive,
        label: str | None = None,
        count: int | None = None,
        key: str = "",
    ) -> None:
        self.primitives.append(primitive)
        if label is not None:
            color = primitive.look.color
            self.legend.append(LegendEntry(label, color, int(count or 0), primitive.group, key))

    @property
    def left_out_note(self) -> str:
        """The legend's note line: "not drawn: 2 jets (same as muons), 1 photon (...)"."""
        return f"not drawn: {', '.join(self.left_out)}" if self.left_out else ""


def drawn_points(
    scene: Scene, *, arrows: bool = True, barrel_only: bool = False
) -> tuple[list[np.ndarray], np.ndarray]:
    """What is drawn for the event, as points: the paths (each (N, 3), kept apart because a
    projection draws a path on one side of the beam) and (M, 3) outline points of the rest:
    cone apexes and rims, tower and arrow ends (``arrows``), vertices, cell corners (the barrel's
    only with ``barrel_only``). The camera frames these; a figure's scale avoids them."""
    paths: list[np.ndarray] = []
    pts: list[np.ndarray] = [np.zeros((0, 3))]
    for p in scene.primitives:
        if isinstance(p, Polylines):
            paths.extend(np.asarray(x, dtype=float).reshape(-1, 3) for x in p.paths if len(x))
        elif isinstance(p, Cones) and len(p.apex):
            tip = p.apex + p.axis * p.length[:, None]
            radius = (p.length * np.tan(p.half_angle))[:, None]
            # A vector across the axis in the transverse plane and one along the beam: four
            # rim points are enough to frame a cone.
            side = np.cross(p.axis, [0.0, 0.0, 1.0])
            norm = np.linalg.norm(side, axis=1, keepdims=True)
            side = np.where(norm > 1e-9, side / np.where(norm > 0, norm, 1.0), [1.0, 0.0, 0.0])
            other = np.cross(p.axis, side)
            pts.extend([p.apex, tip + radius * side, tip - radius * side])
            pts.extend([tip + radius * other, tip - radius * other])
        elif isinstance(p, Towers) and len(p.base):
            pts.extend([p.base, p.base + p.axis * p.length[:, None]])
        elif isinstance(p, Arrows) and len(p.start) and arrows:
            pts.extend([p.start, p.start + p.vector])
        elif isinstance(p, Spheres) and len(p.centers):
            pts.append(p.centers)
        elif isinstance(p, Hexahedra) and len(p.corners):
            cells = p.corners[p.barrel] if barrel_only and p.barrel is not None else p.corners
            pts.append(np.asarray(cells, dtype=float).reshape(-1, 3))
    return paths, np.vstack([np.asarray(x, dtype=float).reshape(-1, 3) for x in pts])
