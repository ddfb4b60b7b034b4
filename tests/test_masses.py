"""Invariant masses: four-vectors against values worked out by hand, the object lists the
figure uses, the checks that refuse impossible requests, and Z candidates in real collision
data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import uproot

from ispyrender.config.loader import load_style
from ispyrender.config.style import MassRequest
from ispyrender.errors import StyleError
from ispyrender.physics.nanoaod import branch_plan, build_event
from ispyrender.physics.objects import Jets, Photons, PhysicsEvent, Tracks
from ispyrender.physics.quantities import (
    ELECTRON_MASS,
    MUON_MASS,
    event_objects,
    four_vectors,
    invariant_mass,
    mass_label,
    masses,
    served_mass_requests,
)
from ispyrender.sources.nanoaod import Dataset


def test_four_vector_components() -> None:
    ((e, px, py, pz),) = four_vectors([10.0], [0.0], [math.pi / 2], [0.0])
    assert (e, px, py, pz) == pytest.approx((10.0, 0.0, 10.0, 0.0), abs=1e-12)
    # eta = ln(2 + sqrt 5): sinh = 2, so pz = 2 pT and |p| = sqrt(5) pT.
    eta = math.log(2.0 + math.sqrt(5.0))
    ((e, px, py, pz),) = four_vectors([3.0], [eta], [0.0], [4.0])
    assert pz == pytest.approx(6.0)
    assert e == pytest.approx(math.sqrt(9.0 + 36.0 + 16.0))


def test_back_to_back_muons() -> None:
    # Two muons of pT 45.6 GeV at eta = 0, opposite in phi: m = 2 sqrt(pT^2 + m_mu^2).
    m = invariant_mass([45.6, 45.6], [0.0, 0.0], [0.0, math.pi], [MUON_MASS, MUON_MASS])
    assert m == pytest.approx(2.0 * math.sqrt(45.6**2 + MUON_MASS**2), rel=1e-12)
    assert m == pytest.approx(91.2, abs=0.001)


def test_massless_pair_formula() -> None:
    # For massless objects m^2 = 2 pT1 pT2 (cosh(d eta) - cos(d phi)):
    # 2 x 30 x 40 x (cosh 1.5 - cos 90deg) = 2400 x 2.352409615 = 5645.783 -> 75.138 GeV.
    m = invariant_mass([30.0, 40.0], [1.0, -0.5], [0.0, math.pi / 2], [0.0, 0.0])
    assert m == pytest.approx(75.1384, abs=1e-3)


def test_four_electrons_at_rest_frame_corners() -> None:
    # Four electrons of pT 10 at eta = 0 spread in phi every 90 degrees: the momenta cancel,
    # so m = sum of energies = 4 sqrt(100 + m_e^2).
    phi = [0.0, math.pi / 2, math.pi, 3 * math.pi / 2]
    m = invariant_mass([10.0] * 4, [0.0] * 4, phi, [ELECTRON_MASS] * 4)
    assert m == pytest.approx(4.0 * math.sqrt(100.0 + ELECTRON_MASS**2), rel=1e-12)


def _event() -> PhysicsEvent:
    muons = Tracks(
        "muons", "Muon", np.array([50.0, 40.0, 5.0]), np.zeros(3), np.array([0.0, math.pi, 1.0]),
        np.array([1.0, -1.0, 1.0]), np.zeros((3, 3)), np.full(3, "muon"),
    )  # fmt: skip
    electrons = Tracks(
        "electrons", "Electron", np.array([45.0]), np.zeros(1), np.array([2.0]),
        np.array([-1.0]), np.zeros((1, 3)), np.full(1, "ecal"),
    )  # fmt: skip
    photons = Photons("photons", "Photon", np.array([30.0]), np.zeros(1), np.zeros(1),
                      np.array([30.0]), np.zeros(3))  # fmt: skip
    # A jet of pT 100 at eta 0 with mass 10 GeV: E = sqrt(100^2 + 10^2).
    jets = Jets("jets", "Jet", np.array([100.0]), np.zeros(1), np.zeros(1),
                np.array([math.hypot(100.0, 10.0)]), 0.4, np.zeros(3))  # fmt: skip
    return PhysicsEvent(1, 1, 1, 0, "x", False, tracks=[muons, electrons], jets=[jets],
                        photons=photons)  # fmt: skip


def test_event_objects_and_leptons_merge_by_pt() -> None:
    objects = event_objects(_event())
    leptons = objects["leptons"]
    assert leptons.pt.tolist() == [50.0, 45.0, 40.0, 5.0]
    assert leptons.kind.tolist() == ["muons", "electrons", "muons", "muons"]
    assert leptons.mass[1] == ELECTRON_MASS and leptons.mass[0] == MUON_MASS
    assert objects["jets"].mass[0] == pytest.approx(10.0)
    assert objects["photons"].mass[0] == 0.0


def test_masses_of_requests() -> None:
    event = _event()
    requests = [
        MassRequest(collection="muons"),
        MassRequest(collection="leptons", count=4),
        MassRequest(collection="photons", count=2),
        MassRequest(collection="muons", count=None),
    ]
    two_mu, four_l, two_gamma, all_mu = masses(event, requests)
    # The two leading muons are back to back at eta 0 with pT 50 and 40.
    e1, e2 = math.hypot(50.0, MUON_MASS), math.hypot(40.0, MUON_MASS)
    assert two_mu.value == pytest.approx(math.sqrt((e1 + e2) ** 2 - 10.0**2))
    # The pair is opposite-sign (mu+ 50, mu- 40), and its label says so.
    assert two_mu.text == f"$m(\\mu^{{+}}\\mu^{{-}})$ = {two_mu.value:.1f} GeV"
    # mu+ mu- mu+ e-: one opposite-sign same-flavour pair at most, so no 4-lepton candidate.
    assert four_l.value is None and four_l.label == "$m(4\\ell)$"
    assert four_l.text == "$m(4\\ell)$: no two opposite-sign same-flavour pairs"
    assert two_gamma.value is None and two_gamma.count == 1  # only one photon: not drawn
    # Three muons of total charge +1 are not a neutral state: no mass.
    assert all_mu.label == "$m(\\mu\\mu\\mu)$" and all_mu.value is None
    assert "total charge +1" in all_mu.text


def test_mass_labels() -> None:
    assert mass_label(MassRequest(collection="photons"), 2) == "$m(\\gamma\\gamma)$"
    assert mass_label(MassRequest(collection="electrons"), 2) == "$m(\\mathrm{e}\\mathrm{e})$"
    assert mass_label(MassRequest(collection="muons", label="$m_{Z}$"), 2) == "$m_{Z}$"


def test_request_for_a_collection_the_file_lacks_is_left_out_with_a_note() -> None:
    style = load_style(
        "publication", ["figure.masses=[{collection: photons}, {collection: muons}]"]
    )
    kept, notes = served_mass_requests(style, {"Muon_pt", "Muon_eta", "Muon_phi"})
    assert [m.collection for m in kept] == ["muons"]
    assert notes == ["the photons mass is left out: this file has no Photon_pt/eta/phi"]
    # The style itself is not changed.
    assert [m.collection for m in style.figure.masses] == ["photons", "muons"]


def test_default_figure_of_a_file_without_photons(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The default figure asks for several masses; a dimuon skim without photons still gets
    its figure (with m(μ⁺μ⁻)), and the photon mass is a note, not the end of the run."""
    import subprocess
    import sys

    import awkward as ak
    import numpy as np
    import uproot

    path = tmp_path / "muons_only.root"
    muon = {"pt": 45.0, "eta": 0.3, "phi": 0.1, "charge": 1, "mass": 0.106}
    columns = {
        "run": np.array([1], np.uint32),
        "luminosityBlock": np.array([1], np.uint32),
        "event": np.array([7], np.uint64),
        "Muon": ak.Array([[muon, {**muon, "phi": 2.5, "charge": -1}]]),
    }
    with uproot.recreate(path) as file:
        # mktree + extend: a TTree with NanoAOD's names (nMuon, Muon_pt, ...).
        types = {
            k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in columns.items()
        }
        file.mktree("Events", types)
        file["Events"].extend(columns)
    done = subprocess.run(
        [sys.executable, "-m", "ispyrender", "figure", str(path), "--out", str(tmp_path / "f")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "the photons mass is left out: this file has no Photon_pt/eta/phi" in done.stderr
    assert len(list((tmp_path / "f").glob("*.png"))) == 1


def test_request_for_a_hidden_collection() -> None:
    style = load_style(
        "publication",
        ["figure.masses=[{collection: electrons}]", "collections.electrons.show=false"],
    )
    with pytest.raises(StyleError, match=r"collections\.electrons\.show is false"):
        served_mass_requests(style, {"Electron_pt", "Electron_eta", "Electron_phi"})


def test_unknown_collection_is_a_style_error_listing_the_choices() -> None:
    with pytest.raises(StyleError) as info:
        load_style("publication", ["figure.masses=[{collection: quarks}]"])
    assert "figure.masses[0].collection = 'quarks'" in str(info.value)
    assert "'muons', 'electrons', 'leptons', 'photons'" in str(info.value)


def test_z_candidates_in_real_dimuon_data(shared_data) -> None:  # type: ignore[no-untyped-def]
    path = shared_data / "nanoaod" / "nano_dimuon.root"
    style = load_style("paper")
    request = [MassRequest(collection="muons", count=2)]
    found = {}
    with Dataset([str(path)]) as dataset:
        plan = branch_plan(style, dataset.available_branches())
        for record in dataset.iter_events(list(range(len(dataset))), plan.branches):
            (result,) = masses(build_event(record, style, plan), request)
            if result.value is not None:
                found[record.index] = result.value
    # Independently, straight from the branches: of the muons above the style's min_pt, the
    # opposite-sign pair closest to m(Z), with NanoAOD's own Muon_mass.
    names = ["Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge", "Muon_looseId"]
    arrays = uproot.open(path)["Events"].arrays(names, library="np")
    min_pt = style.collections.muons.min_pt
    for index in range(len(arrays["Muon_pt"])):
        pt, charge = arrays["Muon_pt"][index], arrays["Muon_charge"][index]
        drawn = [i for i in range(pt.size) if pt[i] >= min_pt and arrays["Muon_looseId"][index][i]]
        pairs = [[i, j] for i in drawn for j in drawn if i < j and charge[i] * charge[j] < 0]
        values = [
            invariant_mass(*(arrays[f"Muon_{f}"][index][p] for f in ("pt", "eta", "phi", "mass")))
            for p in pairs
        ]
        if not values:
            assert index not in found  # same-sign or single muons: no number at all
            continue
        expected = min(values, key=lambda m: abs(m - 91.1876))
        # NanoAOD stores float32: the two agree to its precision.
        assert found[index] == pytest.approx(expected, rel=1e-4)
    z_window = [v for v in found.values() if 81.0 < v < 101.0]
    # 33 events have two muons or more; in 9 of them no two loose muons are of opposite
    # sign: no number.
    assert len(found) == 24
    # The file mixes low-mass pairs with a handful of Z bosons: those cluster tightly at the
    # Z mass. (The J/psi at 3.1 GeV of entry 15 is made with a muon failing the loose ID.)
    assert len(z_window) >= 4
    assert np.mean(z_window) == pytest.approx(91.19, abs=1.5)
    assert not any(3.0 < v < 3.2 for v in found.values())
