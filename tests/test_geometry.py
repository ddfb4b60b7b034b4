"""The detector primitives against CMS's dimensions (see tests/test_cmssw_reference.py for the
dimensions themselves measured against an iSpy file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ispyrender.config.style import Detector, parse_color
from ispyrender.physics import cms_dimensions as cms
from ispyrender.scene.detector import build_detector
from ispyrender.scene.primitives import Boxes, Hexahedra, Tube


def tubes(parts, group: str) -> list[Tube]:
    return sorted(
        (p for p in parts if p.group == group and isinstance(p, Tube)), key=lambda t: t.zmin
    )


def one(parts, group: str, kind: type):
    (found,) = [p for p in parts if p.group == group and isinstance(p, kind)]
    return found


def test_calorimeters_solenoid_and_tracker_dimensions():
    parts = build_detector(Detector())
    (ecal,) = tubes(parts, "ecal_barrel")
    assert (ecal.rmin, ecal.rmax, ecal.zmin, ecal.zmax) == (1.290, 1.524, -2.912, 2.912)
    minus, plus = tubes(parts, "ecal_endcap")
    assert (plus.rmin, plus.rmax, plus.zmin, plus.zmax) == (0.326, 1.609, 3.174, 3.445)
    assert (minus.zmin, minus.zmax) == (-3.445, -3.174)
    (sol,) = tubes(parts, "solenoid")
    assert (sol.rmin, sol.rmax, sol.zmax) == (2.95, 3.80, 6.3)
    (pipe,) = tubes(parts, "beam_pipe")
    assert pipe.rmax == 0.022 and pipe.zmax == 3.0
    (tracker,) = tubes(parts, "tracker")
    assert (tracker.rmax, tracker.zmax) == (1.16, 2.80)


def test_hcal_barrel_is_18_wedges_a_side_with_slanted_ends():
    hb = one(build_detector(Detector()), "hcal_barrel", Hexahedra)
    # Two quads in r-z (the end bends at r = 2.33 m) x 18 wedges x 2 sides.
    assert hb.corners.shape == (2 * 18 * 2, 8, 3)
    r = np.hypot(hb.corners[..., 0], hb.corners[..., 1])
    assert r.min() == pytest.approx(1.8127) and r.max() == pytest.approx(2.8908)
    az = np.abs(hb.corners[..., 2])
    # The inner face ends at |z| 3.421, the outer at 4.938: the last towers are projective.
    assert az[np.isclose(r, 1.8127)].max() == pytest.approx(3.421)
    assert az[np.isclose(r, 2.8908)].max() == pytest.approx(4.938)
    # Wedge k spans phi 20k..20(k+1) degrees: its corners sit on those two planes.
    phi = np.degrees(np.arctan2(hb.corners[..., 1], hb.corners[..., 0])) % 360
    assert sorted(set(np.round(phi.ravel(), 6) % 360)) == pytest.approx(
        [20.0 * k for k in range(18)]
    )


def test_hcal_endcap_front_steps_forward_and_follows_the_barrel():
    he = one(build_detector(Detector()), "hcal_endcap", Hexahedra)
    quads = cms.HCAL_ENDCAP.quads()
    assert he.corners.shape == (len(quads) * 18 * 2, 8, 3)
    # The front at r 1.71-1.88 m (towers 16-17) is at |z| 3.919, elsewhere inside at 4.005.
    assert quads[0][0] == (0.3997, 4.005) and quads[1][0] == (1.71, 3.919)
    az = np.abs(he.corners[..., 2])
    assert az.min() == pytest.approx(3.919) and az.max() == pytest.approx(5.493)


def test_dt_chambers_sit_where_cms_has_them():
    boxes = one(build_detector(Detector()), "muon_barrel", Boxes)
    # 5 wheels x (12 sectors x MB1-3 + 14 MB4 chambers).
    assert len(boxes.centers) == 5 * (3 * 12 + 14) == 250
    # Each box faces its sector: sector s at (s - 1) * 30 degrees, 13 and 14 as 4 and 10.
    assert sorted(set(np.round(np.degrees(boxes.phi), 6))) == [30.0 * i for i in range(12)]
    # MB1 in sector 1 (worked from the table): 4.13-4.50 m out, offset towards +phi.
    mb1 = next(c for c in cms.dt_chambers() if (c.station, c.wheel, c.sector) == (1, 0, 1))
    corners = mb1.corners()
    assert corners[:, 0].min() == pytest.approx(4.136) and corners[:, 0].max() == 4.499
    assert (corners[:, 1].min(), corners[:, 1].max()) == (-0.697, 1.483)
    assert (corners[:, 2].min(), corners[:, 2].max()) == (-1.258, 1.254)
    # Sector 4 (phi 90 degrees): x = -t, y = r.
    mb1 = next(c for c in cms.dt_chambers() if (c.station, c.wheel, c.sector) == (1, 0, 4))
    xy = mb1.outline_xy()
    assert xy[:, 1].min() == pytest.approx(4.123) and xy[:, 0].max() == pytest.approx(0.700)
    # The chimney chambers are shorter, in every station.
    short = [c for c in cms.dt_chambers() if c.z_hi - c.z_lo < 2.3]
    assert sorted({(c.wheel, c.sector) for c in short}) == [(-1, 3), (1, 4), (1, 13)]
    assert len(short) == 4 + 4 + 1
    # Nothing sticks out of the drawn detector's envelope.
    assert np.hypot(*np.array([c.corners() for c in cms.dt_chambers()])[..., :2].T).max() == (
        pytest.approx(cms.WHOLE_DETECTOR.radius)
    )


def test_csc_chambers_are_trapezoids_on_both_sides():
    cscs = one(build_detector(Detector()), "muon_endcap", Hexahedra)
    assert cscs.corners.shape == (540, 8, 3)  # 2 x (3 x 36 + 3 x (18 + 36))
    z = cscs.corners[..., 2]
    assert (z > 0).all(axis=1).sum() == 270 and (z < 0).all(axis=1).sum() == 270
    assert np.abs(z).max() == pytest.approx(10.463)
    # ME2/1 chamber 1 is centred at phi 5 degrees and 0.75 m wide at its inner end.
    me21 = next(
        c
        for c in cms.csc_chambers()
        if (c.station, c.ring.ring, c.chamber, c.endcap) == (2, 1, 1, 1)
    )
    c = me21.corners()
    centre = c.mean(axis=0)
    assert np.degrees(np.arctan2(centre[1], centre[0])) == pytest.approx(5.0)
    assert np.linalg.norm(c[0] - c[1]) == pytest.approx(2 * 0.374)
    assert np.linalg.norm(c[2] - c[3]) == pytest.approx(2 * 0.766)
    # Odd chambers at 8.311-8.497 m, even ones at 8.065-8.249 m.
    assert (c[:, 2].min(), c[:, 2].max()) == (8.311, 8.497)


def test_cutaway_removes_the_wedges_and_chambers_in_it():
    whole = build_detector(Detector())
    det = Detector()
    det.cutaway = (0.0, 90.0)
    cut = build_detector(det)
    hb_whole, hb_cut = (one(p, "hcal_barrel", Hexahedra) for p in (whole, cut))
    # The wedges centred at 10, 30, 50 and 70 degrees go: 14 of 18 stay, in 2 quads x 2 sides.
    assert len(hb_whole.corners) == 18 * 4 and len(hb_cut.corners) == 14 * 4
    boxes = one(cut, "muon_barrel", Boxes)
    deg = np.degrees(boxes.phi) % 360
    assert not ((deg > 0.0) & (deg < 90.0)).any()


def test_appearance_from_part_style_and_hidden_parts():
    det = Detector()
    det.hcal_barrel.representation = "wireframe"
    det.hcal_barrel.color = "#ff0000"
    det.hcal_barrel.opacity = 0.5
    det.muon_endcap.show = False
    parts = build_detector(det)
    hb = one(parts, "hcal_barrel", Hexahedra)
    assert hb.look.color == parse_color("#ff0000") == (1.0, 0.0, 0.0)
    assert hb.look.opacity == 0.5 and hb.look.wireframe
    (eb,) = tubes(parts, "ecal_barrel")
    assert not eb.look.wireframe
    groups = {p.group for p in parts}
    assert "muon_endcap" not in groups
    assert groups == {
        "beam_pipe",
        "tracker",
        "ecal_barrel",
        "ecal_endcap",
        "preshower",
        "hcal_barrel",
        "hcal_endcap",
        "hcal_forward",
        "solenoid",
        "muon_barrel",
    }
    det.show = False
    assert build_detector(det) == []


def _inside_drawn_parts(points: np.ndarray, tol: float = 0.03) -> np.ndarray:
    """(N, 3) points -> (N,) bool: inside a part of the publication detector (its bounding
    ranges in r and |z|: tubes, disks, the HCAL sections, the DT stations, the CSC rings)."""
    r, z = np.hypot(points[:, 0], points[:, 1]), np.abs(points[:, 2])
    ok = np.zeros(len(points), dtype=bool)

    def box(rmin: float, rmax: float, zmin: float, zmax: float) -> np.ndarray:
        return (r >= rmin - tol) & (r <= rmax + tol) & (z >= zmin - tol) & (z <= zmax + tol)

    for b in (cms.TRACKER, cms.ECAL_BARREL, cms.SOLENOID):
        ok |= box(b.rmin, b.rmax, 0.0, b.half_length)
    for e in (cms.ECAL_ENDCAP, cms.PRESHOWER, cms.HCAL_FORWARD):
        ok |= box(e.rmin, e.rmax, e.zmin, e.zmax)
    for section in (cms.HCAL_BARREL, cms.HCAL_ENDCAP):
        c = section.wedge_corners()
        rr, zz = np.hypot(c[..., 0], c[..., 1]), np.abs(c[..., 2])
        ok |= box(rr.min(), rr.max(), zz.min(), zz.max())
    dts = cms.dt_chambers()
    ok |= box(min(d.r_in for d in dts), max(d.r_out for d in dts), 0.0, 6.6)
    for ring in cms.CSC_RINGS:
        corners = np.array([ch.corners() for ch in cms.csc_chambers() if ch.ring == ring])
        rr, zz = np.hypot(corners[..., 0], corners[..., 1]), np.abs(corners[..., 2])
        ok |= box(rr.min(), rr.max(), zz.min(), zz.max())
    return ok


def test_every_hit_and_chamber_of_the_shared_ig_files_is_inside_a_drawn_part(
    shared_data: Path,
) -> None:
    """Rec hits (EB, EE, ES, HB, HE, HF) and muon chambers of both iSpy files, at the cells'
    own centres: each inside a part the publication detector draws (HF and the preshower
    are parts of it; HF hits are drawn and counted as such)."""
    from ispyrender.config.loader import load_style
    from ispyrender.physics import EventBuilder
    from ispyrender.sources import open_source

    style = load_style("publication", ["collections.ecal_hits.min_energy=0"])
    groups = {p.group for p in build_detector(style.detector)}
    assert {"preshower", "hcal_forward"} <= groups
    seen: dict[str, int] = {}
    for name in ("Hto4l_120-130GeV.ig", "DoubleElectron_Run2012C_0.ig"):
        with open_source([str(shared_data / "ig" / name)]) as source:
            for physics in EventBuilder(source, style).events(range(len(source))):
                cells = [
                    (h.collection, np.concatenate([h.front, h.back], axis=1)) for h in physics.hits
                ]
                if physics.chambers is not None:
                    cells.append(("muon_chambers", physics.chambers.corners))
                for key, corners in cells:
                    centres = corners.mean(axis=1)
                    outside = centres[~_inside_drawn_parts(centres)]
                    assert not len(outside), f"{name}: {key} outside the detector at {outside[:3]}"
                    seen[key] = seen.get(key, 0) + len(centres)
    assert seen.get("hf_hits", 0) > 0 and seen["ecal_hits"] > 0 and seen["muon_chambers"] > 0
