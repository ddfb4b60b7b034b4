"""Charged-particle trajectories through the CMS magnetic field, many particles at once.

Conventions (CMS): metres and GeV; x towards the LHC centre, y up, z along the beam; the field
is along z (see :class:`~ispyrender.physics.cms_dimensions.FieldModel`). In a field Bz a particle of
transverse momentum pT and charge q moves on a helix of radius

    R [m] = pT [GeV] / (0.2998 * |Bz| [T] * |q|)

turning with signed curvature dphi/ds = -0.2998 * q * Bz / pT per metre of transverse path s:
seen from +z a positive charge in +Bz turns clockwise (F = q v x B; for v = x, B = z the force
is along -y). Along the way z advances by s * sinh(eta), since pz / pT = sinh(eta).

Propagation steps all particles together (vectorised over particles, looping over steps). Each
step is an exact circular arc in the field found at the step's start, so where the field is
constant (the whole tracker volume) the result is an exact helix. A step is at most ``step``
metres long in 3D and turns at most ``max_step_turn`` radians, so curves stay smooth. A particle
stops when it crosses its stop boundary (the last step is cut exactly at the boundary, on the
arc, by bisection) or when it has turned by ``max_turning`` in total: low-pT loopers that never
reach the boundary are drawn as half a turn (out to their farthest point from the beam line),
not as an endless coil.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Literal

import numpy as np

from ispyrender.physics.cms_dimensions import (
    ECAL_ENTRANCE,
    FIELD,
    MATERIAL,
    MUON_SYSTEM_END,
    Boundary,
    FieldModel,
    MaterialModel,
    transverse_distance,
)

__all__ = [
    "C_LIGHT",
    "STOPS",
    "StopName",
    "field_bz",
    "helix_center",
    "helix_radius",
    "line_exit_distance",
    "propagate",
]

#: pT [GeV] = C_LIGHT * B [T] * R [m] * |q|: the speed of light in units of 1e9 m/s.
#: (0.3 instead of 0.2998 would make every radius 0.07 % too small.)
C_LIGHT = 0.2998

StopName = Literal["ecal", "muon"]
#: Where each kind of particle stops: CMSSW's ECAL entrance surface (electrons, tracks, PF
#: candidates) or the outer faces of the outermost muon stations (muons).
STOPS: dict[str, Boundary] = {"ecal": ECAL_ENTRANCE, "muon": MUON_SYSTEM_END}

_BISECTIONS = 40  # halves a step of <= 5 cm down to far below a micrometre


def helix_radius(pt: np.ndarray | float, charge: np.ndarray | float, b: float = 3.8) -> np.ndarray:
    """Transverse radius of curvature in metres, R = pT / (0.2998 |B| |q|); inf for q = 0."""
    pt = np.asarray(pt, dtype=float)
    denom = C_LIGHT * abs(b) * np.abs(np.asarray(charge, dtype=float))
    with np.errstate(divide="ignore"):
        return np.where(denom > 0, pt / np.where(denom > 0, denom, 1.0), np.inf)


def helix_center(
    x: np.ndarray | float,
    y: np.ndarray | float,
    phi: np.ndarray | float,
    pt: np.ndarray | float,
    charge: np.ndarray | float,
    b: float = 3.8,
) -> np.ndarray:
    """Centre (cx, cy) of the transverse circle of a particle at (x, y) moving along ``phi``.

    The centre lies a distance R to the right of the direction of travel for a clockwise
    turn (positive charge in +B) and to the left for an anticlockwise one: with the signed
    curvature k = -0.2998 q B / pT, centre = (x, y) + (1/k) * (-sin phi, cos phi).
    Returns an array of shape (..., 2); undefined (inf/nan) for neutral particles.
    """
    phi = np.asarray(phi, dtype=float)
    k = -C_LIGHT * np.asarray(charge, dtype=float) * b / np.asarray(pt, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / k
    return np.stack([x - inv * np.sin(phi), y + inv * np.cos(phi)], axis=-1)


def field_bz(x: np.ndarray, y: np.ndarray, z: np.ndarray, field: FieldModel = FIELD) -> np.ndarray:
    """Bz in tesla at the given points, from the piecewise-constant field model."""
    return field.bz(x, y, z)


def line_exit_distance(origin: np.ndarray, direction: np.ndarray, boundary: Boundary) -> np.ndarray:
    """Distance along unit ``direction`` (N, 3) from ``origin`` (N, 3) to the surface of the
    closed cylinder ``boundary`` (0 for origins already outside; a polygonal boundary is taken
    as its inscribed cylinder)."""
    o = np.asarray(origin, dtype=float).reshape(-1, 3)
    d = np.asarray(direction, dtype=float).reshape(-1, 3)
    a = d[:, 0] ** 2 + d[:, 1] ** 2
    b = 2.0 * (o[:, 0] * d[:, 0] + o[:, 1] * d[:, 1])
    c = o[:, 0] ** 2 + o[:, 1] ** 2 - boundary.radius**2
    with np.errstate(divide="ignore", invalid="ignore"):
        # The positive root of a t^2 + b t + c = 0 (c <= 0 inside, so it exists).
        t_r = np.where(a > 0, (-b + np.sqrt(np.maximum(b * b - 4 * a * c, 0.0))) / (2 * a), np.inf)
        t_z = np.where(
            d[:, 2] > 0,
            (boundary.half_length - o[:, 2]) / d[:, 2],
            np.where(d[:, 2] < 0, (-boundary.half_length - o[:, 2]) / d[:, 2], np.inf),
        )
    return np.maximum(np.minimum(t_r, t_z), 0.0)


def particle_arrays(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, charge: np.ndarray, origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pt, eta, phi, charge as (N,) float arrays and origin as (N, 3), whatever they came as."""
    pt = np.asarray(pt, dtype=float).reshape(-1)
    n = pt.size
    return (
        pt,
        np.asarray(eta, dtype=float).reshape(n),
        np.asarray(phi, dtype=float).reshape(n),
        np.asarray(charge, dtype=float).reshape(n),
        np.asarray(origin, dtype=float).reshape(n, 3),
    )


def _arc(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    phi: np.ndarray,
    k: np.ndarray,
    ds: np.ndarray,
    slope: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Advance along an exact circular arc of signed curvature k by transverse length ds.

    The chord of an arc turning by k*ds has length 2 sin(k ds / 2) / k and points along the
    mean direction phi + k ds / 2; np.sinc keeps this exact and finite for k = 0.
    """
    turn = k * ds
    chord = ds * np.sinc(turn / (2.0 * np.pi))  # np.sinc(u) = sin(pi u) / (pi u)
    mid = phi + 0.5 * turn
    return x + chord * np.cos(mid), y + chord * np.sin(mid), z + ds * slope, phi + turn


def _stop_limits(stop: StopName | Sequence[str] | np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    names = np.broadcast_to(np.asarray(stop, dtype=str), (n,))
    r_stop = np.empty(n)
    z_stop = np.empty(n)
    sides = np.zeros(n, dtype=int)
    for name in np.unique(names):
        if name not in STOPS:
            raise ValueError(f"unknown stop {name!r}: use one of {', '.join(STOPS)}")
        mask = names == name
        r_stop[mask] = STOPS[name].radius
        z_stop[mask] = STOPS[name].half_length
        sides[mask] = STOPS[name].sides
    return r_stop, z_stop, sides


def _inscribed(r_stop: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """The radius inside which a point is inside its boundary whatever its phi: the stop
    radius for a cylinder, r cos(pi / sides) for a polygon."""
    return r_stop * np.where(sides > 0, np.cos(np.pi / np.maximum(sides, 1)), 1.0)


def _outside(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    rs: np.ndarray,
    zs: np.ndarray,
    sides: np.ndarray,
    inscribed: np.ndarray,
) -> np.ndarray:
    """Whether each point is outside its boundary. Only points beyond the inscribed circle (a
    few steps of each particle) need the costlier distance to a polygon's nearest face."""
    out = np.abs(z) >= zs
    near = np.hypot(x, y) >= inscribed
    if near.any():
        out[near] |= transverse_distance(x[near], y[near], sides[near]) >= rs[near]
    return out


class _RegionGrid:
    """Bz and the energy loss looked up by the cell of a grid in (r, |z|), for the steps of
    :func:`propagate`: the same values as ``field.bz`` and ``material.loss`` (each region is
    bounded by lines of constant r or |z|, so every point of a cell between the grid's edges
    lies in the same regions as the cell's lower corner), in two searches and three lookups
    instead of some thirty comparisons and selections a step (tests/test_trajectories.py)."""

    def __init__(self, field: FieldModel, material: MaterialModel | None) -> None:
        f = field
        r_cuts = [f.coil_radius, f.yoke_rmin, f.yoke_rmax]
        z_cuts = [f.inner_half_length, f.coil_half_length, f.yoke_half_length, f.endcap_zmax]
        if material is not None:
            r_cuts += [material.tracker_radius, material.calorimeter_radius]
            z_cuts += [material.tracker_half_length, material.calorimeter_z]
        self.r_edges = np.unique(r_cuts)
        self.z_edges = np.unique(z_cuts)
        # Each cell's lower corner (a point in it, on its inclusive edges).
        r0 = np.concatenate([[0.0], self.r_edges])
        z0 = np.concatenate([[0.0], self.z_edges])
        r, az = (a.ravel() for a in np.meshgrid(r0, z0, indexing="ij"))
        regions = field.regions(r, az)
        self.bz = field.bz_in(az, regions)
        # Towards the coil's ends Bz depends on |z| within the cell: computed per point there.
        self.falling = regions[1] & ~regions[0]
        self.field = field
        self.loss = material.loss_in(r, az, regions) if material is not None else None
        self._nz = z0.size

    def cells(self, r: np.ndarray, az: np.ndarray) -> np.ndarray:
        # side="right": a point on an edge belongs to the cell above it, as "r < edge" says.
        ir = np.searchsorted(self.r_edges, r, side="right")
        return ir * self._nz + np.searchsorted(self.z_edges, az, side="right")

    def bz_at(self, cells: np.ndarray, az: np.ndarray) -> np.ndarray:
        bz = self.bz[cells]
        falling = self.falling[cells]
        if falling.any():
            bz[falling] = self.field.towards_ends(az[falling])
        return bz


@functools.cache
def _region_grid(field: FieldModel, material: MaterialModel | None) -> _RegionGrid:
    return _RegionGrid(field, material)


def propagate(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    charge: np.ndarray,
    origin: np.ndarray,
    stop: StopName | Sequence[str] | np.ndarray = "ecal",
    *,
    field: FieldModel = FIELD,
    material: MaterialModel | None = MATERIAL,
    step: float = 0.05,
    max_step_turn: float = 0.05,
    max_turning: float = np.pi,
    max_steps: int = 5000,
) -> list[np.ndarray]:
    """Trajectories of N particles from their origins outwards along (phi, eta).

    ``pt`` (GeV), ``eta``, ``phi`` (the momentum direction at the origin), ``charge`` (units of
    e; 0 gives a straight line) are (N,) arrays, ``origin`` is (N, 3) in metres and ``stop`` is
    "ecal", "muon", or one of those per particle. ``step`` is the longest 3D step (m),
    ``max_step_turn`` the largest turn per step (rad), ``max_turning`` the total turn after which
    a looper is stopped (rad). ``material`` makes particles lose energy along the way (None:
    none, exact helices in the uniform field); a particle whose pT falls below a tenth of its
    start has ranged out and stops. Returns one (n_i, 3) array per particle, starting at its origin;
    a particle with non-finite or non-positive pT, or starting outside its boundary, gives just
    its origin (one point).
    """
    pt, eta, phi, charge, origin = particle_arrays(pt, eta, phi, charge, origin)
    n = pt.size
    if n == 0:
        return []
    r_stop, z_stop, sides = _stop_limits(stop, n)

    valid = np.isfinite(pt) & (pt > 0) & np.isfinite(eta) & np.isfinite(phi)
    valid &= np.isfinite(charge) & np.all(np.isfinite(origin), axis=1)
    valid &= transverse_distance(origin[:, 0], origin[:, 1], sides) < r_stop
    valid &= np.abs(origin[:, 2]) < z_stop

    # Recorded points: particle ids and positions, one block per step; sorted by id at the end.
    rec_ids: list[np.ndarray] = [np.arange(n)]
    # (x, y, z) columns: stacked once at the end rather than once a step.
    rec_pts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [
        (origin[:, 0], origin[:, 1], origin[:, 2])
    ]

    # The state of the particles still moving, compacted as they stop.
    ids = np.flatnonzero(valid)
    x, y, z = origin[ids, 0].copy(), origin[ids, 1].copy(), origin[ids, 2].copy()
    ph = phi[ids].copy()
    pt_now = pt[ids].copy()
    pt_min = 0.1 * pt_now
    charge_now = charge[ids]
    slope = np.sinh(eta[ids])  # dz / ds
    ds_max = step / np.cosh(eta[ids])  # transverse step for a 3D step of `step` metres
    rs, zs, sd = r_stop[ids], z_stop[ids], sides[ids]
    ri = _inscribed(rs, sd)
    turned = np.zeros(ids.size)

    grid = _region_grid(field, material)
    # Steps that crossed a boundary, kept to be cut at the boundary in one batch at the end.
    cross: list[tuple[np.ndarray, ...]] = []

    for _ in range(max_steps):
        if ids.size == 0:
            break
        # The cells are found once per step for the field and the energy loss.
        r, az = np.hypot(x, y), np.abs(z)
        cells = grid.cells(r, az)
        k = -C_LIGHT * grid.bz_at(cells, az) * charge_now / pt_now
        abs_k = np.abs(k)
        with np.errstate(divide="ignore"):
            # Limit the turn per step, and never turn past max_turning.
            turn_limit = np.minimum(max_step_turn, max_turning - turned)
            ds = np.minimum(ds_max, np.where(abs_k > 0, turn_limit / abs_k, np.inf))
        nx, ny, nz, nph = _arc(x, y, z, ph, k, ds, slope)
        out = _outside(nx, ny, nz, rs, zs, sd, ri)
        crossed = bool(out.any())
        if crossed:
            cross.append(
                (
                    ids[out],
                    x[out],
                    y[out],
                    z[out],
                    ph[out],
                    k[out],
                    ds[out],
                    slope[out],
                    rs[out],
                    zs[out],
                    sd[out],
                    ri[out],
                )
            )
        inside = ~out
        if crossed:
            rec_ids.append(ids[inside])
            rec_pts.append((nx[inside], ny[inside], nz[inside]))
        else:  # every particle still inside (most steps): no copies
            rec_ids.append(ids)
            rec_pts.append((nx, ny, nz))
        turned = turned + abs_k * ds
        if material is not None:
            # p = pT cosh(eta) and a 3D step is ds cosh(eta): pT falls by loss * ds.
            assert grid.loss is not None
            pt_now = pt_now - grid.loss[cells] * ds
        # 1e-9: the last step is sized to land on max_turning, up to rounding.
        keep = inside & (turned < max_turning - 1e-9) & (pt_now > pt_min)
        if not keep.all():
            ids, x, y, z, ph = ids[keep], nx[keep], ny[keep], nz[keep], nph[keep]
            pt_now, pt_min, charge_now = pt_now[keep], pt_min[keep], charge_now[keep]
            slope, ds_max = slope[keep], ds_max[keep]
            rs, zs, sd, ri, turned = rs[keep], zs[keep], sd[keep], ri[keep], turned[keep]
        else:
            x, y, z, ph = nx, ny, nz, nph

    if cross:
        columns = [np.concatenate(c) for c in zip(*cross, strict=True)]
        cid, cx, cy, cz, cph, ck, cds, cslope, crs, czs, csd, cri = columns
        # Bisect the fraction of the step at which the arc leaves the boundary: lo stays
        # inside, hi outside, and every trial point lies exactly on the arc.
        lo = np.zeros(cid.size)
        hi = np.ones(cid.size)
        for _ in range(_BISECTIONS):
            mid = 0.5 * (lo + hi)
            mx, my, mz, _ = _arc(cx, cy, cz, cph, ck, cds * mid, cslope)
            outside = _outside(mx, my, mz, crs, czs, csd, cri)
            hi = np.where(outside, mid, hi)
            lo = np.where(outside, lo, mid)
        ex, ey, ez, _ = _arc(cx, cy, cz, cph, ck, cds * hi, cslope)
        rec_ids.append(cid)
        rec_pts.append((ex, ey, ez))

    all_ids = np.concatenate(rec_ids)
    all_pts = np.stack([np.concatenate(c) for c in zip(*rec_pts, strict=True)], axis=1)
    order = np.argsort(all_ids, kind="stable")  # stable: each particle's points stay in order
    counts = np.bincount(all_ids, minlength=n)
    return np.split(all_pts[order], np.cumsum(counts)[:-1])
