"""The detector primitives against the published dimensions."""

from __future__ import annotations

import numpy as np
import pytest

from ispyrender.config.style import Detector, parse_color
from ispyrender.scene.detector import build_detector
from ispyrender.scene.primitives import Boxes, Tube


def tubes(parts, group: str) -> list[Tube]:
    return sorted(
        (p for p in parts if p.group == group and isinstance(p, Tube)), key=lambda t: t.zmin
    )


def test_calorimeters_solenoid_and_tracker_dimensions():
    parts = build_detector(Detector())
    (ecal,) = tubes(parts, "ecal_barrel")
    assert (ecal.rmin, ecal.rmax, ecal.zmin, ecal.zmax) == (1.29, 1.52, -2.94, 2.94)
    minus, plus = tubes(parts, "ecal_endcap")
    assert (plus.rmin, plus.rmax, plus.zmin, plus.zmax) == (0.32, 1.71, 3.15, 3.45)
    assert (minus.zmin, minus.zmax) == (-3.45, -3.15)
    (hb,) = tubes(parts, "hcal_barrel")
    assert (hb.rmin, hb.rmax, hb.zmax) == (1.77, 2.95, 4.33)
    minus, plus = tubes(parts, "hcal_endcap")
    assert (plus.rmin, plus.rmax, plus.zmin, plus.zmax) == (0.40, 2.95, 3.88, 5.68)
    assert (minus.zmin, minus.zmax) == (-5.68, -3.88)
    (sol,) = tubes(parts, "solenoid")
    assert (sol.rmin, sol.rmax, sol.zmax) == (2.95, 3.80, 6.3)
    (pipe,) = tubes(parts, "beam_pipe")
    assert pipe.rmax == 0.022 and pipe.zmax == 3.0
    (tracker,) = tubes(parts, "tracker")
    assert (tracker.rmax, tracker.zmax) == (1.16, 2.80)


def test_muon_barrel_chambers():
    (boxes,) = [p for p in build_detector(Detector()) if p.group == "muon_barrel"]
    assert isinstance(boxes, Boxes)
    assert len(boxes.centers) == 5 * 12 * 4  # wheels x sectors x stations
    r = np.hypot(boxes.centers[:, 0], boxes.centers[:, 1])
    assert sorted(set(np.round(r, 6))) == [4.0, 4.9, 5.9, 7.0]
    # Each box is rotated to face the beam: its phi is the polar angle of its centre.
    assert np.arctan2(boxes.centers[:, 1], boxes.centers[:, 0]) == pytest.approx(
        np.angle(np.exp(1j * boxes.phi))
    )
    assert sorted(set(np.round(np.degrees(boxes.phi), 6))) == [30.0 * i for i in range(12)]
    # Wheels: 13.2 m / 5 = 2.64 m apart, centred at 0, +-2.64, +-5.28; chambers 2.5 m long
    # leave 0.14 m between wheels and end at |z| = 5.28 + 1.25 = 6.53 < 6.6.
    assert sorted(set(np.round(boxes.centers[:, 2], 6))) == [-5.28, -2.64, 0.0, 2.64, 5.28]
    assert np.allclose(boxes.sizes[:, 2], 2.5)
    # Tangential widths stay inside the 30-degree sector: 2 r tan(15 deg) = 0.5359 r.
    assert np.all(boxes.sizes[:, 1] < 2 * r * np.tan(np.pi / 12))
    assert np.all(boxes.sizes[:, 1] > 0.8 * 2 * r * np.tan(np.pi / 12))


def test_muon_endcap_disks_are_thin_and_on_both_sides():
    disks = tubes(build_detector(Detector()), "muon_endcap")
    assert len(disks) == 10
    assert all(d.zmax - d.zmin <= 0.3 + 1e-9 for d in disks)
    assert sum(d.zmin > 0 for d in disks) == 5
    assert max(d.zmax for d in disks) == pytest.approx(10.55)
    assert all(d.rmax <= 7.0 for d in disks)


def test_appearance_from_part_style_and_hidden_parts():
    det = Detector()
    det.hcal_barrel.representation = "wireframe"
    det.hcal_barrel.color = "#ff0000"
    det.hcal_barrel.opacity = 0.5
    det.muon_endcap.show = False
    parts = build_detector(det)
    (hb,) = tubes(parts, "hcal_barrel")
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
        "hcal_barrel",
        "hcal_endcap",
        "solenoid",
        "muon_barrel",
    }
    det.show = False
    assert build_detector(det) == []
