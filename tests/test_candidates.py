"""Masses of physical candidates: opposite-sign same-flavour pairs, CMS's 4l pairing, e-mu
pairs, checked against masses worked out by hand from the branches of real files."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import uproot

from ispyrender.config.loader import load_style
from ispyrender.physics import EventBuilder
from ispyrender.physics.candidates import electron_muon, four_lepton, z_candidate
from ispyrender.physics.quantities import ObjectList, leading_masses, masses
from ispyrender.sources import open_source

MZ = 91.1876
M_MU, M_E = 0.1056583755, 0.00051099895


def _objects(kinds: list[str], pts: list[float], charges: list[float]) -> ObjectList:
    n = len(pts)
    mass = [M_MU if k == "muons" else M_E for k in kinds]
    eta = np.linspace(-1.0, 1.0, n)
    phi = np.linspace(0.0, 3.0, n)
    return ObjectList(
        np.array(kinds, dtype="<U9"),
        np.array(pts, float),
        eta,
        phi,
        np.array(mass, float),
        np.array(charges, float),
    )


def _hand_mass(parts: list[tuple[float, float, float, float]]) -> float:
    """sqrt((sum E)^2 - |sum p|^2) from (pt, eta, phi, m), written out by hand."""
    e = px = py = pz = 0.0
    for pt, eta, phi, m in parts:
        p_x, p_y, p_z = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
        e += math.sqrt(p_x**2 + p_y**2 + p_z**2 + m**2)
        px, py, pz = px + p_x, py + p_y, pz + p_z
    return math.sqrt(max(e**2 - px**2 - py**2 - pz**2, 0.0))


def test_same_sign_pair_has_no_mass() -> None:
    found = z_candidate(_objects(["muons", "muons"], [40, 30], [1, 1]), "muons")
    assert found.value is None
    assert found.why == "no opposite-sign pair of one flavour"
    assert found.plain == "m(μ⁺μ⁻)"


def test_mixed_flavours_make_no_z_but_an_emu_pair() -> None:
    objects = _objects(["electrons", "muons"], [40, 30], [1, -1])
    assert z_candidate(objects, None).value is None
    assert z_candidate(objects, None).why == "no two leptons of one flavour"
    emu = electron_muon(objects)
    assert emu.value is not None and emu.plain == "m(e±μ∓)"
    same = electron_muon(_objects(["electrons", "muons"], [40, 30], [1, 1]))
    assert same.value is None


def test_z_candidate_is_the_pair_closest_to_the_z_mass() -> None:
    objects = _objects(["muons"] * 3, [45, 44, 5], [1, -1, -1])
    pairs = [(0, 1), (0, 2)]
    hand = [
        _hand_mass([(objects.pt[i], objects.eta[i], objects.phi[i], M_MU) for i in p])
        for p in pairs
    ]
    best = hand[int(np.argmin([abs(m - MZ) for m in hand]))]
    found = z_candidate(objects, "muons")
    assert found.value == pytest.approx(best, rel=1e-9)


def test_four_leptons_need_two_opposite_sign_same_flavour_pairs() -> None:
    # mu+ mu+ e- e-: total charge 0, but no opposite-sign same-flavour pair at all.
    bad = four_lepton(
        _objects(["muons", "muons", "electrons", "electrons"], [50, 40, 30, 20], [1, 1, -1, -1])
    )
    assert bad.value is None and bad.why == "no two opposite-sign same-flavour pairs"
    three_and_one = four_lepton(
        _objects(["muons", "muons", "muons", "electrons"], [50, 40, 30, 20], [1, -1, -1, -1])
    )
    assert three_and_one.value is None
    good = four_lepton(
        _objects(["muons", "muons", "electrons", "electrons"], [50, 40, 30, 20], [1, -1, 1, -1])
    )
    assert good.plain == "m(2e2μ)" and good.value is not None and len(good.parts) == 2


def _hand_z(pt, eta, phi, charge, m):  # type: ignore[no-untyped-def]
    best = None
    for i, j in itertools.combinations(range(len(pt)), 2):
        if charge[i] * charge[j] >= 0:
            continue
        value = _hand_mass([(pt[k], eta[k], phi[k], m) for k in (i, j)])
        if best is None or abs(value - MZ) < abs(best - MZ):
            best = value
    return best


@pytest.mark.parametrize(
    ("name", "prefix", "mass", "entries", "least"),
    [
        ("nano_dimuon.root", "Muon", M_MU, 40, 20),
        ("nano_dy.root", "Muon", M_MU, 40, 3),
        ("nano_dy.root", "Electron", M_E, 40, 2),
        # A skim of single electrons: 2 of its 100 events have two loose electrons of opposite
        # sign (12 without the ID: pairs of electrons that fail it).
        ("EGamma_2022E_v13.root", "Electron", M_E, 100, 2),
        ("NanoAODv5_sample.root", "Muon", M_MU, 200, 15),
        ("NanoAODv5_sample.root", "Electron", M_E, 200, 2),
        # Single-lepton ttbar: no opposite-sign pair of one flavour in 200 events, no mass.
        ("nanoAOD_2015_CMS_Open_Data_ttbar.root", "Muon", M_MU, 200, 0),
        ("nanoAOD_2015_CMS_Open_Data_ttbar.root", "Electron", M_E, 200, 0),
        ("pfnano.root", "Muon", M_MU, 10, 0),
        ("missing_luminosityBlock.root", "Muon", M_MU, 2, 0),
    ],
)
def test_manifest_masses_are_those_of_opposite_sign_pairs_worked_out_by_hand(
    name: str, prefix: str, mass: float, entries: int, least: int, shared_data: Path
) -> None:
    path = shared_data / "nanoaod" / name
    style = load_style("publication", [])
    key = "dimuon" if prefix == "Muon" else "dielectron"
    with open_source([str(path)]) as source:
        builder = EventBuilder(source, style)
        events = list(builder.events(list(range(min(entries, len(source))))))
    tree = uproot.open(path)["Events"]
    arrays = tree.arrays([f"{prefix}_{f}" for f in ("pt", "eta", "phi", "charge")], library="np")
    checked = 0
    for physics in events:
        found = {m.name: m.value for m in leading_masses(physics)}
        pt = arrays[f"{prefix}_pt"][physics.entry]
        eta = arrays[f"{prefix}_eta"][physics.entry]
        phi = arrays[f"{prefix}_phi"][physics.entry]
        charge = arrays[f"{prefix}_charge"][physics.entry]
        # The objects drawn: the style's pT threshold (and loose ID, where the file has it).
        keep = _drawn(tree, prefix, physics.entry, pt, style)
        hand = _hand_z(pt[keep], eta[keep], phi[keep], charge[keep], mass)
        if hand is None:
            assert key not in found, (physics.entry, found)
        else:
            # NanoAOD stores float32: the two agree to its precision.
            assert found[key] == pytest.approx(hand, rel=1e-4), physics.entry
            checked += 1
    assert checked >= least


def _drawn(tree, prefix, entry, pt, style):  # type: ignore[no-untyped-def]
    """The leptons the picture draws, written out: pT above the style's threshold and the
    default loose ID (Muon_looseId; Electron_cutBased >= 2)."""
    collection = "muons" if prefix == "Muon" else "electrons"
    keep = np.asarray(pt) >= getattr(style.collections, collection).min_pt
    if prefix == "Muon":
        return (
            keep
            & tree["Muon_looseId"].array(library="np", entry_start=entry, entry_stop=entry + 1)[0]
        )
    cut = tree["Electron_cutBased"].array(library="np", entry_start=entry, entry_stop=entry + 1)[0]
    return keep & (cut >= 2)


def test_figure_mass_request_of_leptons_pairs_them(shared_data: Path) -> None:
    path = shared_data / "nanoaod" / "nano_dimuon.root"
    style = load_style("paper", ["figure.masses=[{collection: muons, count: 2}]"])
    with open_source([str(path)]) as source:
        events = list(EventBuilder(source, style).events(list(range(len(source)))))
    same_sign = 0
    for physics in events:
        muons = next((t for t in physics.tracks if t.collection == "muons"), None)
        (result,) = masses(physics, style.figure.masses)
        if muons is None or len(muons) < 2:
            assert result.value is None
            continue
        if np.all(np.asarray(muons.charge) > 0) or np.all(np.asarray(muons.charge) < 0):
            same_sign += 1
            assert result.value is None, physics.entry
            assert "opposite-sign" in result.text
        else:
            assert result.value is not None
    assert same_sign >= 1  # the file has same-sign events: the check is not empty


@pytest.mark.parametrize(
    ("name", "least"), [("Hto4l_120-130GeV.ig", 5), ("DoubleElectron_Run2012C_0.ig", 0)]
)
def test_lepton_masses_of_the_ispy_files_worked_out_by_hand(
    name: str, least: int, shared_data: Path
) -> None:
    """Every event of both 2012 iSpy files: the dielectron, dimuon and four-lepton masses from
    GlobalMuons and GsfElectrons rows (pT above the style's thresholds), paired by hand as CMS
    pairs them."""
    from ispyrender.sources.ispy import IspySource

    style = load_style("publication", [])
    path = shared_data / "ig" / name
    checked = 0
    pairs_checked = 0
    with IspySource([str(path)]) as source:
        builder = EventBuilder(source, style)
        for raw in source.read(range(len(source))):
            found = {m.name: m.value for m in leading_masses(builder.build(raw))}
            leptons = []
            for name, kind, m in (("GlobalMuons", "mu", M_MU), ("GsfElectrons", "e", M_E)):
                min_pt = getattr(style.collections, "muons" if kind == "mu" else "electrons").min_pt
                for r in raw.rows(name):
                    if r["pt"] >= min_pt:
                        leptons.append((kind, r["charge"], (r["pt"], r["eta"], r["phi"], m)))
            best = None
            for z1 in itertools.combinations(range(len(leptons)), 2):
                a, b = (leptons[i] for i in z1)
                if a[0] != b[0] or a[1] * b[1] >= 0:
                    continue
                rest = [i for i in range(len(leptons)) if i not in z1]
                seconds = [
                    (i, j)
                    for i, j in itertools.combinations(rest, 2)
                    if leptons[i][0] == leptons[j][0] and leptons[i][1] * leptons[j][1] < 0
                ]
                if not seconds:
                    continue
                z2 = max(seconds, key=lambda p: leptons[p[0]][2][0] + leptons[p[1]][2][0])
                d = abs(_hand_mass([a[2], b[2]]) - MZ)
                if best is None or d < best[0]:
                    best = (d, _hand_mass([leptons[i][2] for i in (*z1, *z2)]))
            if best is None:
                assert "four_lepton" not in found
            else:
                assert found["four_lepton"] == pytest.approx(best[1], rel=1e-9)
                checked += 1
            for kind, key in (("mu", "dimuon"), ("e", "dielectron")):
                same = [lep for lep in leptons if lep[0] == kind]
                values = [
                    _hand_mass([a[2], b[2]])
                    for a, b in itertools.combinations(same, 2)
                    if a[1] * b[1] < 0
                ]
                if not values:
                    assert key not in found
                    continue
                hand = min(values, key=lambda v: abs(v - MZ))
                assert found[key] == pytest.approx(hand, rel=1e-9)
                pairs_checked += 1
    assert checked >= least and pairs_checked >= 5


def test_a_mass_the_objects_cannot_make_is_said_once(shared_data: Path, tmp_path: Path) -> None:
    """Figures of events whose muons are all one charge carry no m(μ⁺μ⁻), and the job says so
    once, with the number of figures and the reason."""
    import subprocess
    import sys

    data = str(shared_data / "nanoaod" / "nano_dimuon.root")
    small = ["--set", "canvas.width=640", "--set", "canvas.height=253"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ispyrender",
            "figure",
            data,
            "-n",
            "20",
            "-o",
            str(tmp_path),
            *small,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "m(µ⁺µ⁻) left out of 3 figure(s): no opposite-sign pair of one flavour" in result.stderr
