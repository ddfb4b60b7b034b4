"""Calorimeter towers from PF candidates (PFNano): binning, summing, the EM / hadronic split,
the threshold, phi wrap-around, charged candidates bent to the calorimeter, and the real
pfnano.root, where the totals are worked out here from the branches."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
import uproot
from test_objects import record

from ispyrender.config.style import Style, TowerStyle, parse_color
from ispyrender.physics.nanoaod import branch_plan, build_event
from ispyrender.physics.objects import CaloTowers, PhysicsEvent
from ispyrender.physics.towers import at_calorimeter, bin_cells, pf_towers, phi_cells
from ispyrender.physics.trajectories import C_LIGHT, propagate
from ispyrender.sources.nanoaod import Dataset

WIDTH = 2 * math.pi / 72
ECAL_R, ECAL_Z = 1.2752, 3.1681  # CMSSW's ECAL entrance (cms_dimensions.ECAL_ENTRANCE)


def styles(min_energy: float = 0.0, **kw: Any) -> dict[str, TowerStyle]:
    return {
        "em_towers": TowerStyle(min_energy=min_energy, **kw),
        "had_towers": TowerStyle(min_energy=min_energy, **kw),
    }


def by_key(towers: list[CaloTowers]) -> dict[str, CaloTowers]:
    return {t.collection: t for t in towers}


# ---- cells -----------------------------------------------------------------------------------


def test_phi_cells_close_the_circle():
    assert phi_cells(0.0873) == (72, pytest.approx(WIDTH))
    n, width = phi_cells(0.5)
    assert n == 13 and n * width == pytest.approx(2 * math.pi)


def test_binning_sums_per_cell_and_sorts_by_et():
    cells = bin_cells(
        eta=np.array([0.01, 0.08, 0.1, -0.01]),
        phi=np.array([0.01, 0.05, 0.01, 0.01]),
        et=np.array([1.0, 2.0, 4.0, 0.5]),
        eta_bin=0.087,
        phi_bin=0.0873,
    )
    # 0.01 and 0.08 share the cell [0, 0.087); 0.1 is in the next; -0.01 below zero.
    assert cells.et.tolist() == [4.0, 3.0, 0.5]
    assert cells.eta.tolist() == pytest.approx([1.5 * 0.087, 0.5 * 0.087, -0.5 * 0.087])
    assert cells.phi.tolist() == pytest.approx([0.5 * WIDTH] * 3)
    assert cells.members.tolist() == [1, 1, 0, 2]
    assert (cells.eta_width, cells.phi_width) == (0.087, pytest.approx(WIDTH))


def test_binning_wraps_phi():
    cells = bin_cells(
        eta=np.zeros(5),
        phi=np.array([-0.01, 2 * math.pi - 0.01, math.pi - 0.01, -math.pi + 0.01, 3 * math.pi]),
        et=np.array([1.0, 1.0, 2.0, 3.0, 5.0]),
        eta_bin=0.087,
        phi_bin=0.0873,
    )
    # -0.01 and 2 pi - 0.01 are one direction: one cell, just below phi = 0. The cells meet
    # at +-pi: pi - 0.01 and -pi + 0.01 are neighbours, not one cell; 3 pi is -pi, the cell
    # just above it.
    assert cells.et.tolist() == [8.0, 2.0, 2.0]
    assert cells.phi.tolist() == pytest.approx(
        [-math.pi + 0.5 * WIDTH, math.pi - 0.5 * WIDTH, -0.5 * WIDTH]
    )
    assert cells.members.tolist() == [2, 2, 1, 0, 0]
    assert np.all((cells.phi >= -math.pi) & (cells.phi < math.pi))


def test_binning_skips_non_finite_values():
    cells = bin_cells(
        np.array([0.0, np.nan, 0.0]), np.array([0.0, 0.0, np.inf]), np.ones(3), 0.087, 0.0873
    )
    assert cells.et.tolist() == [1.0] and cells.members.tolist() == [0, -1, -1]
    empty = bin_cells(np.zeros(0), np.zeros(0), np.zeros(0), 0.087, 0.0873)
    assert len(empty) == 0


# ---- candidates -> towers --------------------------------------------------------------------


def test_em_and_hadronic_split():
    # photon, electron, pi+, K0L, HF hadron, HF EM, muon: all 10 GeV, far apart in eta.
    pdg = np.array([22, -11, 211, 130, 1, 2, 13])
    charge = np.array([0, 1, 1, 0, 0, 0, -1])
    eta = np.array([-2.0, -1.0, 0.0, 1.0, 3.5, -3.5, 0.5])
    towers = by_key(
        pf_towers(np.full(7, 10.0), eta, np.zeros(7), pdg, charge, np.zeros((7, 3)), styles())
    )
    em, had = towers["em_towers"], towers["had_towers"]
    assert (em.surface, had.surface) == ("ecal", "hcal")
    assert (em.branch, had.branch) == ("PFCands_em", "PFCands_had")
    assert len(em) == 2 and len(had) == 4  # the muon is in neither
    # Cell centres: within half a cell of the candidates.
    assert sorted(em.eta.tolist()) == pytest.approx([-2.0, -1.0], abs=0.0435)
    assert sorted(had.eta.tolist()) == pytest.approx([-3.5, 0.0, 1.0, 3.5], abs=0.0435)
    assert em.et.sum() == pytest.approx(20.0) and had.et.sum() == pytest.approx(40.0)


def test_only_the_shown_kind_is_built():
    towers = pf_towers(
        np.array([5.0, 5.0]),
        np.zeros(2),
        np.zeros(2),
        np.array([22, 130]),
        np.zeros(2),
        np.zeros((2, 3)),
        {"had_towers": TowerStyle(min_energy=0.0)},
    )
    assert [t.collection for t in towers] == ["had_towers"]
    assert towers[0].et.tolist() == [5.0]


def test_threshold_and_max_count_apply_to_the_summed_towers():
    # Two 0.3 GeV photons in one cell make 0.6 GeV: above a 0.5 GeV threshold; a lone
    # 0.4 GeV one is below; max_count keeps the highest towers.
    pt = np.array([0.3, 0.3, 0.4, 2.0, 3.0])
    eta = np.array([0.01, 0.02, 1.0, -1.0, 2.0])
    pdg = np.full(5, 22)
    em = by_key(pf_towers(pt, eta, np.zeros(5), pdg, np.zeros(5), np.zeros((5, 3)), styles(0.5)))
    assert em["em_towers"].et.tolist() == pytest.approx([3.0, 2.0, 0.6])
    capped = styles(0.5, max_count=2)
    em = by_key(pf_towers(pt, eta, np.zeros(5), pdg, np.zeros(5), np.zeros((5, 3)), capped))
    assert em["em_towers"].et.tolist() == pytest.approx([3.0, 2.0])


def test_charged_candidates_count_where_they_reach_the_calorimeter():
    # A 5 GeV pi- at phi 0 turns anticlockwise by asin(r / 2R) on its way to the ECAL
    # (R = pT / (0.2998 * 3.8 T)); a 0.3 GeV one loops inside the tracker and is left out;
    # a neutral one flies straight.
    pt = np.array([5.0, 0.3, 5.0])
    eta, phi, origin = np.zeros(3), np.zeros(3), np.zeros((3, 3))
    charge = np.array([-1.0, 1.0, 0.0])
    c_eta, c_phi, reached = at_calorimeter(pt, eta, phi, charge, origin)
    assert reached.tolist() == [True, False, True]
    radius = 5.0 / (C_LIGHT * 3.8)
    assert c_phi[0] == pytest.approx(math.asin(ECAL_R / (2 * radius)), abs=2e-3)
    assert c_phi[2] == 0.0 and c_eta[2] == 0.0
    # So the 5 GeV pion's tower is a cell away from the neutral one's.
    towers = by_key(pf_towers(pt, eta, phi, np.array([-211, 211, 130]), charge, origin, styles()))
    had = towers["had_towers"]
    assert len(had) == 2 and had.et.tolist() == [5.0, 5.0]
    assert sorted(had.phi.tolist()) == pytest.approx([0.5 * WIDTH, 1.5 * WIDTH])


def test_neutral_candidates_are_seen_from_the_detector_centre():
    # A photon from a vertex 10 cm along z at eta 0 hits the ECAL at z = 0.1 m:
    # eta = asinh(0.1 / 1.2752) from the centre, where the towers are.
    c_eta, _, reached = at_calorimeter(
        np.array([10.0]), np.zeros(1), np.zeros(1), np.zeros(1), np.array([[0.0, 0.0, 0.1]])
    )
    assert reached.tolist() == [True]
    assert c_eta[0] == pytest.approx(math.asinh(0.1 / ECAL_R))


# ---- the NanoAOD reader -----------------------------------------------------------------------


def _build(values: dict[str, Any], style: Style | None = None) -> PhysicsEvent:
    style = style or Style()
    return build_event(record(values), style, branch_plan(style, set(values)))


def test_reader_fills_towers_and_counts():
    values = {
        "PFCands_pt": np.array([3.0, 2.0, 1.0, np.nan], dtype=np.float32),
        "PFCands_eta": np.array([0.5, 0.52, -1.0, 0.0], dtype=np.float32),
        "PFCands_phi": np.array([1.0, 1.01, 2.0, 0.0], dtype=np.float32),
        "PFCands_pdgId": np.array([22, 22, 130, 22], dtype=np.int32),
        "PFCands_charge": np.array([0, 0, 0, 0], dtype=np.int32),
        "PFCands_d0": np.full(4, -1.0, dtype=np.float32),
        "PFCands_dz": np.full(4, -1.0, dtype=np.float32),
    }
    style = Style()
    event = _build(values, style)
    towers = by_key(event.towers)
    assert towers["em_towers"].et.tolist() == pytest.approx([5.0])
    assert towers["had_towers"].et.tolist() == pytest.approx([1.0])
    assert event.counts["em_towers"] == 1 and event.counts["had_towers"] == 1
    style.collections.had_towers.show = False
    assert [t.collection for t in _build(values, style).towers] == ["em_towers"]
    # No PF candidates: no towers, and (the user asked for none) no warning.
    plain = _build({"Muon_pt": np.zeros(0, dtype=np.float32)}, Style())
    assert plain.towers == [] and "em_towers" not in plain.counts


# ---- pfnano.root -------------------------------------------------------------------------------


def _expected(path: Path, eta_bin: float, min_energy: float) -> list[dict[str, Any]]:
    """Per event: the summed pT of the candidates that make each kind of tower, and the number
    of cells at or above ``min_energy``, computed here from the branches: neutral candidates
    go straight from the PV to the ECAL entrance, charged ones are propagated to it (loopers,
    which stop inside, are left out)."""
    fields = ["pt", "eta", "phi", "pdgId", "charge", "d0", "dz"]
    branches = [f"PFCands_{f}" for f in fields] + ["PV_x", "PV_y", "PV_z"]
    events = uproot.open(path)["Events"].arrays(branches)
    kinds = {"em_towers": {11, 22}, "had_towers": {211, 130, 1, 2}}
    out = []
    for ev in events:
        pv = np.array([ev.PV_x, ev.PV_y, ev.PV_z], dtype=float) * 0.01
        c = {f: ak.to_numpy(ev[f"PFCands_{f}"]).astype(float) for f in fields}
        pdg = np.abs(c["pdgId"]).astype(int)
        # Point of closest approach: PV + d0 (-sin phi, cos phi), PV_z + dz (cm); PFNano
        # writes -1 / -1 for candidates without a track.
        shift = ~((c["d0"] == -1) & (c["dz"] == -1))
        d0, dz = np.where(shift, c["d0"], 0.0) * 0.01, np.where(shift, c["dz"], 0.0) * 0.01
        origin = pv + np.stack([-d0 * np.sin(c["phi"]), d0 * np.cos(c["phi"]), dz], axis=1)
        points = np.full((pdg.size, 3), np.nan)
        for i in range(pdg.size):
            if c["charge"][i] == 0:
                # Straight on: the nearer of the barrel cylinder and the endcap plane.
                theta = 2 * math.atan(math.exp(-c["eta"][i]))
                u = np.array(
                    [
                        math.sin(theta) * math.cos(c["phi"][i]),
                        math.sin(theta) * math.sin(c["phi"][i]),
                        math.cos(theta),
                    ]
                )
                o = origin[i]
                a, b = u[0] ** 2 + u[1] ** 2, 2 * (o[0] * u[0] + o[1] * u[1])
                cc = o[0] ** 2 + o[1] ** 2 - ECAL_R**2
                t_r = (-b + math.sqrt(b * b - 4 * a * cc)) / (2 * a) if a > 0 else math.inf
                t_z = (math.copysign(ECAL_Z, u[2]) - o[2]) / u[2] if u[2] != 0 else math.inf
                points[i] = o + min(t_r, t_z) * u
        charged = np.flatnonzero(c["charge"] != 0)
        curves = propagate(
            c["pt"][charged],
            c["eta"][charged],
            c["phi"][charged],
            c["charge"][charged],
            origin[charged],
        )
        for k, curve in zip(charged.tolist(), curves, strict=True):
            end = curve[-1]
            on_barrel = math.hypot(end[0], end[1]) >= ECAL_R * (1 - 1e-9)
            if on_barrel or abs(end[2]) >= ECAL_Z * (1 - 1e-9):
                points[k] = end
        event: dict[str, Any] = {}
        for key, ids in kinds.items():
            cells: dict[tuple[int, int], float] = {}
            total = 0.0
            for i in range(pdg.size):
                if pdg[i] not in ids or not np.all(np.isfinite(points[i])):
                    continue
                x, y, z = points[i]
                eta = math.asinh(z / math.hypot(x, y))
                phi = math.atan2(y, x) % (2 * math.pi)
                cell = (math.floor(eta / eta_bin), math.floor(phi / WIDTH) % 72)
                cells[cell] = cells.get(cell, 0.0) + c["pt"][i]
                total += c["pt"][i]
            event[key] = (total, sum(1 for et in cells.values() if et >= min_energy))
        out.append(event)
    return out


def _towers_of_file(path: Path, style: Style) -> list[dict[str, CaloTowers]]:
    with Dataset([str(path)]) as dataset:
        plan = branch_plan(style, dataset.available_branches())
        assert plan.warnings == []
        n = len(dataset)
        return [
            by_key(build_event(record, style, plan).towers)
            for record in dataset.iter_events(range(n), plan.branches)
        ]


@pytest.mark.parametrize("min_energy", [0.0, 0.5])
def test_pfnano_towers_hold_the_candidates_pt(shared_data: Path, min_energy: float) -> None:
    path = shared_data / "nanoaod" / "pfnano.root"
    style = Style()
    style.collections.em_towers.min_energy = min_energy
    style.collections.had_towers.min_energy = min_energy
    measured = _towers_of_file(path, style)
    expected = _expected(path, style.collections.em_towers.eta_bin, min_energy)
    assert len(measured) == len(expected) == 10
    for towers, want in zip(measured, expected, strict=True):
        for key in ("em_towers", "had_towers"):
            total, cells = want[key]
            assert len(towers[key]) == cells
            if min_energy == 0.0:
                # Every candidate that went in is in a tower: E_T adds up to float precision.
                assert towers[key].et.sum() == pytest.approx(total, rel=1e-6)
            assert np.all(towers[key].et >= min_energy)


# ---- the lego ----------------------------------------------------------------------------------


def _event_with_towers() -> PhysicsEvent:
    def towers(key: str, eta: list[float], phi: list[float], et: list[float]) -> CaloTowers:
        surface = "ecal" if key == "em_towers" else "hcal"
        return CaloTowers(
            key, key, np.array(eta), np.array(phi), np.array(et), 0.087, WIDTH, surface
        )

    event = PhysicsEvent(1, 1, 1, 0, "test.root", is_simulation=False)
    cell = (0.5 * 0.087, 0.5 * WIDTH)
    event.towers = [
        towers("em_towers", [cell[0], 1.0], [cell[1], 2.0], [30.0, 5.0]),
        towers("had_towers", [cell[0]], [cell[1] + 2 * math.pi], [20.0]),  # the same cell
    ]
    return event


def test_lego_stacks_hadronic_on_em_per_cell():
    from ispyrender.figures.lego import lego_towers

    style = Style()
    stacks = sorted(lego_towers(_event_with_towers(), style), key=lambda t: -t.et)
    assert [t.et for t in stacks] == [50.0, 5.0]
    em_color = parse_color(style.collections.em_towers.color)
    had_color = parse_color(style.collections.had_towers.color)
    assert stacks[0].layers == ((30.0, em_color), (20.0, had_color))
    assert stacks[0].eta == pytest.approx(0.5 * 0.087) and stacks[0].phi == pytest.approx(
        0.5 * WIDTH
    )


def test_lego_draws_towers_instead_of_object_bars():
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure

    from ispyrender.figures.lego import draw_lego
    from ispyrender.figures.projections import Paint

    ax = Figure().add_subplot()
    draw_lego(ax, _event_with_towers(), Style(), Paint(), 10.0)
    faces = [len(c.get_paths()) for c in ax.collections if isinstance(c, PolyCollection)]
    # The floor, its clip outline, and one collection of 3 visible faces per tower layer.
    assert 3 * 3 in faces


def test_the_lego_of_an_ispy_file_sums_its_rec_hits_into_towers(shared_data: Path) -> None:
    """Fireworks' lego for iSpy files: the ECAL, HCAL and HF hits summed into 0.087 x 5 degree
    towers (each tower's E_T the sum of its hits' E / cosh eta, nothing lost), ECAL at the
    bottom of each stack and HCAL on it, jets as circles (no object bars)."""
    from ispyrender.config.loader import load_style
    from ispyrender.figures.lego import hit_towers, lego_collections, lego_towers
    from ispyrender.physics import EventBuilder
    from ispyrender.sources import open_source

    style = load_style("publication")
    ecal = parse_color(style.collections.ecal_hits.color)
    hcal = parse_color(style.collections.hcal_hits.color)
    with open_source([str(shared_data / "ig" / "Hto4l_120-130GeV.ig")]) as source:
        events = list(EventBuilder(source, style).events(range(len(source))))
    stacked = 0
    for event in events:
        towers = hit_towers(event)
        for hits, summed in zip(event.hits, towers, strict=True):
            et = hits.energy / np.cosh(hits.eta)
            assert summed.collection == hits.collection
            assert summed.et.sum() == pytest.approx(et[np.isfinite(et) & (et > 0)].sum())
            assert len(summed) <= len(hits)
        stacks = lego_towers(event, style)
        assert sum(s.et for s in stacks) == pytest.approx(sum(t.et.sum() for t in towers))
        for s in stacks:
            colours = [c for _, c in s.layers]
            if ecal in colours and hcal in colours:
                assert colours.index(ecal) < colours.index(hcal)
                stacked += 1
        assert "jets" in lego_collections(event) and "hcal_hits" in lego_collections(event)
    assert stacked > 0
