"""ispyrender's detector and propagation held to CMS's own, measured on the shared iSpy file
(see tests/cmssw_reference.py, which also prints the tables: python tests/cmssw_reference.py).

The limits are the issue's: tracks within 5 mm (1-5 GeV) and 1 mm (above 5 GeV) of CMSSW's
ECAL entrance states, no gap in the endcap; global muons within 5 cm of CMSSW's points at each
barrel station (pT >= 10 GeV) and 6 cm at each endcap station; every dimension within 2 cm.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import cmssw_reference as ref


@pytest.fixture(scope="module")
def ig_file(shared_data: Path) -> list[str]:
    return [str(shared_data / "ig" / "Hto4l_120-130GeV.ig")]


@pytest.fixture(scope="module")
def track_table(ig_file: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    states = ref.tracks(ig_file)
    pt = np.array([s.pt for s in states])
    endcap = np.array([abs(s.ecal[2]) > 3.1 for s in states])
    return pt, endcap, ref.track_residuals(states)


def test_the_file_holds_what_the_measurement_needs(ig_file, track_table):
    pt, endcap, _ = track_table
    assert len(pt) > 700 and endcap.sum() > 200  # 25 events of H -> 4 leptons
    mus = ref.muons(ig_file)
    assert len(mus) == 24 and all(len(m.points) == 21 for m in mus)


def test_tracks_end_on_cmssw_s_ecal_entrance_states(track_table):
    pt, endcap, res = track_table
    low = (pt >= 1) & (pt < 5)
    assert np.median(res[low]) < 0.005  # measured 4.3 mm
    high = pt >= 5
    assert np.median(res[high]) < 0.001  # measured 0.2 mm
    for region in (endcap, ~endcap):
        assert np.median(res[high & region]) < 0.001
    # No endcap gap: endcap tracks reach CMSSW's surface (old drawing: 18 mm short).
    assert np.percentile(res[high & endcap], 90) < 0.002
    assert np.median(res[(pt >= 20)]) < 0.0002  # helices exact where the field is uniform


def test_muons_follow_cmssw_s_points_through_the_muon_system(ig_file):
    mres = ref.muon_residuals(ref.muons(ig_file))
    for station in ref.BARREL_STATIONS:
        d = [m.distance for m in mres if m.station == station and m.pt >= 10]
        assert len(d) >= 10, station
        assert np.median(d) < 0.05, station
    for station in ref.ENDCAP_STATIONS:
        d = [m.distance for m in mres if m.station == station]
        assert len(d) >= 1, station  # one muon of the file reaches ME4
        assert np.median(d) < 0.06, station


def test_every_dimension_within_2_cm_of_the_file(ig_file):
    dims = ref.dimensions(ig_file)
    parts = {d.part.split(" ")[0] for d in dims}
    assert {"ECAL", "preshower", "HCAL", "DT", "CSC"} <= parts
    assert sum(d.part.startswith("DT") for d in dims) >= 50
    assert sum(d.part.startswith("CSC") for d in dims) >= 50
    off = [(d.part, d.what, round(d.difference, 3)) for d in dims if abs(d.difference) > 0.02]
    assert off == []
