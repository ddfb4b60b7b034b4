"""NanoAOD values -> physics objects: origins, filters, missing branches, NaN."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ispyrender.config.loader import load_style
from ispyrender.config.style import Style
from ispyrender.physics.nanoaod import BranchPlan, branch_plan, build_event, charge_from_pdgid
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.sources.nanoaod import EventRecord


def record(values: dict[str, Any], *, simulation: bool = False) -> EventRecord:
    return EventRecord(
        index=0,
        source="test.root",
        entry=0,
        run=1,
        lumi=2,
        event=3,
        is_simulation=simulation,
        values=values,
    )


def f32(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


PV = {"PV_x": np.float32(0.1), "PV_y": np.float32(-0.2), "PV_z": np.float32(1.0)}  # cm


def build(values: dict[str, Any], style: Style | None = None, **kw: Any) -> PhysicsEvent:
    style = style or Style()
    rec = record(values, **kw)
    return build_event(rec, style, branch_plan(style, set(values)))


def tracks_of(event: PhysicsEvent, key: str):
    (found,) = [t for t in event.tracks if t.collection == key]
    return found


def asking(*keys: str, style: Style | None = None) -> Style:
    """A style whose user file or --set named the collections ``keys`` (the loader's job)."""
    style = style or Style()
    style._requested = frozenset(keys)
    return style


def full_branches() -> set[str]:
    names = {"PV_x", "PV_y", "PV_z", "MET_pt", "MET_phi", "SV_x", "SV_y", "SV_z"}
    for coll in ("Muon", "Electron", "IsoTrack", "PFCands"):
        names |= {f"{coll}_{f}" for f in ("pt", "eta", "phi", "charge", "dxy", "dz")}
    for coll in ("Jet", "FatJet", "Tau", "Photon"):
        names |= {f"{coll}_{f}" for f in ("pt", "eta", "phi", "mass")}
    # The analysis IDs the default style selects with.
    names |= {"Muon_looseId", "Electron_cutBased", "Photon_cutBased", "Jet_jetId"}
    return names


# ---- branch_plan ---------------------------------------------------------------------------


def test_plan_complete_file_has_no_warnings_and_reads_what_it_needs():
    available = full_branches() | {"Muon_tightId", "GenPart_pt"}
    plan = branch_plan(Style(), available)
    assert isinstance(plan, BranchPlan)
    assert plan.warnings == []
    assert "Muon_dz" in plan.branches and "FatJet_mass" in plan.branches
    assert "Muon_tightId" not in plan.branches
    assert "GenPart_pt" not in plan.branches  # genparts are hidden by default
    assert plan.branches <= available


def test_plan_warns_once_per_collection_naming_what_is_missing():
    available = full_branches() - {"Muon_dz"}
    available -= {f"FatJet_{f}" for f in ("pt", "eta", "phi", "mass")}
    available -= {"Tau_eta"}
    plan = branch_plan(asking("muons", "fatjets"), available)
    assert plan.warnings == [
        "Muon_dz missing: muons start at the primary vertex z",
        "FatJet_* missing in this file: fat jets not drawn",
        "Tau_eta missing: taus not drawn",
    ]
    assert "fatjets" not in plan.drawable and "taus" not in plan.drawable
    assert "muons" in plan.drawable


def test_plan_is_silent_about_defaults_the_file_lacks():
    """What a preset shows and the file lacks (a whole collection, an impact parameter) is not
    news: only a collection the user named is warned about. A collection that the file has
    but cannot be drawn (Tau_pt without Tau_eta) is odd whatever the style, and still named."""
    available = full_branches() - {"Muon_dz"}
    available -= {f"FatJet_{f}" for f in ("pt", "eta", "phi", "mass")}
    available -= {"Tau_eta"}
    plan = branch_plan(Style(), available)
    assert plan.warnings == ["Tau_eta missing: taus not drawn"]
    assert "fatjets" not in plan.drawable and "muons" in plan.drawable


def test_plan_hidden_collections_do_not_warn():
    style = Style()
    style.collections.fatjets.show = False
    available = full_branches() - {f"FatJet_{f}" for f in ("pt", "eta", "phi", "mass")}
    assert branch_plan(style, available).warnings == []


def test_plan_missing_met_source_names_the_alternatives():
    style = asking("met")
    style.collections.met.source = "PuppiMET"
    plan = branch_plan(style, full_branches() | {"RawMET_pt", "RawMET_phi"})
    assert plan.warnings == [
        "PuppiMET_pt and PuppiMET_phi missing: MET not drawn (this file has MET, RawMET)"
    ]
    style._requested = frozenset()
    assert branch_plan(style, full_branches()).warnings == []


def test_plan_missing_pv_and_impact_parameters():
    available = full_branches() - {"PV_x", "PV_y", "PV_z", "Electron_dxy", "Electron_dz"}
    plan = branch_plan(asking("electrons"), available)
    pv_line = (
        "PV_x, PV_y, PV_z missing: objects start at the detector centre; "
        "the primary vertex is not drawn"
    )
    assert plan.warnings == [
        pv_line,
        "Electron_dxy and Electron_dz missing: electrons start at the primary vertex",
    ]
    # Every object moves without the PV: said whatever the style; the electrons' start only
    # to who asked for electrons.
    assert branch_plan(Style(), available).warnings == [pv_line]


def test_missing_branches_never_crash():
    event = build({"Muon_pt": f32(10.0), "Muon_eta": f32(0.1), "Muon_phi": f32(0.2)})
    muons = tracks_of(event, "muons")
    assert len(muons) == 1
    assert muons.charge[0] == 0  # no charge, no pdgId: warned, drawn straight
    assert muons.origin == pytest.approx(np.zeros((1, 3)))
    assert event.met is None and event.photons is None and event.jets == []
    assert build({}).counts == {}


# ---- origins -------------------------------------------------------------------------------


def test_origin_is_pv_shifted_by_dxy_and_dz():
    # PV (0.1, -0.2, 1.0) cm. A muon along phi = pi/2 (+y) with dxy = 0.05 cm, dz = -0.3 cm:
    # closest approach = PV + dxy * (-sin phi, cos phi, 0) + (0, 0, dz)
    #                  = (0.1 - 0.05, -0.2 + 0, 1.0 - 0.3) cm = (0.0005, -0.002, 0.007) m.
    # Check of the sign convention: v = (-0.05, 0) cm, p = (0, pt):
    # dxy = (-vx py + vy px) / pt = (0.05 pt) / pt = +0.05.
    values = {
        **PV,
        "Muon_pt": f32(25.0),
        "Muon_eta": f32(0.0),
        "Muon_phi": f32(np.pi / 2),
        "Muon_charge": np.array([-1], dtype=np.int32),
        "Muon_dxy": f32(0.05),
        "Muon_dz": f32(-0.3),
    }
    muons = tracks_of(build(values), "muons")
    assert muons.origin[0] == pytest.approx([0.0005, -0.002, 0.007], abs=1e-8)
    assert muons.stop[0] == "muon"
    assert muons.charge[0] == -1


def test_origin_along_x_and_missing_pv():
    # phi = 0 (+x), dxy = 0.1 cm: shift (-sin 0, cos 0) * 0.1 cm = (0, 0.001) m; no PV: (0,0,0).
    values = {
        "Electron_pt": f32(30.0),
        "Electron_eta": f32(1.0),
        "Electron_phi": f32(0.0),
        "Electron_charge": np.array([1], dtype=np.int16),
        "Electron_dxy": f32(0.1),
        "Electron_dz": f32(2.0),
    }
    electrons = tracks_of(build(values), "electrons")
    assert electrons.origin[0] == pytest.approx([0.0, 0.001, 0.02], abs=1e-8)
    assert electrons.stop[0] == "ecal"


# ---- charges -------------------------------------------------------------------------------


def test_charge_from_pdgid_table():
    pdg = np.array([11, -11, 13, -13, 211, -211, 321, -321, 2212, -2212, 22, 130, 0])
    expected = [-1, 1, -1, 1, 1, -1, 1, -1, 1, -1, 0, 0, 0]
    assert charge_from_pdgid(pdg).tolist() == expected


def test_charged_baryons_and_nuclei_have_their_charge():
    # Sigma+ (3222), Sigma- (3112), Xi- (3312), Omega- (3334), anti-Sigma+, deuteron; the old
    # hand-written table gave every one of them 0, so they were never drawn.
    pdg = np.array([3222, 3112, 3312, 3334, -3222, 1000010020, 99999999])
    assert charge_from_pdgid(pdg).tolist() == [1, -1, -1, -1, -1, 1, 0]


def test_isotracks_without_charge_use_pdgid():
    values = {
        **PV,
        "IsoTrack_pt": f32(10, 9, 8, 7, 6),
        "IsoTrack_eta": f32(0, 0, 0, 0, 0),
        "IsoTrack_phi": f32(0, 1, 2, 3, -1),
        "IsoTrack_pdgId": np.array([211, -211, 11, -13, 0], dtype=np.int32),
        "IsoTrack_dxy": f32(0, 0, 0, 0, 0),
        "IsoTrack_dz": f32(0, 0, 0, 0, 0),
    }
    iso = tracks_of(build(values), "isotracks")
    # pi+ -> +1, pi- -> -1, e- (11) -> -1, mu+ (-13) -> +1; pdgId 0 has no known charge.
    assert iso.charge.tolist() == [1, -1, -1, 1]


def test_neutral_pf_candidates_are_not_tracks_and_sentinel_impact_is_ignored():
    values = {
        **PV,
        "PFCands_pt": f32(5, 4, 3),
        "PFCands_eta": f32(0, 0, 0),
        "PFCands_phi": f32(0, 0, 0),
        "PFCands_charge": np.array([1, 0, -1], dtype=np.int32),
        "PFCands_d0": f32(0.2, -1, -1),  # PFNano writes -1/-1 when there are no track details
        "PFCands_dz": f32(0.5, -1, -1),
    }
    pf = tracks_of(build(values), "pfcands")
    assert pf.pt.tolist() == [5, 3]
    pv = np.array([0.001, -0.002, 0.01])
    assert pf.origin[0] == pytest.approx(pv + np.array([0, 0.002, 0.005]), abs=1e-8)
    assert pf.origin[1] == pytest.approx(pv, abs=1e-8)


def test_genparts_final_state_charged_simulation_only():
    style = Style()
    style.collections.genparts.show = True
    values = {
        **PV,
        "GenPart_pt": f32(40, 30, 20, 10, 5),
        "GenPart_eta": f32(0, 0, 0, 0, 0),
        "GenPart_phi": f32(0, 0, 0, 0, 0),
        "GenPart_pdgId": np.array([13, -11, 22, 211, 211], dtype=np.int32),
        "GenPart_status": np.array([1, 1, 1, 1, 2], dtype=np.int32),
        "GenVtx_x": np.float32(0.0),
        "GenVtx_y": np.float32(0.0),
        "GenVtx_z": np.float32(-2.0),
    }
    gen = tracks_of(build(values, style, simulation=True), "genparts")
    # photon (neutral) and the status-2 pion are dropped; mu- -> -1 to the muon system.
    assert gen.pt.tolist() == [40, 30, 10]
    assert gen.charge.tolist() == [-1, 1, 1]
    assert gen.stop.tolist() == ["muon", "ecal", "ecal"]
    assert gen.origin[:, 2] == pytest.approx([-0.02] * 3)
    assert not [t for t in build(values, style).tracks if t.collection == "genparts"]


# ---- filters, NaN, energies ----------------------------------------------------------------


def test_min_pt_and_max_count_keep_the_hardest():
    style = Style()
    style.collections.jets.min_pt = 20.0
    style.collections.jets.max_count = 2
    values = {
        **PV,
        "Jet_pt": f32(25, 90, 15, 60),
        "Jet_eta": f32(0, 1, 2, 3),
        "Jet_phi": f32(0, 0, 0, 0),
        "Jet_mass": f32(1, 1, 1, 1),
    }
    (jets,) = build(values, style).jets
    assert jets.pt.tolist() == [90, 60]
    assert jets.eta.tolist() == [1, 3]


def test_nan_objects_are_skipped_and_counted():
    values = {
        **PV,
        "Jet_pt": f32(50, np.nan, 30, 40),
        "Jet_eta": f32(0, 0, np.nan, 0.5),
        "Jet_phi": f32(0, 0, 0, 1),
        "Jet_mass": f32(5, 5, 5, np.nan),
        "Muon_pt": f32(20),
        "Muon_eta": f32(0),
        "Muon_phi": f32(0),
        "Muon_charge": np.array([1], dtype=np.int32),
        "Muon_dxy": f32(np.nan),
        "Muon_dz": f32(0),
        "MET_pt": np.float32(np.nan),
        "MET_phi": np.float32(0.0),
    }
    event = build(values)
    assert event.skipped_nan == {"muons": 1, "jets": 3, "met": 1}
    assert event.counts["jets"] == 1 and event.counts["muons"] == 0 and event.counts["met"] == 0


def test_jet_energy_from_pt_eta_mass_and_fat_jets():
    # E = sqrt((pt cosh eta)^2 + m^2): pt 50, eta 1, m 10:
    # 50 * cosh(1) = 50 * 1.5430806 = 77.154030; sqrt(77.154030^2 + 100) = 77.799393.
    values = {
        **PV,
        "FatJet_pt": f32(200.0, 50.0),
        "FatJet_eta": f32(1.0, 0.0),
        "FatJet_phi": f32(0.5, 0.0),
        "FatJet_mass": f32(10.0, 0.0),
    }
    style = Style()
    style.collections.fatjets.min_pt = 0.0
    (fat,) = build(values, style).jets
    assert fat.collection == "fatjets" and fat.branch == "FatJet"
    assert fat.radius == 0.8
    # Sorted by pT: the 200 GeV jet: 200 cosh 1 = 308.616120; sqrt(308.616120^2 + 100) = 308.778.
    assert fat.energy == pytest.approx([308.7781, 50.0], abs=1e-3)
    values = {"Jet_pt": f32(50), "Jet_eta": f32(1), "Jet_phi": f32(0), "Jet_mass": f32(10)}
    (jets,) = build(values).jets
    assert jets.energy[0] == pytest.approx(77.799393, abs=1e-4)
    assert jets.radius == 0.4
    assert jets.origin == pytest.approx(np.zeros(3))


def test_tau_radius_from_style_and_photons_massless():
    values = {
        **PV,
        "Tau_pt": f32(30),
        "Tau_eta": f32(0),
        "Tau_phi": f32(0),
        "Photon_pt": f32(40),
        "Photon_eta": f32(0.5),
        "Photon_phi": f32(0),
    }
    event = build(values)
    (taus,) = event.jets
    assert taus.radius == 0.1
    assert event.photons is not None
    # 40 cosh(0.5) = 40 * 1.127626 = 45.10504
    assert event.photons.energy[0] == pytest.approx(45.10504, abs=1e-4)
    assert event.photons.origin == pytest.approx([0.001, -0.002, 0.01])


def test_met_and_vertices():
    values = {
        **PV,
        "MET_pt": np.float32(55.0),
        "MET_phi": np.float32(-1.0),
        "SV_x": f32(0.5, np.nan),
        "SV_y": f32(0.0, 0.0),
        "SV_z": f32(1.0, 0.0),
    }
    event = build(values)
    assert event.met is not None
    assert (event.met.source, event.met.pt, event.met.phi) == ("MET", 55.0, -1.0)
    pv, sv = event.vertices
    assert pv.collection == "vertices" and pv.positions == pytest.approx(
        np.array([[0.001, -0.002, 0.01]])
    )
    assert sv.collection == "secondary_vertices"
    assert sv.positions == pytest.approx(np.array([[0.005, 0.0, 0.01]]))
    assert event.skipped_nan == {"secondary_vertices": 1}
    assert event.counts["vertices"] == 1 and event.counts["secondary_vertices"] == 1


def test_identity_is_copied():
    event = build({})
    assert (event.run, event.lumi, event.event, event.index, event.source) == (
        1,
        2,
        3,
        0,
        "test.root",
    )


def test_absent_pf_candidates_are_not_a_warning():
    """Only PFNano files have PFCands: the default presets show them where present and say
    nothing where the whole collection is absent; a partial collection still warns."""
    style = load_style("publication")
    assert style.collections.pfcands.show
    plain = branch_plan(
        style, {"nMuon", "Muon_pt", "Muon_eta", "Muon_phi", "Muon_looseId", "PV_x", "PV_y", "PV_z"}
    )
    assert not any("PFCands" in w for w in plain.warnings)
    partial = branch_plan(style, {"PFCands_pt", "PFCands_eta", "PV_x", "PV_y", "PV_z"})
    assert any("PFCands_phi missing" in w for w in partial.warnings)


def test_absent_pf_candidates_warn_only_who_asked_for_towers():
    plain = {"nMuon", "Muon_pt", "Muon_eta", "Muon_phi", "Muon_looseId", "PV_x", "PV_y", "PV_z"}
    assert branch_plan(Style(), plain).warnings == []
    assert branch_plan(asking("em_towers"), plain).warnings == [
        "PFCands_* missing in this file: EM towers not drawn"
    ]
    both = branch_plan(asking("em_towers", "had_towers", "pfcands"), plain).warnings
    assert both == [
        "PFCands_* missing in this file: PF candidates not drawn",
        "PFCands_* missing in this file: EM towers and hadronic towers not drawn",
    ]
    # PF candidates without pdgId: tracks are drawn, towers cannot be split into EM and
    # hadronic; news only to who asked for towers.
    no_pdg = plain | {f"PFCands_{f}" for f in ("pt", "eta", "phi", "charge")}
    assert branch_plan(Style(), no_pdg).warnings == []
    plan = branch_plan(asking("had_towers"), no_pdg)
    assert plan.warnings == ["PFCands_pdgId missing: hadronic towers not drawn"]
    assert "had_towers" not in plan.drawable and "pfcands" in plan.drawable


def test_objects_of_analysis_quality_by_default() -> None:
    """Muons pass the loose ID by default; a file without the ID branch is drawn without the
    selection and says so once; id: none draws everything; an ID the collection does not have
    is a style error."""
    values = {
        **PV,
        "nMuon": np.int32(3),
        "Muon_pt": f32(40.0, 30.0, 20.0),
        "Muon_eta": f32(0.1, -0.2, 0.3),
        "Muon_phi": f32(0.0, 2.0, -2.0),
        "Muon_charge": np.array([1, -1, 1], dtype=np.int32),
        "Muon_looseId": np.array([True, False, True]),
    }
    event = build(values)
    assert tracks_of(event, "muons").pt.tolist() == [40.0, 20.0]
    assert event.failed_id == {"muons": 1}
    everything = Style()
    everything.collections.muons.id = "none"
    assert len(tracks_of(build(values, everything), "muons")) == 3
    without = {k: v for k, v in values.items() if k != "Muon_looseId"}
    plan = branch_plan(Style(), set(without))
    assert plan.warnings == ["Muon_looseId missing: muons drawn without the loose ID"]
    assert len(tracks_of(build(without), "muons")) == 3
    with pytest.raises(ValueError, match="'veto' is not an ID of muons: use none, loose"):
        load_style("publication", ["collections.muons.id=veto"])
