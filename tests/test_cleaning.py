"""Cross-cleaning: jets, taus and fat jets that are the same object as a drawn lepton or photon.

Hand-made numbers for the matching (links, Delta R, phi wrap-around, index mapping after the
reader's pT cut), then both readers, then the real shared files, where the expected counts are
worked out here from the branches with plain loops, independently of the vectorised code.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
import uproot
from test_objects import record

from ispyrender.config.style import Style
from ispyrender.physics.cleaning import (
    MIN_SHARE,
    Drawn,
    Links,
    clean,
    delta_phi,
    delta_r,
    pairs_by_delta_r,
    pairs_by_links,
)
from ispyrender.physics.ispy import physics_event
from ispyrender.physics.nanoaod import branch_plan, build_event
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.sources.ispy import IgEvent
from ispyrender.sources.nanoaod import Dataset


def f32(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def i32(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int32)


def drawn(key: str, pt: list[float], eta: list[float], phi: list[float], index=None) -> Drawn:
    return Drawn(
        key,
        np.array(pt, dtype=float),
        np.array(eta, dtype=float),
        np.array(phi, dtype=float),
        None if index is None else np.array(index),
    )


# ---- geometry ----------------------------------------------------------------------------------


def test_delta_phi_wraps_around():
    assert float(delta_phi(3.1, -3.1)) == pytest.approx(6.2 - 2 * math.pi)
    assert float(delta_phi(-3.1, 3.1)) == pytest.approx(2 * math.pi - 6.2)
    assert float(delta_phi(0.5, 0.2)) == pytest.approx(0.3)
    dr = delta_r(np.array([0.0, 1.0]), np.array([3.1, 0.0]), np.array([0.3]), np.array([-3.1]))
    assert dr.shape == (2, 1)
    assert dr[0, 0] == pytest.approx(math.hypot(0.3, 2 * math.pi - 6.2))
    assert dr[1, 0] == pytest.approx(math.hypot(0.7, 3.1))


def test_each_drawn_object_goes_with_its_nearest_candidate_only():
    # A muon between two jets, 0.15 and 0.3 away: only the nearer one is its jet.
    jets, muons = pairs_by_delta_r(
        np.array([0.0, 0.45]), np.array([1.0, 1.0]), np.array([0.15]), np.array([1.0]), 0.4
    )
    assert jets.tolist() == [0] and muons.tolist() == [0]
    # Nothing within the radius: no pair (Delta R < radius, strictly).
    none = pairs_by_delta_r(np.array([0.0]), np.array([0.0]), np.array([0.4]), np.array([0]), 0.4)
    assert none[0].size == 0


# ---- the rule ----------------------------------------------------------------------------------


def test_delta_r_cleaning_across_phi_wrap_around():
    # Jet 0 at phi 3.1, the muon at phi -3.1: 0.08 apart across +-pi, the muon is the jet.
    result = clean(
        pt=np.array([45.0, 60.0]),
        eta=np.array([0.5, 0.5]),
        phi=np.array([3.1, 0.0]),
        drawn=[(drawn("muons", [40.0], [0.5], [-3.1]), None)],
        radius=0.4,
    )
    assert result.keep.tolist() == [False, True]
    assert result.removed == {"muons": 1}


def test_a_jet_holding_a_soft_lepton_is_kept():
    # A 5 GeV muon inside a 100 GeV jet (a b jet's semileptonic decay) is not that jet; a
    # 60 GeV muon carrying most of a 70 GeV jet is.
    result = clean(
        pt=np.array([100.0, 70.0]),
        eta=np.array([0.0, 2.0]),
        phi=np.array([0.0, 2.0]),
        drawn=[(drawn("muons", [5.0, 60.0], [0.05, 2.0], [0.0, 2.05]), None)],
        radius=0.4,
    )
    assert result.keep.tolist() == [True, False]
    assert MIN_SHARE == 0.5


def test_shares_add_up_and_the_largest_names_the_reason():
    # 15 GeV of electron and 10 GeV of photon make 25 of a 45 GeV jet: the same object, counted
    # under electrons; alone, neither would be half of it.
    objects = [
        (drawn("electrons", [15.0], [1.0], [1.0]), None),
        (drawn("photons", [10.0], [1.1], [0.9]), None),
    ]
    result = clean(np.array([45.0]), np.array([1.0]), np.array([1.0]), objects, 0.4)
    assert result.keep.tolist() == [False]
    assert result.removed == {"electrons": 1}
    alone = clean(np.array([45.0]), np.array([1.0]), np.array([1.0]), objects[1:], 0.4)
    assert alone.keep.tolist() == [True] and alone.removed == {}


def test_links_count_in_the_whole_collections():
    """The file has 4 muons and 4 jets; the reader keeps muons 2 and 0 (in that order, by pT)
    and jets 3 and 1. Links name whole-collection indices and must be mapped to those."""
    jet_muon1 = np.array([-1, 0, -1, 2])  # Jet_muonIdx1: jet 1 holds muon 0, jet 3 muon 2
    jet_muon2 = np.array([-1, 3, -1, -1])  # muon 3 (not drawn) is also in jet 1
    muon_jet = np.array([1, -1, 3, 1])  # Muon_jetIdx, the same links the other way
    cand, other = pairs_by_links(
        np.array([3, 1]), np.array([2, 0]), Links((jet_muon1, jet_muon2), muon_jet)
    )
    # (candidate position, drawn position): jet 3 (position 0) with muon 2 (position 0) and
    # jet 1 (position 1) with muon 0 (position 1), each once although linked both ways.
    assert sorted(zip(cand.tolist(), other.tolist(), strict=True)) == [(0, 0), (1, 1)]
    # The backward links alone find the same pairs.
    back = pairs_by_links(np.array([3, 1]), np.array([2, 0]), Links((), muon_jet))
    assert sorted(zip(back[0].tolist(), back[1].tolist(), strict=True)) == [(0, 0), (1, 1)]


def test_links_win_over_delta_r():
    # Jet 0 is linked to the muon although 1.0 away (its axis moved with the rest of the jet);
    # jet 1 sits on the muon but is not linked to it: the links decide.
    muons = drawn("muons", [30.0], [0.0], [0.0], index=[0])
    links = Links((np.array([0, -1]),), np.array([0]))
    result = clean(
        np.array([40.0, 35.0]),
        np.array([1.0, 0.0]),
        np.array([0.0, 0.05]),
        [(muons, links)],
        0.4,
        index=np.array([0, 1]),
    )
    assert result.keep.tolist() == [False, True]
    # Without the links' positions (index), Delta R decides.
    by_dr = clean(
        np.array([40.0, 35.0]), np.array([1.0, 0.0]), np.array([0.0, 0.05]), [(muons, links)], 0.4
    )
    assert by_dr.keep.tolist() == [True, False]


def test_a_link_to_an_object_not_drawn_removes_nothing():
    # Jet 0 holds muon 1, which the reader did not draw (below min_pt): only muon 0 is drawn.
    muons = drawn("muons", [50.0], [2.0], [2.0], index=[0])
    result = clean(
        np.array([30.0]),
        np.array([0.0]),
        np.array([0.0]),
        [(muons, Links((np.array([1]),), np.array([-1, 0])))],
        0.4,
        index=np.array([0]),
    )
    assert result.keep.tolist() == [True]


def test_empty_inputs():
    assert clean(np.zeros(0), np.zeros(0), np.zeros(0), [], 0.4).keep.size == 0
    nothing = clean(np.array([50.0]), np.array([0.0]), np.array([0.0]), [], 0.4)
    assert nothing.keep.tolist() == [True] and nothing.removed == {}
    no_muons = drawn("muons", [], [], [], index=[])
    result = clean(np.array([50.0]), np.array([0.0]), np.array([0.0]), [(no_muons, None)], 0.4)
    assert result.keep.tolist() == [True]


# ---- the NanoAOD reader ------------------------------------------------------------------------


def build(values: dict[str, Any], style: Style | None = None) -> PhysicsEvent:
    style = style or Style()
    return build_event(record(values), style, branch_plan(style, set(values)))


def _dimuon_event() -> dict[str, Any]:
    """Three muons in file order: 2 GeV (below min_pt 3), 35 and 45 GeV; four jets: 50 GeV
    (holds muon 2, the 45 GeV one), 15 GeV (below min_pt 20), 40 GeV (holds muon 1) and 80 GeV
    (holds the 2 GeV muon 0, not drawn). The links name positions in these whole collections;
    the reader sorts by pT (muons 2, 1; jets 3, 0, 2), so they must be mapped."""
    return {
        "Muon_pt": f32(2.0, 35.0, 45.0),
        "Muon_eta": f32(0.1, -1.0, 1.0),
        "Muon_phi": f32(0.2, -2.0, 2.0),
        "Muon_charge": i32(1, -1, 1),
        "Muon_jetIdx": i32(3, 2, 0),
        "Jet_pt": f32(50.0, 15.0, 40.0, 80.0),
        # Jet 0's axis is 0.5 from its muon: only the link knows they are one.
        "Jet_eta": f32(1.5, 0.0, -1.0, 0.1),
        "Jet_phi": f32(2.0, 1.0, -2.0, 0.2),
        "Jet_mass": f32(5.0, 2.0, 4.0, 8.0),
        "Jet_muonIdx1": i32(2, -1, 1, 0),
        "Jet_muonIdx2": i32(-1, -1, -1, -1),
        "PV_x": np.float32(0.0),
        "PV_y": np.float32(0.0),
        "PV_z": np.float32(0.0),
    }


def _jets(event: PhysicsEvent, key: str = "jets"):
    (found,) = [j for j in event.jets if j.collection == key]
    return found


def test_reader_maps_links_through_its_pt_cut_and_sorting():
    event = build(_dimuon_event())
    jets = _jets(event)
    assert jets.pt.tolist() == [80.0]  # 50 and 40 are the muons; 15 is below min_pt
    assert event.removed == {"jets": {"muons": 2}}
    assert event.counts["jets"] == 1 and event.counts["muons"] == 2


def test_reader_cleans_only_against_drawn_objects():
    style = Style()
    style.collections.muons.min_pt = 40.0  # the 35 GeV muon is no longer drawn
    event = build(_dimuon_event(), style)
    assert _jets(event).pt.tolist() == [80.0, 40.0]
    assert event.removed == {"jets": {"muons": 1}}
    style.collections.muons.show = False
    event = build(_dimuon_event(), style)
    assert _jets(event).pt.tolist() == [80.0, 50.0, 40.0] and event.removed == {}


def test_reader_applies_max_count_after_cleaning():
    style = Style()
    style.collections.jets.max_count = 1
    style.collections.jets.min_pt = 10.0
    event = build(_dimuon_event(), style)
    # Cleaning leaves 80 and 15; max_count keeps the leading one: one jet is drawn, not zero.
    assert _jets(event).pt.tolist() == [80.0]
    assert event.counts["jets"] == 1


def test_reader_cleaning_can_be_switched_off():
    style = Style()
    style.cleaning.enabled = False
    event = build(_dimuon_event(), style)
    assert _jets(event).pt.tolist() == [80.0, 50.0, 40.0]
    assert event.removed == {} and event.counts["jets"] == 3


def test_reader_falls_back_to_delta_r_without_links():
    values = {k: v for k, v in _dimuon_event().items() if "Idx" not in k}
    event = build(values)
    # Jet 2 (40 GeV) is on the 35 GeV muon; jet 0's axis is 0.5 from its muon: kept.
    assert _jets(event).pt.tolist() == [80.0, 50.0]
    assert event.removed == {"jets": {"muons": 1}}


def test_reader_taus_and_fat_jets_by_delta_r():
    values = _dimuon_event()
    values.update(
        {
            # A tau on the 45 GeV muon (a muon taken for a tau), one elsewhere.
            "Tau_pt": f32(44.0, 30.0),
            "Tau_eta": f32(1.02, -2.0),
            "Tau_phi": f32(1.98, 0.5),
            "Tau_mass": f32(0.1, 1.0),
            # A fat jet 0.6 from the 35 GeV muon (inside R = 0.8) and mostly it.
            "FatJet_pt": f32(200.0, 60.0),
            "FatJet_eta": f32(0.0, -1.0),
            "FatJet_phi": f32(0.0, -2.6),
            "FatJet_mass": f32(20.0, 10.0),
        }
    )
    style = Style()
    style.collections.fatjets.min_pt = 50.0
    event = build(values, style)
    assert _jets(event, "taus").pt.tolist() == [30.0]
    assert _jets(event, "fatjets").pt.tolist() == [200.0]
    assert event.removed["taus"] == {"muons": 1}
    assert event.removed["fatjets"] == {"muons": 1}
    assert event.counts["taus"] == 1 and event.counts["fatjets"] == 1


def test_reader_photon_links_and_int16_indices():
    # Run 3 NanoAOD stores the links as int16: Photon_jetIdx names the jet a photon is in.
    values = {
        "Photon_pt": f32(60.0, 8.0),
        "Photon_eta": f32(0.3, 2.0),
        "Photon_phi": f32(0.3, 2.0),
        "Photon_jetIdx": np.array([1, 0], dtype=np.int16),
        "Jet_pt": f32(90.0, 70.0),
        "Jet_eta": f32(2.0, 0.3),
        "Jet_phi": f32(2.0, 0.3),
        "Jet_mass": f32(5.0, 5.0),
    }
    event = build(values)
    # Jet 1 is the photon; jet 0 holds an 8 GeV photon, which is not it.
    assert _jets(event).pt.tolist() == [90.0]
    assert event.removed == {"jets": {"photons": 1}}


# ---- the iSpy reader ---------------------------------------------------------------------------


def test_ispy_reader_cleans_jets_by_delta_r():
    event = IgEvent(
        index=0,
        source="test.ig",
        run=1,
        lumi=1,
        event=1,
        time=None,
        collections={
            "GlobalMuons_V1": [{"pt": 40.0, "eta": 0.5, "phi": 3.12, "charge": 1}],
            "Points_V1": [{"pos": [0.0, 0.0, 0.0]}, {"pos": [-4.0, 0.1, 2.0]}],
            "PFJets_V1": [
                {"et": 45.0, "eta": 0.5, "phi": -3.12},  # the muon, across phi = +-pi
                {"et": 30.0, "eta": -1.0, "phi": 0.0},
            ],
        },
        associations={"MuonGlobalPoints_V1": [(0, 0), (0, 1)]},
    )
    physics = physics_event(event, Style())
    (jets,) = physics.jets
    assert jets.pt.tolist() == [30.0]
    assert physics.removed == {"jets": {"muons": 1}}
    assert physics.counts["jets"] == 1 and physics.counts["muons"] == 1


# ---- real files --------------------------------------------------------------------------------


def _wrap(phi: float) -> float:
    return (phi + math.pi) % (2 * math.pi) - math.pi


def _drawn_positions(pt: list[float], min_pt: float) -> list[int]:
    """The reader's selection, written out: finite pT >= min_pt (and > 0)."""
    return [i for i, p in enumerate(pt) if math.isfinite(p) and p > 0 and p >= min_pt]


def _passes_default_id(ev: dict, coll: str, i: int) -> bool:  # type: ignore[type-arg]
    """The default analysis IDs, written out: loose muons, loose electrons, loose photons."""
    if coll == "Muon":
        return bool(ev["Muon_looseId"][i])
    if coll == "Electron":
        return ev["Electron_cutBased"][i] >= 2
    if "Photon_cutBased" in ev:
        return ev["Photon_cutBased"][i] >= 1
    return bool(ev["Photon_cutBasedBitmap"][i] & 1)


def _expected_removed(path: Path, entries: int) -> tuple[dict[str, dict[str, int]], int]:
    """Per cleaned collection and reason, the objects to remove over the first ``entries``
    events, and the number of jets to draw, from the branches with plain loops."""
    style = Style()
    cols = style.collections
    names = [
        f"{c}_{f}"
        for c in ("Muon", "Electron", "Photon", "Jet", "Tau", "FatJet")
        for f in ("pt", "eta", "phi")
    ]
    links = ["Jet_muonIdx1", "Jet_muonIdx2", "Jet_electronIdx1", "Jet_electronIdx2"]
    links += ["Muon_jetIdx", "Electron_jetIdx", "Photon_jetIdx", "Muon_charge", "Electron_charge"]
    tree = uproot.open(path)["Events"]
    egamma = [b for b in ("Photon_electronIdx", "Electron_photonIdx") if b in tree]
    egamma += ["Muon_looseId", "Electron_cutBased", "Jet_jetId"]
    egamma += [b for b in ("Photon_cutBased", "Photon_cutBasedBitmap") if b in tree][:1]
    arrays = tree.arrays(names + links + egamma, entry_stop=entries)
    removed: dict[str, dict[str, int]] = {}
    drawn_jets = 0

    def count(key: str, why: str) -> None:
        removed.setdefault(key, {})
        removed[key][why] = removed[key].get(why, 0) + 1

    for ev in ak.to_list(arrays):
        objects: dict[str, list[tuple[int, float, float, float]]] = {}
        for key, coll in (("muons", "Muon"), ("electrons", "Electron"), ("photons", "Photon")):
            pts = ev[f"{coll}_pt"]
            keep = _drawn_positions(pts, getattr(cols, key).min_pt)
            keep = [i for i in keep if _passes_default_id(ev, coll, i)]
            if key != "photons":
                keep = [i for i in keep if ev[f"{coll}_charge"][i] != 0]
            objects[key] = [(i, pts[i], ev[f"{coll}_eta"][i], ev[f"{coll}_phi"][i]) for i in keep]
        # Photons that are a drawn electron (linked either way, or within Delta R 0.1) are
        # drawn as the electron only.
        electrons = {i: (eta, phi) for i, _, eta, phi in objects["electrons"]}
        kept_photons = []
        for i, p, eta, phi in objects["photons"]:
            linked = "Photon_electronIdx" in ev and ev["Photon_electronIdx"][i] in electrons
            linked |= "Electron_photonIdx" in ev and any(
                ev["Electron_photonIdx"][e] == i for e in electrons
            )
            near = any(math.hypot(eta - e, _wrap(phi - f)) < 0.1 for e, f in electrons.values())
            if linked or near:
                count("photons", "electrons")
            else:
                kept_photons.append((i, p, eta, phi))
        objects["photons"] = kept_photons
        # Jets: linked leptons and photons, both directions of the links.
        for j in _drawn_positions(ev["Jet_pt"], cols.jets.min_pt):
            if not ev["Jet_jetId"][j] & 2:  # the default tight jet ID
                continue
            share = {}
            for key, coll, forward in (
                ("muons", "Muon", ("Jet_muonIdx1", "Jet_muonIdx2")),
                ("electrons", "Electron", ("Jet_electronIdx1", "Jet_electronIdx2")),
                ("photons", "Photon", ()),
            ):
                linked = {ev[name][j] for name in forward}
                linked |= {i for i in range(len(ev[f"{coll}_pt"])) if ev[f"{coll}_jetIdx"][i] == j}
                share[key] = sum(p for i, p, _, _ in objects[key] if i in linked)
            if sum(share.values()) >= 0.5 * ev["Jet_pt"][j] and sum(share.values()) > 0:
                count("jets", max(share, key=lambda k: share[k]))
            else:
                drawn_jets += 1
        # Taus (against leptons and photons) and fat jets (against leptons): each drawn
        # object with its nearest candidate within the radius.
        for key, coll, radius, by in (
            ("taus", "Tau", 0.4, ("muons", "electrons", "photons")),
            ("fatjets", "FatJet", 0.8, ("muons", "electrons")),
        ):
            cands = _drawn_positions(ev[f"{coll}_pt"], getattr(cols, key).min_pt)
            share_of: dict[int, dict[str, float]] = {c: {} for c in cands}
            for lepton in by:
                for _, p, eta, phi in objects[lepton]:
                    dist = {
                        c: math.hypot(eta - ev[f"{coll}_eta"][c], _wrap(phi - ev[f"{coll}_phi"][c]))
                        for c in cands
                    }
                    if dist and min(dist.values()) < radius:
                        nearest = min(dist, key=lambda c: dist[c])
                        share_of[nearest][lepton] = share_of[nearest].get(lepton, 0.0) + p
            for c, share in share_of.items():
                if share and sum(share.values()) >= 0.5 * ev[f"{coll}_pt"][c]:
                    count(key, max(share, key=lambda k: share[k]))
    return removed, drawn_jets


def _measured(path: Path, entries: int) -> tuple[dict[str, dict[str, int]], int]:
    style = Style()
    totals: dict[str, dict[str, int]] = {}
    drawn_jets = 0
    with Dataset([str(path)]) as dataset:
        plan = branch_plan(style, dataset.available_branches())
        for record in dataset.iter_events(range(entries), plan.branches):
            event = build_event(record, style, plan)
            for key, reasons in event.removed.items():
                for why, n in reasons.items():
                    totals.setdefault(key, {})
                    totals[key][why] = totals[key].get(why, 0) + n
            # What is counted is what is drawn.
            assert event.counts["jets"] == len(_jets(event))
            drawn_jets += event.counts["jets"]
    return totals, drawn_jets


@pytest.mark.parametrize(
    ("name", "entries"),
    [
        ("nano_dimuon.root", 40),
        ("pfnano.root", 10),
        ("EGamma_2022E_v13.root", 100),
        ("NanoAODv5_sample.root", 200),
    ],
)
def test_cleaning_counts_on_real_files(name: str, entries: int, shared_data: Path) -> None:
    path = shared_data / "nanoaod" / name
    expected, expected_jets = _expected_removed(path, entries)
    measured, jets = _measured(path, entries)
    assert measured == expected
    assert jets == expected_jets
    if name == "nano_dimuon.root":
        # Z -> mu mu data: the jets made of the muons are the ones left out.
        assert expected["jets"]["muons"] >= 10


@pytest.mark.parametrize(
    "name",
    ["nanoaod/EGamma_2022E_v13.root", "nanoaod/nano_dy.root", "ig/DoubleElectron_Run2012C_0.ig"],
)
def test_no_photon_is_drawn_on_a_drawn_electron(name: str, shared_data: Path) -> None:
    """An ECAL deposit reconstructed as both an electron and a photon is drawn and counted
    once, as the electron: no drawn photon within Delta R 0.1 of a drawn electron."""
    from ispyrender.physics import EventBuilder
    from ispyrender.sources import open_source

    style = Style()
    removed = drawn = 0
    with open_source([str(shared_data / name)]) as source:
        events = list(EventBuilder(source, style).events(range(min(50, len(source)))))
    for event in events:
        electrons = next((t for t in event.tracks if t.collection == "electrons"), None)
        removed += event.removed.get("photons", {}).get("electrons", 0)
        if event.photons is None:
            continue
        drawn += len(event.photons)
        assert event.counts["photons"] == len(event.photons)
        if electrons is None or len(electrons) == 0:
            continue
        for eta, phi in zip(event.photons.eta, event.photons.phi, strict=True):
            dr = np.hypot(electrons.eta - eta, (electrons.phi - phi + np.pi) % (2 * np.pi) - np.pi)
            assert dr.min() >= 0.1, (event.entry, float(dr.min()))
    assert removed > 0 and drawn > 0  # the files have both: the check is not empty
