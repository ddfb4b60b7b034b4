"""Scene primitives -> pyvista meshes (rendering code: this module imports pyvista).

Meshes are assembled with numpy rather than by merging one pyvista object per item, because a
busy event has thousands of tracks and merging meshes one by one costs far more than drawing them.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv

from ispyrender.scene.primitives import (
    Arrows,
    Boxes,
    Cones,
    Hexahedra,
    Polylines,
    Primitive,
    Spheres,
    Towers,
    Tube,
)

CONE_SIDES = 32
TUBE_SIDES = 120
WIRE_SPOKES = 24


def _frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to each row of ``axis`` and to each other."""
    axis = axis / np.linalg.norm(axis, axis=1, keepdims=True)
    # Pick the coordinate axis least aligned with each direction as a helper, so the cross
    # product never degenerates.
    helper = np.zeros_like(axis)
    helper[np.arange(len(axis)), np.argmin(np.abs(axis), axis=1)] = 1.0
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    v = np.cross(axis, u)
    return u, v


def _faces(polys: np.ndarray) -> np.ndarray:
    """Flatten an (M, k) array of vertex indices into VTK's [k, i0, .., ik-1, ...] layout."""
    k = polys.shape[1]
    return np.hstack([np.full((len(polys), 1), k, dtype=np.int64), polys]).ravel()


def polylines_mesh(paths: tuple[np.ndarray, ...] | list[np.ndarray]) -> pv.PolyData:
    paths = [np.asarray(p, dtype=float) for p in paths if len(p) >= 2]
    if not paths:
        return pv.PolyData()
    points = np.vstack(paths)
    lengths = np.array([len(p) for p in paths])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    cells = np.concatenate(
        [np.concatenate([[n], np.arange(s, s + n)]) for s, n in zip(starts, lengths, strict=True)]
    )
    return pv.PolyData(points, lines=cells)


def _cone_rings(p: Cones, t: np.ndarray) -> np.ndarray:
    """Points (n, len(t), 3) on each cone's rim at the angles ``t``."""
    axis = p.axis / np.linalg.norm(p.axis, axis=1, keepdims=True)
    u, v = _frame(axis)
    base = p.apex + axis * p.length[:, None]
    radius = p.length * np.tan(p.half_angle)
    return base[:, None, :] + radius[:, None, None] * (
        np.cos(t)[None, :, None] * u[:, None, :] + np.sin(t)[None, :, None] * v[:, None, :]
    )


def cones_mesh(p: Cones, sides: int = CONE_SIDES) -> pv.PolyData:
    n = len(p.apex)
    if n == 0:
        return pv.PolyData()
    ring = _cone_rings(p, np.linspace(0.0, 2.0 * np.pi, sides, endpoint=False))
    # Per cone: vertex 0 is the apex, 1..sides the rim.
    points = np.concatenate([p.apex[:, None, :], ring], axis=1).reshape(-1, 3)
    offset = (np.arange(n) * (sides + 1))[:, None]
    i = np.arange(sides)
    side_tris = np.stack([np.zeros(sides, int), 1 + i, 1 + (i + 1) % sides], axis=1)
    tris = (side_tris[None, :, :] + offset[:, :, None]).reshape(-1, 3)
    caps = (1 + i)[None, :] + offset
    faces = np.concatenate([_faces(tris), _faces(caps)])
    return pv.PolyData(points, faces=faces)


def cone_rims(p: Cones, sides: int = CONE_SIDES) -> pv.PolyData:
    """The rim circle of each cone, as closed polylines."""
    if len(p.apex) == 0:
        return pv.PolyData()
    return polylines_mesh(list(_cone_rings(p, np.linspace(0.0, 2.0 * np.pi, sides + 1))))


def tube_rims(p: Tube, sides: int = TUBE_SIDES) -> pv.PolyData:
    """A tube's outline without the lines along z: its rims and, when cut, the cut's edges."""
    return tube_wireframe(p, sides, spokes=0, cut_edges=True)


_SPHERE = None


def spheres_mesh(p: Spheres) -> pv.PolyData:
    """Spheres of ``radius`` (pictures draw dots of ``pixels`` from the centres instead)."""
    global _SPHERE
    if len(p.centers) == 0:
        return pv.PolyData()
    if _SPHERE is None:
        _SPHERE = pv.Sphere(radius=1.0, theta_resolution=20, phi_resolution=20)
    template = _SPHERE
    pts = template.points[None, :, :] * p.radius + p.centers[:, None, :]
    tri = template.faces.reshape(-1, 4)[:, 1:]
    offs = (np.arange(len(p.centers)) * template.n_points)[:, None, None]
    faces = _faces((np.asarray(tri)[None] + offs).reshape(-1, 3))
    return pv.PolyData(pts.reshape(-1, 3), faces=faces)


def arrows_mesh(p: Arrows) -> pv.PolyData:
    meshes = []
    for start, vec in zip(p.start, p.vector, strict=True):
        length = float(np.linalg.norm(vec))
        if length <= 0:
            continue
        # Absolute sizes (metres) so a long arrow is not a pole, but never fatter than a
        # twentieth of its length, so a short one is not a mushroom.
        shaft = min(0.012 * p.look.line_width, 0.05 * length)
        tip_len = min(0.35, 0.3 * length)
        meshes.append(
            pv.Arrow(
                start=start,
                direction=vec,
                scale=length,
                tip_length=tip_len / length,
                tip_radius=min(0.45, 3.0 * shaft / length),
                shaft_radius=min(0.2, shaft / length),
                tip_resolution=32,
                shaft_resolution=32,
            )
        )
    if not meshes:
        return pv.PolyData()
    return pv.merge(meshes) if len(meshes) > 1 else meshes[0]


def _box_points(center: np.ndarray, e1: np.ndarray, e2: np.ndarray, e3: np.ndarray) -> np.ndarray:
    """Eight corners of boxes spanned by half-edge vectors e1, e2, e3 (all (n, 3))."""
    signs = np.array(
        [
            [-1, -1, -1],
            [1, -1, -1],
            [1, 1, -1],
            [-1, 1, -1],
            [-1, -1, 1],
            [1, -1, 1],
            [1, 1, 1],
            [-1, 1, 1],
        ],
        dtype=float,
    )
    return (
        center[:, None, :]
        + signs[None, :, 0, None] * e1[:, None, :]
        + signs[None, :, 1, None] * e2[:, None, :]
        + signs[None, :, 2, None] * e3[:, None, :]
    )


_BOX_QUADS = np.array(
    [[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]]
)


def _boxes_polydata(corners: np.ndarray) -> pv.PolyData:
    n = len(corners)
    quads = (_BOX_QUADS[None] + (np.arange(n) * 8)[:, None, None]).reshape(-1, 4)
    return pv.PolyData(corners.reshape(-1, 3), faces=_faces(quads))


def towers_mesh(p: Towers) -> pv.PolyData:
    if len(p.base) == 0:
        return pv.PolyData()
    axis = p.axis / np.linalg.norm(p.axis, axis=1, keepdims=True)
    u, v = _frame(axis)
    center = p.base + axis * (p.length / 2)[:, None]
    half_w = (p.width / 2)[:, None]
    return _boxes_polydata(
        _box_points(center, u * half_w, v * half_w, axis * (p.length / 2)[:, None])
    )


def boxes_mesh(p: Boxes) -> pv.PolyData:
    if len(p.centers) == 0:
        return pv.PolyData()
    c, s = np.cos(p.phi), np.sin(p.phi)
    zeros = np.zeros_like(c)
    radial = np.stack([c, s, zeros], axis=1) * (p.sizes[:, 0] / 2)[:, None]
    tangential = np.stack([-s, c, zeros], axis=1) * (p.sizes[:, 1] / 2)[:, None]
    along = np.stack([zeros, zeros, np.ones_like(c)], axis=1) * (p.sizes[:, 2] / 2)[:, None]
    return _boxes_polydata(_box_points(p.centers, radial, tangential, along))


def _arc_angles(p: Tube, sides: int) -> np.ndarray:
    if p.closed:
        return np.linspace(0.0, 2.0 * np.pi, sides, endpoint=False)
    n = max(2, int(np.ceil(sides * (p.phi_end - p.phi_start) / (2.0 * np.pi))) + 1)
    return np.linspace(p.phi_start, p.phi_end, n)


def tube_mesh(p: Tube, sides: int = TUBE_SIDES) -> pv.PolyData:
    """A closed hollow cylinder: outer and inner walls, two annular end caps and, when a wedge
    is cut away, the two flat faces of the cut."""
    t = _arc_angles(p, sides)
    n = len(t)
    c, s = np.cos(t), np.sin(t)
    rings = []
    for r, z in ((p.rmax, p.zmin), (p.rmax, p.zmax), (p.rmin, p.zmax), (p.rmin, p.zmin)):
        rings.append(np.stack([r * c, r * s, np.full(n, z)], axis=1))
    points = np.vstack(rings)
    i = np.arange(n) if p.closed else np.arange(n - 1)
    j = (i + 1) % n
    quads = []
    for a in range(4):  # outer wall, +z cap, inner wall, -z cap
        b = (a + 1) % 4
        quads.append(np.stack([a * n + i, a * n + j, b * n + j, b * n + i], axis=1))
    if not p.closed:
        # The faces of the cut, wound so that their normals point out of the material (the
        # renderer culls back faces of closed detector parts).
        quads.append(np.array([[0, n, 2 * n, 3 * n]]))
        k = n - 1
        quads.append(np.array([[3 * n + k, 2 * n + k, n + k, k]]))
    return pv.PolyData(points, faces=_faces(np.vstack(quads)))


def tube_wireframe(
    p: Tube, sides: int = TUBE_SIDES, spokes: int = WIRE_SPOKES, cut_edges: bool = False
) -> pv.PolyData:
    """Outline of a tube: its four rims and lines along z at a few angles, which reads better
    than every polygon edge of the surface mesh; ``cut_edges`` adds the edges of a cut wedge."""
    t = _arc_angles(p, sides)
    if p.closed:
        t = np.append(t, t[0])
    paths = []
    for r in {p.rmin, p.rmax}:
        if r <= 0:
            continue
        for z in (p.zmin, p.zmax):
            paths.append(np.stack([r * np.cos(t), r * np.sin(t), np.full_like(t, z)], axis=1))
    for a in np.linspace(0.0, 2.0 * np.pi, spokes, endpoint=False):
        if not p.closed and (a - p.phi_start) % (2.0 * np.pi) > p.phi_end - p.phi_start:
            continue
        ca, sa = np.cos(a), np.sin(a)
        paths.append(
            np.array([[p.rmax * ca, p.rmax * sa, p.zmin], [p.rmax * ca, p.rmax * sa, p.zmax]])
        )
    if cut_edges and not p.closed:
        for a in (p.phi_start, p.phi_end):
            ca, sa = np.cos(a), np.sin(a)
            corners = [(p.rmin, p.zmin), (p.rmax, p.zmin), (p.rmax, p.zmax), (p.rmin, p.zmax)]
            loop = [[r * ca, r * sa, z] for r, z in corners + corners[:1]]
            paths.append(np.array(loop))
    return polylines_mesh(paths)


_HEX_QUADS = np.array(
    [[0, 1, 2, 3], [4, 7, 6, 5], [0, 4, 5, 1], [1, 5, 6, 2], [2, 6, 7, 3], [3, 7, 4, 0]]
)


def outward_corners(corners: np.ndarray) -> np.ndarray:
    """Cells reordered, where needed, so that every face of ``_HEX_QUADS`` winds outwards:
    the renderer culls back faces of the detector, and the corner order of a cell depends on
    where it came from (a mirrored wedge or chamber winds the other way). A cell whose front
    face's normal points towards its centre has its front and back faces swapped."""
    corners = np.asarray(corners, dtype=float)
    front = corners[:, :4]
    normal = np.cross(front[:, 1] - front[:, 0], front[:, 2] - front[:, 0])
    inward = np.einsum("ij,ij->i", normal, corners.mean(axis=1) - front.mean(axis=1)) > 0
    fixed = corners.copy()
    fixed[inward] = corners[inward][:, [4, 5, 6, 7, 0, 1, 2, 3]]
    return fixed


def hexahedra_mesh(p: Hexahedra) -> pv.PolyData:
    n = len(p.corners)
    if n == 0:
        return pv.PolyData()
    quads = (_HEX_QUADS[None] + (np.arange(n) * 8)[:, None, None]).reshape(-1, 4)
    return pv.PolyData(outward_corners(p.corners).reshape(-1, 3), faces=_faces(quads))


def primitive_mesh(p: Primitive) -> pv.PolyData:
    """The mesh for one primitive (lines for Polylines and wireframe tubes, surfaces otherwise)."""
    if isinstance(p, Polylines):
        return polylines_mesh(p.paths)
    if isinstance(p, Cones):
        return cones_mesh(p)
    if isinstance(p, Spheres):
        return spheres_mesh(p)
    if isinstance(p, Arrows):
        return arrows_mesh(p)
    if isinstance(p, Towers):
        return towers_mesh(p)
    if isinstance(p, Tube):
        return tube_wireframe(p) if p.look.wireframe else tube_mesh(p)
    if isinstance(p, Boxes):
        return boxes_mesh(p)
    if isinstance(p, Hexahedra):
        return hexahedra_mesh(p)
    raise TypeError(f"unknown primitive {type(p).__name__}")
