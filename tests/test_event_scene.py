"""Physics objects -> primitives: cones, clipping, photons, MET, legend; real files end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ispyrender.config.style import EnergyScale, Style, parse_color
from ispyrender.physics.cms_dimensions import MUON_SYSTEM_END, WHOLE_DETECTOR
from ispyrender.physics.nanoaod import branch_plan, build_event
from ispyrender.physics.objects import Jets, Met, Photons, PhysicsEvent, Tracks, Vertices
from ispyrender.scene.event import (
    build_scene,
    cone_half_angle,
    direction,
    energy_lengths,
    event_energy_scale,
    max_cone_length,
)
from ispyrender.scene.primitives import Arrows, Cones, Polylines, Spheres, Towers


def event(**kw) -> PhysicsEvent:
    return PhysicsEvent(run=1, lumi=1, event=1, index=0, source="x", is_simulation=False, **kw)


def jets(key: str, branch: str, eta, phi, energy, radius: float, origin=(0.0, 0.0, 0.0)) -> Jets:
    eta = np.asarray(eta, dtype=float)
    return Jets(
        key,
        branch,
        np.asarray(energy) / np.cosh(eta),
        eta,
        np.asarray(phi, float),
        np.asarray(energy, float),
        radius,
        np.asarray(origin, float),
    )


def only(scene, kind, group=None):
    found = [p for p in scene.primitives if isinstance(p, kind) and group in (None, p.group)]
    assert len(found) == 1, found
    return found[0]


def test_direction_is_sin_theta_cos_phi():
    # eta = 0.5: theta = 2 atan(exp(-0.5)) = 2 * 0.545208 = 1.090415 rad,
    # sin theta = 0.886819 (= 1 / cosh 0.5), cos theta = 0.462117 (= tanh 0.5).
    # phi = 1.0: cos 1 = 0.540302, sin 1 = 0.841471.
    d = direction(np.array([0.5]), np.array([1.0]))[0]
    theta = 2 * np.arctan(np.exp(-0.5))
    assert theta == pytest.approx(1.090415, abs=1e-6)
    assert d == pytest.approx([0.886819 * 0.540302, 0.886819 * 0.841471, 0.462117], abs=1e-6)
    assert d == pytest.approx(
        [np.sin(theta) * np.cos(1.0), np.sin(theta) * np.sin(1.0), np.cos(theta)], abs=1e-12
    )


def test_cone_axis_half_angle_and_length_on_the_energy_scale():
    style = Style()
    style.energy_scale = EnergyScale(mode="fixed", metres_per_gev=0.02, max_length=2.5)
    scene = build_scene(
        event(jets=[jets("jets", "Jet", [0.0, 1.0], [0.3, -2.0], [50, 80], 0.4)]), style
    )
    cones = only(scene, Cones, "Jet")
    assert cones.axis == pytest.approx(direction(np.array([0.0, 1.0]), np.array([0.3, -2.0])))
    # Half-angle R sin(theta): 0.4 at eta = 0; 0.4 / cosh(1) = 0.4 / 1.543081 = 0.259222.
    assert cones.half_angle == pytest.approx([0.4, 0.259222], abs=1e-6)
    # Lengths follow E_T = pT: 50 GeV x 0.02 = 1.0 m; 80 / cosh(1) = 51.84434 GeV -> 1.036887 m.
    assert cones.length == pytest.approx([1.0, 1.036887], abs=1e-6)
    assert cones.apex == pytest.approx(np.zeros((2, 3)))
    assert cones.look.color == parse_color(style.collections.jets.color)
    assert cones.look.opacity == style.collections.jets.opacity
    assert cones.look.edge_color == parse_color(style.collections.jets.color)
    assert scene.metres_per_gev == pytest.approx(0.02)
    assert cone_half_angle(np.array([0.0]), 1.5) == pytest.approx([1.0])  # capped


def test_the_energy_scale_separates_20_100_and_1000_gev():
    """One linear scale for an event: "combined" shrinks it so the largest object is
    max_length long; "fixed" keeps it and caps lengths instead."""
    et = np.array([20.0, 100.0, 1000.0])
    combined = EnergyScale(mode="combined", metres_per_gev=0.02, max_length=2.5)
    k = event_energy_scale([et], combined)
    # 1000 GeV x 0.02 = 20 m > 2.5 m: k = 2.5 / 1000 = 0.0025 m/GeV.
    assert k == pytest.approx(0.0025)
    assert energy_lengths(et, k, combined) == pytest.approx([0.05, 0.25, 2.5])
    # An event whose largest object fits keeps the style's scale.
    assert event_energy_scale([np.array([20.0, 100.0])], combined) == pytest.approx(0.02)
    fixed = EnergyScale(mode="fixed", metres_per_gev=0.02, max_length=2.5)
    assert energy_lengths(et, 0.02, fixed) == pytest.approx([0.4, 2.0, 2.5])
    assert event_energy_scale([], combined) is None


def test_cones_are_clipped_inside_the_calorimeters():
    # Central jet, R = 0.4 at eta = 0: the top generator (polar angle 90 deg) has length
    # L / cos(0.4) and must end at HB's outer radius r = 2.8908: L = 2.8908 * cos(0.4) =
    # 2.8908 * 0.921061 = 2.662603.
    # Forward jet at eta = 2.5: theta = 2 atan(exp(-2.5)) = 0.163803, half-angle
    # 0.4 / cosh(2.5) = 0.4 / 6.132289 = 0.065229; the generator closest to the beam
    # (0.098574 rad) reaches the HE back face first: L = 5.493 cos(0.065229) / cos(0.098574)
    # = 5.493 * 0.997873 / 0.995145 = 5.508057.
    eta = np.array([0.0, 2.5, -2.5])
    half = cone_half_angle(eta, 0.4)
    limit = max_cone_length(np.zeros((3, 3)), eta, half)
    assert limit == pytest.approx([2.662603, 5.508057, 5.508057], abs=1e-5)

    style = Style()
    style.energy_scale = EnergyScale(mode="fixed", metres_per_gev=1.0, max_length=20.0)
    phis = np.linspace(-3, 3, 7)
    etas = np.linspace(-3.0, 3.0, 7)
    origin = (0.001, -0.001, 0.05)
    scene = build_scene(
        event(jets=[jets("jets", "Jet", etas, phis, np.full(7, 100.0), 0.4, origin)]), style
    )
    cones = only(scene, Cones, "Jet")
    # Every rim point lies inside r <= 2.8908, |z| <= 5.493 (HB's outer face, HE's back).
    for apex, axis, length, a in zip(
        cones.apex, cones.axis, cones.length, cones.half_angle, strict=True
    ):
        u = np.cross(axis, [0.0, 0.0, 1.0] if abs(axis[2]) < 0.9 else [1.0, 0.0, 0.0])
        u /= np.linalg.norm(u)
        v = np.cross(axis, u)
        t = np.linspace(0, 2 * np.pi, 721)
        rim = (
            apex
            + axis * length
            + length * np.tan(a) * (np.cos(t)[:, None] * u + np.sin(t)[:, None] * v)
        )
        assert np.hypot(rim[:, 0], rim[:, 1]).max() <= 2.8908 + 1e-9
        assert np.abs(rim[:, 2]).max() <= 5.493 + 1e-9
        # ...and touches the envelope (the clip is tight, not just safe).
        assert (np.hypot(rim[:, 0], rim[:, 1]).max() > 2.88) or (np.abs(rim[:, 2]).max() > 5.48)


def test_fat_jets_and_taus_are_drawn_with_their_radii():
    style = Style()
    scene = build_scene(
        event(
            jets=[
                jets("fatjets", "FatJet", [0.0], [1.0], [400.0], 0.8),
                jets("taus", "Tau", [0.0], [2.0], [40.0], 0.1),
            ]
        ),
        style,
    )
    fat = only(scene, Cones, "FatJet")
    assert fat.half_angle == pytest.approx([0.8])
    assert fat.look.color == parse_color(style.collections.fatjets.color)
    tau = only(scene, Cones, "Tau")
    assert tau.half_angle == pytest.approx([0.1])
    assert [(e.label, e.count) for e in scene.legend] == [("Taus", 1), ("Fat jets", 1)]


def test_photons_line_to_ecal_face_and_tower():
    style = Style()
    style.energy_scale = EnergyScale(mode="fixed", metres_per_gev=0.01, max_length=2.5)
    # Photon at eta = 0, phi = pi/2 from the PV (0, 0, 0.01): CMSSW's ECAL entrance at
    # (0, 1.2752, 0.01). E_T = 60 GeV -> tower 0.01 * 60 = 0.6 m long along +y.
    # Forward photon at eta = 3 from the same PV: z reaches 3.1681 at t = 3.1581 / tanh(3)
    # = 3.1581 / 0.995055 = 3.173795, r there = t / cosh(3) = 3.173795 / 10.067662 = 0.315246.
    photons = Photons(
        "photons",
        "Photon",
        np.array([60.0, 20.0]),
        np.array([0.0, 3.0]),
        np.array([np.pi / 2, 0.0]),
        np.array([60.0, 20.0 * np.cosh(3.0)]),
        np.array([0.0, 0.0, 0.01]),
    )
    scene = build_scene(event(photons=photons), style)
    lines = only(scene, Polylines, "Photon")
    assert lines.paths[0] == pytest.approx(np.array([[0, 0, 0.01], [0, 1.2752, 0.01]]), abs=1e-9)
    assert lines.paths[1][-1] == pytest.approx([0.315246, 0.0, 3.1681], abs=1e-6)
    towers = only(scene, Towers, "Photon")
    assert towers.base[0] == pytest.approx([0, 1.2752, 0.01], abs=1e-9)
    assert towers.axis[0] == pytest.approx([0, 1, 0], abs=1e-12)
    assert towers.length[0] == pytest.approx(0.6)
    assert towers.width == pytest.approx([0.08, 0.08])
    assert [(e.label, e.count) for e in scene.legend] == [("Photons", 2)]


def test_met_arrow_direction_and_length():
    style = Style()
    style.energy_scale = EnergyScale(mode="fixed", metres_per_gev=0.02, max_length=3.0)
    # 100 GeV along phi = pi/2: 0.02 * 100 = 2 m along +y, from the beam line at z = 0.
    arrow = only(build_scene(event(met=Met("MET", 100.0, np.pi / 2)), style), Arrows)
    assert arrow.start == pytest.approx(np.zeros((1, 3)))
    assert arrow.vector == pytest.approx(np.array([[0.0, 2.0, 0.0]]), abs=1e-12)
    # 400 GeV along phi = pi: 8 m, capped at 3 m along -x.
    scene = build_scene(event(met=Met("PuppiMET", 400.0, np.pi)), style)
    arrow = only(scene, Arrows)
    assert arrow.vector == pytest.approx(np.array([[-3.0, 0.0, 0.0]]), abs=1e-12)
    assert arrow.group == "PuppiMET"
    assert [e.label for e in scene.legend] == ["PuppiMET"]


def test_tracks_vertices_and_legend_only_for_drawn():
    style = Style()
    style.collections.muons.label = "My muons"
    muons = Tracks(
        "muons",
        "Muon",
        np.array([30.0, 5.0]),
        np.array([0.2, -0.4]),
        np.array([0.0, 2.0]),
        np.array([1.0, -1.0]),
        np.zeros((2, 3)),
        np.array(["muon", "muon"]),
    )
    electrons = Tracks(
        "electrons",
        "Electron",
        np.zeros(0),
        np.zeros(0),
        np.zeros(0),
        np.zeros(0),
        np.zeros((0, 3)),
        np.zeros(0, dtype="<U4"),
    )
    vertices = [
        Vertices("vertices", "PV", np.array([[0.0, 0.0, 0.01]])),
        Vertices("secondary_vertices", "SV", np.zeros((0, 3))),
    ]
    scene = build_scene(event(tracks=[muons, electrons], vertices=vertices), style)
    lines = only(scene, Polylines, "Muon")
    assert len(lines.paths) == 2
    ends = np.array([p[-1] for p in lines.paths])
    assert MUON_SYSTEM_END.transverse(ends[:, 0], ends[:, 1]) == pytest.approx([7.393, 7.393])
    assert lines.look.line_width == style.collections.muons.line_width
    spheres = only(scene, Spheres, "PV")
    assert spheres.radius == style.collections.vertices.radius
    assert [(e.label, e.count) for e in scene.legend] == [("My muons", 2), ("Primary vertex", 1)]


def test_scenes_from_every_shared_file(shared_data: Path):
    """Smoke test: the first 3 events of each real file, through the real reader."""
    from ispyrender.sources.nanoaod import Dataset

    style = Style()
    style.collections.genparts.show = True
    files = sorted((shared_data / "nanoaod").glob("*.root"))
    assert files
    drawn = 0
    for path in files:
        with Dataset([str(path)]) as dataset:
            plan = branch_plan(style, dataset.available_branches())
            entries = list(range(min(3, len(dataset))))
            for record in dataset.iter_events(entries, plan.branches):
                physics = build_event(record, style, plan)
                scene = build_scene(physics, style)
                drawn += len(scene.primitives)
                for prim in scene.primitives:
                    if isinstance(prim, Polylines):
                        for p in prim.paths:
                            assert np.all(np.isfinite(p)) and len(p) >= 2
                            assert np.hypot(p[:, 0], p[:, 1]).max() <= WHOLE_DETECTOR.radius
                            assert np.abs(p[:, 2]).max() <= WHOLE_DETECTOR.half_length + 1e-9
                    if isinstance(prim, Cones):
                        assert np.all(prim.length >= 0) and np.all(np.isfinite(prim.length))
                # Legend entries only for collections with something drawn.
                assert all(entry.count > 0 for entry in scene.legend)
                assert len(scene.legend) == len({entry.label for entry in scene.legend})
    assert drawn > 0
