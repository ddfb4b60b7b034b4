"""Projected views: CMS orientation conventions, detector cross-sections, and one image
regression per view (rho-phi, rho-z, lego) on built-in sample events."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from figure_cases import DIPHOTON, TTBAR, sample_event, style_for, update_option
from image_compare import check_image
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from PIL import Image

from ispyrender.figures.encode import render_figure_bytes
from ispyrender.figures.layout import FigureContent
from ispyrender.figures.projections import (
    Paint,
    csc_rings_rho_z,
    draw_event_rho_phi,
    draw_event_rho_z,
    muon_chambers_rho_phi,
    muon_chambers_rho_z,
    rho_z_points,
)
from ispyrender.physics.cms_dimensions import CSC_RINGS, DT_WHEELS, dt_chambers
from ispyrender.scene.primitives import Appearance, Arrows, Cones, Polylines, Scene

RED = Appearance(color=(1.0, 0.0, 0.0), line_width=2.0)


@pytest.fixture
def update(request: pytest.FixtureRequest) -> bool:
    return update_option(request)


def _axes():  # type: ignore[no-untyped-def]
    return Figure().add_subplot()  # the Axes keeps its Figure alive


def _track(*points: tuple[float, float, float]) -> Scene:
    scene = Scene()
    scene.add(Polylines("Muon", (np.array(points, dtype=float),), RED))
    return scene


# ---- conventions ------------------------------------------------------------------------------


def test_rho_z_sign_follows_y_and_breaks_at_the_crossing() -> None:
    pts = np.array([[0.0, 1.0, 0.5], [3.0, 4.0, 1.0], [1.0, -1.0, 2.0], [0.0, -2.0, 3.0]])
    out = rho_z_points(pts)
    # (z, +rho) for y >= 0 and (z, -rho) for y < 0; where y changes sign the line ends at the
    # crossing (here at 80% of the way from (3, 4, 1) to (1, -1, 2): x = 1.4, z = 1.8) and
    # starts again from the mirrored point below the beam.
    np.testing.assert_allclose(out[0], [0.5, 1.0])
    np.testing.assert_allclose(out[1], [1.0, 5.0])
    np.testing.assert_allclose(out[2], [1.8, 1.4])
    assert np.isnan(out[3]).all()
    np.testing.assert_allclose(out[4], [1.8, -1.4])
    np.testing.assert_allclose(out[5], [2.0, -np.sqrt(2.0)])
    np.testing.assert_allclose(out[6], [3.0, -2.0])
    assert len(out) == 7


def test_rho_z_line_from_a_vertex_just_above_the_beam_keeps_its_length() -> None:
    out = rho_z_points(np.array([[0.0, 1e-5, 0.0], [0.0, -1.2, 1.0]]))
    assert np.nanmin(out[:, 1]) == pytest.approx(-1.2)
    assert out[-1].tolist() == [1.0, -1.2]


def test_rho_phi_is_x_right_y_up() -> None:
    ax = _axes()
    draw_event_rho_phi(ax, _track((0, 0, 0), (1.0, 2.0, 3.0)), Paint())
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    # The drawn coordinates are the track's own x and y: no mirror, no rotation.
    np.testing.assert_allclose(lines.get_segments()[0], [[0, 0], [1.0, 2.0]])


def test_rho_z_puts_negative_y_below_the_beam() -> None:
    ax = _axes()
    draw_event_rho_z(ax, _track((0, 0, 0), (0.0, -3.0, 4.0)), Paint())
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segment = lines.get_segments()[0]
    np.testing.assert_allclose(segment[-1], [4.0, -3.0])
    assert np.nanmax(segment[:, 1]) == pytest.approx(0.0)  # nothing above the beam


def test_jet_wedges_point_along_the_jet_in_both_projections() -> None:
    scene = Scene()
    theta = np.radians(60.0)  # eta = 0.549
    axis = np.array([[0.0, -np.sin(theta), np.cos(theta)]])  # phi = -90 degrees: y < 0
    scene.add(Cones("Jet", np.zeros((1, 3)), axis, np.array([2.0]), np.array([0.1]), RED))
    ax = _axes()
    draw_event_rho_phi(ax, scene, Paint())
    (wedge,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    verts = wedge.get_paths()[0].vertices
    tip = verts[np.argmax(np.hypot(verts[:, 0], verts[:, 1]))]
    assert tip[1] < 0 and abs(tip[0]) < 0.3 * abs(tip[1])  # straight down
    # Projected length: 2 m x sin(60 deg).
    assert np.hypot(*tip) == pytest.approx(2.0 * np.sin(theta), rel=1e-6)
    ax = _axes()
    draw_event_rho_z(ax, scene, Paint())
    (wedge,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    verts = wedge.get_paths()[0].vertices
    middle = verts[1 + len(verts[1:]) // 2]
    # Along +z at 60 degrees from the beam, below it (y < 0).
    assert middle[0] == pytest.approx(2.0 * np.cos(theta), abs=0.01)
    assert middle[1] == pytest.approx(-2.0 * np.sin(theta), abs=0.01)


def test_met_arrow_only_in_the_transverse_view() -> None:
    scene = Scene()
    scene.add(Arrows("MET", np.zeros((1, 3)), np.array([[0.0, 1.5, 0.0]]), RED))
    ax = _axes()
    draw_event_rho_phi(ax, scene, Paint())
    (arrow,) = ax.patches
    ys = arrow.get_path().vertices[:, 1]
    assert ys.max() == pytest.approx(1.5, abs=1e-6)  # up: phi = 90 degrees
    ax = _axes()
    draw_event_rho_z(ax, scene, Paint())
    assert not ax.patches and not ax.collections


def test_muon_chambers_cross_sections() -> None:
    rho_phi = muon_chambers_rho_phi()
    assert len(rho_phi) == 3 * 12 + 14  # MB1-3 in 12 sectors, MB4 in 14
    # MB1 of sector 1 faces +x: 4.136-4.499 m out, from y = -0.697 to +1.483 m.
    first = rho_phi[0]
    assert (first[:, 0].min(), first[:, 0].max()) == pytest.approx((4.136, 4.499))
    assert (first[:, 1].min(), first[:, 1].max()) == pytest.approx((-0.697, 1.483))
    rho_z = muon_chambers_rho_z()
    assert len(rho_z) == len(DT_WHEELS) * 4 * 2  # wheels x stations, above and below
    mb4 = [c for c in dt_chambers() if c.station == 4]
    assert max(p[:, 1].max() for p in rho_z) == pytest.approx(max(c.r_out for c in mb4))
    rings = csc_rings_rho_z()
    assert len(rings) == len(CSC_RINGS) * 4
    assert max(p[:, 0].max() for p in rings) == pytest.approx(10.463)


def test_eps_paint_blends_onto_the_background() -> None:
    assert Paint((1.0, 1.0, 1.0))((0.0, 0.0, 1.0), 0.25) == (0.75, 0.75, 1.0, 1.0)
    assert Paint()((0.0, 0.0, 1.0), 0.25) == (0.0, 0.0, 1.0, 0.25)


# ---- images ------------------------------------------------------------------------------------


def _one_view(view: str, index: int, extent: str = "null") -> np.ndarray:
    style = style_for(
        "canvas.width=360",
        "canvas.height=330",
        "figure.rows=1",
        "figure.columns=1",
        f"figure.panels=[{{view: {view}, extent: {extent}}}]",
    )
    event, scene = sample_event(index)
    data = render_figure_bytes(FigureContent(event, scene, {}), style, ["png"], 1.0, {})
    return np.asarray(Image.open(io.BytesIO(data["png"])).convert("RGB"))


@pytest.mark.parametrize(
    ("name", "view", "index", "extent"),
    [
        ("view_rho_phi", "rho_phi", TTBAR, "null"),
        ("view_rho_phi_tracker", "rho_phi", TTBAR, "1.8"),
        ("view_rho_z", "rho_z", TTBAR, "null"),
        ("view_rho_z_photons", "rho_z", DIPHOTON, "4.0"),
        ("view_lego", "lego", TTBAR, "null"),
    ],
)
def test_view_images(name: str, view: str, index: int, extent: str, update: bool) -> None:
    with matplotlib.rc_context():
        image = _one_view(view, index, extent)
    check_image(name, image, update)
