"""Projected views: CMS orientation conventions, detector cross-sections, and one image
regression per view (rho-phi, rho-z, lego) on built-in sample events."""

from __future__ import annotations

import io
from pathlib import Path

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
    rho_z_path,
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


def test_rho_z_points_take_the_sign_of_their_own_y() -> None:
    out = rho_z_points(np.array([[3.0, 4.0, 1.0], [1.0, -1.0, 2.0], [0.0, 0.0, 3.0]]))
    np.testing.assert_allclose(out, [[1.0, 5.0], [2.0, -np.sqrt(2.0)], [3.0, 0.0]])


def test_a_track_stays_on_the_side_of_its_direction_at_the_vertex() -> None:
    # Starts upwards, bends across y = 0: the whole track is drawn above the beam line, each
    # point at its own rho, with no break.
    pts = np.array([[0.0, 0.0, 0.5], [3.0, 4.0, 1.0], [1.0, -1.0, 2.0], [0.0, -2.0, 3.0]])
    out = rho_z_path(pts)
    np.testing.assert_allclose(out, [[0.5, 0.0], [1.0, 5.0], [2.0, np.sqrt(2.0)], [3.0, 2.0]])
    # A vertex just above y = 0 with the track heading down: below the beam, whole.
    out = rho_z_path(np.array([[0.0, 1e-5, 0.0], [0.0, -1.2, 1.0]]))
    assert np.all(out[1:, 1] < 0) and out[-1].tolist() == [1.0, -1.2]


def test_no_track_of_the_shared_ig_files_is_split_in_rho_z(shared_data: Path) -> None:
    """Every track of both iSpy files, as the rho-z panel draws it: one unbroken line on one
    side of the beam line (the 2012 file has a 4 GeV muon at phi -3.10 that crosses y = 0)."""
    from ispyrender.config.loader import load_style
    from ispyrender.physics import EventBuilder
    from ispyrender.scene.event import build_scene
    from ispyrender.sources import open_source

    style = load_style("publication")
    crossing = 0
    for name in ("Hto4l_120-130GeV.ig", "DoubleElectron_Run2012C_0.ig"):
        with open_source([str(shared_data / "ig" / name)]) as source:
            for physics in EventBuilder(source, style).events(range(min(len(source), 5))):
                for prim in build_scene(physics, style).primitives:
                    if not isinstance(prim, Polylines):
                        continue
                    for path in prim.paths:
                        out = rho_z_path(path)
                        assert np.isfinite(out).all() and len(out) == len(path)
                        rho = out[1:, 1]
                        assert (rho >= 0).all() or (rho <= 0).all()
                        crossing += bool((path[:, 1] > 0.01).any() and (path[:, 1] < -0.01).any())
    assert crossing > 0  # the files do hold tracks that cross y = 0


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


def test_rho_phi_shows_no_endcap_hit_or_chamber_over_the_barrel(shared_data: Path) -> None:
    """Every cell the rho-phi panel draws for both iSpy files lies outside the ECAL barrel's
    inner radius: the endcaps' hits (EE, ES, HE, HF) and CSCs, which would lie across the
    tracker and the barrel, are left out; every barrel hit and DT chamber is drawn."""
    from ispyrender.config.loader import load_style
    from ispyrender.physics import EventBuilder
    from ispyrender.physics.cms_dimensions import ECAL_BARREL
    from ispyrender.scene.event import build_scene
    from ispyrender.scene.primitives import Hexahedra
    from ispyrender.sources import open_source

    style = load_style("publication")
    left_out = drawn = 0
    for name in ("Hto4l_120-130GeV.ig", "DoubleElectron_Run2012C_0.ig"):
        with open_source([str(shared_data / "ig" / name)]) as source:
            for physics in EventBuilder(source, style).events(range(len(source))):
                scene = build_scene(physics, style)
                cells = [p for p in scene.primitives if isinstance(p, Hexahedra)]
                ax = _axes()
                draw_event_rho_phi(ax, scene, Paint())
                polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
                shown = [v for c in polys if c.get_zorder() == 2 for v in c.get_paths()]
                expected = sum(int(p.barrel.sum()) if p.barrel is not None else 0 for p in cells)
                assert len(shown) == expected
                for path in shown:
                    rho = np.hypot(path.vertices[:, 0], path.vertices[:, 1])
                    assert rho.min() >= ECAL_BARREL.rmin - 0.01
                drawn += expected
                left_out += sum(int((~p.barrel).sum()) for p in cells if p.barrel is not None)
    assert drawn > 0 and left_out > 0


def test_the_transverse_preset_draws_the_barrel_hits_and_chambers_only(
    shared_data: Path,
) -> None:
    from ispyrender.config.loader import load_style
    from ispyrender.physics import EventBuilder
    from ispyrender.scene.event import build_scene
    from ispyrender.scene.primitives import Hexahedra
    from ispyrender.sources import open_source

    style = load_style("transverse")
    with open_source([str(shared_data / "ig" / "Hto4l_120-130GeV.ig")]) as source:
        events = list(EventBuilder(source, style).events(range(len(source))))
    mixed = [
        e
        for e in events
        if e.chambers is not None
        and e.chambers.barrel is not None
        and e.chambers.barrel.any()
        and not e.chambers.barrel.all()
    ]
    assert mixed  # events with both DT and CSC chambers
    for physics in mixed:
        scene = build_scene(physics, style)
        for cells in (p for p in scene.primitives if isinstance(p, Hexahedra)):
            assert cells.barrel is not None and cells.barrel.all()
        counts = {e.key: e.count for e in scene.legend}
        assert counts["muon_chambers"] == int(physics.chambers.barrel.sum())


def test_the_scale_goes_where_the_event_leaves_room() -> None:
    """The 1 m axis cross of a projected panel takes the first free corner: a track through
    the lower left sends it to the lower right; with the event elsewhere it stays lower left."""
    from ispyrender.figures.projections import RHO_Z_EXTENT, projected_points, scale_corner

    through_lower_left = _track((0, 0, 0), (0.0, -7.2, -10.5))
    occupied = projected_points(through_lower_left, transverse=False)
    x0, y0 = scale_corner(RHO_Z_EXTENT, 7.9, occupied)
    assert x0 > 0 and y0 < 0
    elsewhere = _track((0, 0, 0), (0.0, 3.0, 4.0))
    x0, y0 = scale_corner(RHO_Z_EXTENT, 7.9, projected_points(elsewhere, transverse=False))
    assert x0 < 0 and y0 < 0
