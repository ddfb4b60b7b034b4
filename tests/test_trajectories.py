"""Trajectories against numbers worked out by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ispyrender.physics.cms_dimensions import (
    ECAL_ENTRANCE,
    FIELD,
    MATERIAL,
    MUON_SYSTEM_END,
    Boundary,
)
from ispyrender.physics.trajectories import (
    C_LIGHT,
    field_bz,
    helix_center,
    helix_radius,
    line_exit_distance,
    propagate,
)

# R = pT / (0.2998 * B * |q|) for 1 GeV, |q| = 1, B = 3.8 T:
#   0.2998 * 3.8 = 1.13924  ->  R = 1 / 1.13924 = 0.877778 m
#   0.3    * 3.8 = 1.14     ->  R = 1 / 1.14    = 0.877193 m
# The 0.8773 m is the 0.3 value (0.8772) rounded up; with 0.2998 the radius is 0.8778 m.
# The two differ by 0.07 %, so the figure agrees with ours to better than 0.1 %.
R_1GEV = 0.877778


#: The fitted field falls off beyond |z| 1.52 m; with it uniform up to the coil's ends and no
#: energy loss, tracks are exact helices, which the tests below check against hand numbers.
UNIFORM = dataclasses.replace(FIELD, inner_half_length=FIELD.coil_half_length)


def one(pt, eta, phi, q, origin=(0.0, 0.0, 0.0), stop="ecal", material=None, **kw) -> np.ndarray:
    """One particle; in the uniform solenoid field without energy loss unless asked."""
    kw.setdefault("field", UNIFORM)
    return propagate([pt], [eta], [phi], [q], [origin], stop, material=material, **kw)[0]


def test_radius_formula_uses_0_2998():
    assert C_LIGHT == 0.2998
    assert helix_radius(1.0, 1) == pytest.approx(1.0 / (0.2998 * 3.8), rel=1e-12)
    assert helix_radius(1.0, 1) == pytest.approx(R_1GEV, abs=1e-6)
    assert helix_radius(1.0, -1) == pytest.approx(R_1GEV, abs=1e-6)  # |q|
    assert abs(float(helix_radius(1.0, 1)) - 0.8773) < 1e-3  # the number, to 0.1 %
    # pT = 10 GeV, B = 2 T: R = 10 / (0.2998 * 2) = 10 / 0.5996 = 16.6778 m
    assert helix_radius(10.0, 1, b=2.0) == pytest.approx(16.6778, abs=1e-4)
    assert np.isinf(helix_radius(5.0, 0))


def test_helix_center_is_to_the_right_for_positive_charge():
    # Moving along +x (phi = 0): clockwise (q > 0) turns towards -y, so the centre is at
    # (0, -R); anticlockwise (q < 0) at (0, +R).
    assert helix_center(0.0, 0.0, 0.0, 1.0, 1) == pytest.approx([0.0, -R_1GEV], abs=1e-6)
    assert helix_center(0.0, 0.0, 0.0, 1.0, -1) == pytest.approx([0.0, R_1GEV], abs=1e-6)
    # Moving along +y (phi = pi/2), positive: the centre is at (+R, 0).
    assert helix_center(0.0, 0.0, np.pi / 2, 1.0, 1) == pytest.approx([R_1GEV, 0.0], abs=1e-6)


@pytest.mark.parametrize(
    ("pt", "eta", "phi", "q", "origin"),
    [
        (1.0, 0.0, 0.0, 1, (0.0, 0.0, 0.0)),
        (1.0, 0.5, 0.7, -1, (0.001, -0.002, 0.03)),
        (3.0, -1.2, -2.5, 1, (0.0, 0.0, -0.05)),
        (0.6, 2.0, 2.0, -1, (0.0, 0.0, 0.0)),
    ],
)
def test_points_lie_on_the_predicted_circle(pt, eta, phi, q, origin):
    path = one(pt, eta, phi, q, origin)
    assert len(path) > 5
    # Every point of a track that stops at the ECAL stays in the uniform 3.8 T field.
    assert np.all(np.hypot(path[:, 0], path[:, 1]) <= ECAL_ENTRANCE.radius + 1e-9)
    cx, cy = helix_center(origin[0], origin[1], phi, pt, q)
    distance = np.hypot(path[:, 0] - cx, path[:, 1] - cy)
    assert distance == pytest.approx(np.full(len(path), helix_radius(pt, q)), abs=1e-9)


def _turn_z(path: np.ndarray) -> np.ndarray:
    """z of the cross product of successive transverse step vectors."""
    d = np.diff(path[:, :2], axis=0)
    return d[:-1, 0] * d[1:, 1] - d[:-1, 1] * d[1:, 0]


def test_positive_turns_clockwise_negative_anticlockwise():
    assert np.all(_turn_z(one(2.0, 0.3, 1.0, +1)) < 0)
    assert np.all(_turn_z(one(2.0, 0.3, 1.0, -1)) > 0)


@pytest.mark.parametrize("eta", [-1.5, 0.0, 0.8, 2.2])
@pytest.mark.parametrize("phi", [-2.8, 0.3, 1.9])
def test_first_step_goes_outwards_along_phi_and_eta(eta, phi):
    origin = np.array([0.001, 0.002, -0.01])
    path = one(20.0, eta, phi, 1, origin)
    assert path[0] == pytest.approx(origin)
    first = path[1] - path[0]
    expected = np.array([np.cos(phi) / np.cosh(eta), np.sin(phi) / np.cosh(eta), np.tanh(eta)])
    # A 20 GeV track turns by 0.2998 * 3.8 / 20 = 0.057 rad per transverse metre: over one
    # step of <= 5 cm its direction agrees with (phi, eta) to well under a degree.
    assert np.dot(first / np.linalg.norm(first), expected) > 0.9999
    assert np.linalg.norm(first) == pytest.approx(0.05, rel=1e-3)  # one full 3D step


def test_z_advances_by_s_sinh_eta():
    eta, pt, q = 0.9, 1.5, -1
    path = one(pt, eta, 0.4, q)
    cx, cy = helix_center(0.0, 0.0, 0.4, pt, q)
    r = float(helix_radius(pt, q))
    angle = np.unwrap(np.arctan2(path[:, 1] - cy, path[:, 0] - cx))
    s = r * np.abs(angle - angle[0])  # transverse path length along the circle
    assert path[:, 2] == pytest.approx(s * np.sinh(eta), abs=1e-9)


def test_exact_helix_end_point():
    # pT = 2 GeV, q = +1, phi = 0, eta = 0, from the origin: R = 2 / 1.13924 = 1.755556 m,
    # centre (0, -R). The circle meets CMSSW's ECAL entrance r = 1.2752 where
    # x^2 + y^2 = 1.2752^2 and x^2 + (y + R)^2 = R^2, i.e. y = -1.2752^2 / (2R) =
    # -1.626135 / 3.511113 = -0.463140, x = sqrt(1.626135 - 0.214498) = 1.188123.
    end = one(2.0, 0.0, 0.0, 1)[-1]
    assert end == pytest.approx([1.188123, -0.463140, 0.0], abs=1e-6)


def test_energy_loss_in_the_tracker_tightens_the_curve():
    # 1 GeV, eta 0: the tracker (r < 1.16 m) takes 0.0276 GeV per metre of path. The circle of
    # R = 0.877778 m reaches r = 1.16 after s = 2R asin(1.16 / 2R) = 1.267213 m, so pT leaves
    # the tracker at 1 - 0.0276 * 1.267213 = 0.965025 GeV and the last steps (r 1.16-1.2752,
    # no loss) curve with R = 0.965025 / 1.13924 = 0.847078 m.
    assert MATERIAL.tracker == 0.0276
    path = one(1.0, 0.0, 0.0, 1, material=MATERIAL)
    a, b, c = path[-4], path[-3], path[-2]
    ab, bc, ca = np.linalg.norm(b - a), np.linalg.norm(c - b), np.linalg.norm(a - c)
    area = 0.5 * abs((b - a)[0] * (c - a)[1] - (b - a)[1] * (c - a)[0])
    assert ab * bc * ca / (4 * area) == pytest.approx(0.847078, rel=2e-3)
    assert np.hypot(*a[:2]) > 1.16


def test_a_2_gev_muon_stops_in_the_calorimeters_and_a_5_gev_one_reaches_mb1():
    # Inside the coil about 1.5 GeV goes (0.9 GeV/m over 1.66 m), 0.15 GeV more in the coil:
    # CMS's muons need 3-4 GeV to reach the first station (r 4.1 m).
    low = one(2.0, 0.0, 0.3, 1, stop="muon", material=MATERIAL)
    assert np.hypot(low[:, 0], low[:, 1]).max() < 4.0
    high = one(5.0, 0.0, 0.3, 1, stop="muon", material=MATERIAL)
    assert np.hypot(high[:, 0], high[:, 1]).max() > 4.5


def test_high_pt_electrons_end_on_cmssw_s_ecal_entrance():
    barrel = one(50.0, 0.5, 1.0, -1)[-1]
    assert np.hypot(barrel[0], barrel[1]) == pytest.approx(1.2752, abs=1e-9)
    assert abs(barrel[2]) < 3.1681
    # Nearly straight: z at r = 1.2752 is about 1.2752 * sinh(0.5) = 0.6645 m.
    assert barrel[2] == pytest.approx(0.6645, abs=1e-3)
    forward = one(50.0, 2.5, 1.0, -1)[-1]
    assert forward[2] == pytest.approx(3.1681, abs=1e-9)
    backward = one(50.0, -2.5, 1.0, 1)[-1]
    assert backward[2] == pytest.approx(-3.1681, abs=1e-9)


def test_muons_reach_the_muon_system_and_bend_back_in_the_yoke():
    path = one(20.0, 0.3, 0.0, 1, stop="muon")
    end = path[-1]
    # The stop is the MB4 chambers' outer faces: 7.393 m along the nearest sector's normal.
    assert MUON_SYSTEM_END.transverse(end[:1], end[1:2])[0] == pytest.approx(7.393, abs=1e-9)
    r = np.hypot(path[:, 0], path[:, 1])
    turn = _turn_z(path)
    r_mid = r[1:-1]  # the turn at point i uses the steps either side of it
    inner = (r_mid > 0.1) & (r_mid < FIELD.coil_radius - 0.1)
    gap = (r_mid > FIELD.coil_radius + 0.1) & (r_mid < FIELD.yoke_rmin - 0.1)
    yoke = (r_mid > FIELD.yoke_rmin + 0.1) & (r_mid < FIELD.yoke_rmax - 0.1)
    assert inner.sum() > 10 and yoke.sum() > 10 and gap.sum() > 3
    assert np.all(turn[inner] < 0)  # +3.8 T: clockwise for a positive muon
    assert np.all(turn[gap] < 0)  # +1.78 T across coil and cryostat: still clockwise
    assert np.all(turn[yoke] > 0)  # -0.64 T: anticlockwise
    forward = one(20.0, 2.0, 0.0, -1, stop="muon")[-1]
    assert forward[2] == pytest.approx(MUON_SYSTEM_END.half_length, abs=1e-9)


def test_low_pt_looper_stops_after_half_a_turn():
    # pT = 0.5 GeV: R = 0.5 / 1.13924 = 0.438889 m; 2R = 0.8778 m < 1.29 m, so it never
    # reaches the ECAL. After half a turn it is at its farthest point, 2R from the start,
    # moving backwards.
    path = one(0.5, 0.0, 0.0, 1)
    r = np.hypot(path[:, 0], path[:, 1])
    assert r.max() == pytest.approx(2 * 0.438889, abs=1e-5)
    assert r[-1] == pytest.approx(2 * 0.438889, abs=1e-5)
    last = path[-1] - path[-2]
    assert last[0] < 0  # heading back towards -x after turning by pi
    assert path[-1] == pytest.approx([0.0, -2 * 0.438889, 0.0], abs=1e-5)


def test_neutral_straight_and_invalid_single_point():
    paths = propagate(
        [10.0, 0.0, np.nan, 5.0],
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [0, 1, 1, 1],
        [[0, 0, 0], [0, 0, 0], [0, 0, 0], [2.0, 0, 0]],  # the last starts outside the ECAL
    )
    neutral = paths[0]
    assert np.allclose(neutral[:, 1:], 0.0)
    assert neutral[-1, 0] == pytest.approx(1.2752, abs=1e-9)
    assert [len(p) for p in paths[1:]] == [1, 1, 1]
    assert propagate([], [], [], [], np.zeros((0, 3))) == []
    with pytest.raises(ValueError, match="unknown stop"):
        propagate([1.0], [0.0], [0.0], [1], [[0, 0, 0]], "hcal")


def test_per_particle_stops():
    ecal, muon = propagate(
        [30.0, 30.0], [0.0, 0.0], [0.0, 1.0], [1, 1], np.zeros((2, 3)), ["ecal", "muon"]
    )
    assert np.hypot(*ecal[-1, :2]) == pytest.approx(1.2752, abs=1e-9)
    assert MUON_SYSTEM_END.transverse(muon[-1:, 0], muon[-1:, 1]) == pytest.approx(7.393)
    assert np.hypot(*muon[-1, :2]) > 7.393  # phi 1 rad is 3 degrees off the sector normal


def test_field_model():
    # Inner, inner, falling, gap, gap, yoke, yoke, outside, endcap, endcap, beyond ME4. At
    # |z| = 3 m the field has fallen over (3 - 1.52) / (6.3 - 1.52) = 1.48 / 4.78 of the way
    # from 3.8 to 2.09 T: 3.8 - 1.71 * 0.309623 = 3.270544 T.
    x = np.array([0.0, 2.9, 0.0, 3.0, 3.5, 5.0, 7.3, 7.5, 0.0, 5.0, 0.0])
    z = np.array([0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0, 6.7, 11.0])
    assert field_bz(x, np.zeros_like(x), z) == pytest.approx(
        [3.8, 3.8, 3.270544, 1.78, 1.78, -0.64, -0.64, 0.0, -3.74, -3.74, 0.0]
    )
    assert field_bz(x, np.zeros_like(x), -z) == pytest.approx(field_bz(x, np.zeros_like(x), z))


def test_polygonal_boundary_measures_along_the_nearest_face_normal():
    b = Boundary(7.0, 10.0, sides=12)
    # On a face normal (phi 0, 30 degrees) the distance is r; halfway between two normals
    # (phi 15 degrees) it is r cos 15 degrees = 0.965926 r.
    x = np.array([7.0, 7.0 * np.cos(np.pi / 6), 7.0 * np.cos(np.pi / 12)])
    y = np.array([0.0, 7.0 * np.sin(np.pi / 6), 7.0 * np.sin(np.pi / 12)])
    assert b.transverse(x, y) == pytest.approx([7.0, 7.0, 6.761481])
    assert Boundary(7.0, 10.0).transverse(x, y) == pytest.approx([7.0, 7.0, 7.0])


def test_line_exit_distance():
    origin = np.zeros((3, 3))
    directions = np.array([[1.0, 0, 0], [0, 0, -1.0], [np.sqrt(0.5), 0, np.sqrt(0.5)]])
    # Along x: 1.2752. Along -z: 3.1681. At 45 degrees: r reaches 1.2752 at t = 1.2752 *
    # sqrt(2) = 1.803405 before z reaches 3.1681 (at t = 4.4803).
    assert line_exit_distance(origin, directions, ECAL_ENTRANCE) == pytest.approx(
        [1.2752, 3.1681, 1.803405], abs=1e-6
    )
    offset = line_exit_distance([[0.5, 0, 0.2]], [[-1.0, 0, 0]], Boundary(1.0, 1.0))
    assert offset == pytest.approx([1.5])


def test_thousands_of_particles_at_once_are_each_propagated_as_alone():
    """propagate() works on all particles at once (its speed is measured by
    benchmarks/bench_render.py, not here: a timed test fails on a busy machine); each curve
    must be the one that particle gets on its own."""
    rng = np.random.default_rng(7)
    n = 3000
    args = (
        rng.exponential(3.0, n) + 0.5,
        rng.uniform(-2.5, 2.5, n),
        rng.uniform(-np.pi, np.pi, n),
        rng.choice([-1.0, 1.0], n),
        rng.normal(0.0, 0.001, (n, 3)),
    )
    paths = propagate(*args)
    assert len(paths) == n
    for i in rng.choice(n, 40, replace=False):
        (alone,) = propagate(*(a[i : i + 1] for a in args))
        np.testing.assert_allclose(paths[i], alone, rtol=0, atol=1e-12)


def test_the_step_lookup_grid_gives_the_field_and_loss_of_the_regions():
    """propagate looks Bz and the energy loss up by a cell of an (r, |z|) grid: the same
    values, bit for bit, as the field's and material's regions, at random points, on every
    edge of the grid and just either side of it."""
    from ispyrender.physics.cms_dimensions import FIELD, MATERIAL
    from ispyrender.physics.trajectories import _region_grid

    grid = _region_grid(FIELD, MATERIAL)
    rng = np.random.default_rng(7)
    near_r = np.concatenate([[0.0], grid.r_edges, np.nextafter(grid.r_edges, 0)])
    near_z = np.concatenate([[0.0], grid.z_edges, np.nextafter(grid.z_edges, 0)])
    edge_r, edge_z = (a.ravel() for a in np.meshgrid(near_r, near_z))
    r = np.concatenate([rng.uniform(0, 12, 100_000), edge_r])
    az = np.concatenate([rng.uniform(0, 14, 100_000), edge_z])
    regions = FIELD.regions(r, az)
    cells = grid.cells(r, az)
    assert np.array_equal(grid.bz_at(cells, az), FIELD.bz_in(az, regions))
    assert grid.loss is not None
    assert np.array_equal(grid.loss[cells], MATERIAL.loss_in(r, az, regions))
    # Each of the field's values and the coil's ends' slope occur.
    assert set(np.unique(grid.bz)) >= {FIELD.inner, FIELD.gap, FIELD.yoke, FIELD.endcap}
    assert grid.falling.any()
