"""The built-in sample: a small, deterministic, NanoAOD-like simulation file.

It lets people (and tests) try ispyrender without downloading CMS data. Twenty events cycle
through recognisable topologies: Z->mumu, Z->ee, H->gammagamma, ttbar->lepton+jets and
multijet events with large missing transverse momentum. Decays are built with four-vectors,
so invariant masses come out right (Z ~ 91 GeV, H ~ 125 GeV, t ~ 172 GeV), Z daughters have
opposite charges and leptons lie within |eta| < 2.4.

Branch names and types follow Run-2 NanoAOD (float32 fields, int32 charges and pdgIds,
uint64 event numbers), except the counters: uproot always writes ``n<Coll>`` as int32 (like
NanoAOD v12+), which the reader handles anyway.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import uproot

__all__ = [
    "GENERATOR_VERSION",
    "NUM_EVENTS",
    "SEED",
    "TOPOLOGIES",
    "build_sample",
    "sample_path",
    "write_sample",
]

#: Bump when the generated content changes, so that stale cached copies are not reused.
GENERATOR_VERSION = 2  # 2: the analysis ID branches
SEED = 20240611
NUM_EVENTS = 20
TOPOLOGIES = ("Z->mumu", "Z->ee", "H->gammagamma", "ttbar->l+jets", "multijet+MET")

# Masses and widths in GeV (PDG values, rounded).
_M_Z, _W_Z = 91.1876, 2.4952
_M_H = 125.1
_M_W, _W_W = 80.377, 2.085
_M_TOP = 172.5
_M_B = 4.8
_M_MU = 0.10566
_M_E = 0.000511
_LEPTON_ETA = 2.4
_JET_ETA = 2.5

_COLLECTIONS: dict[str, dict[str, type[np.generic]]] = {
    "Muon": {
        "pt": np.float32,
        "eta": np.float32,
        "phi": np.float32,
        "mass": np.float32,
        "charge": np.int32,
        "dxy": np.float32,
        "dz": np.float32,
        "pdgId": np.int32,
    },
    "Photon": {"pt": np.float32, "eta": np.float32, "phi": np.float32, "mass": np.float32},
    "Jet": {
        "pt": np.float32,
        "eta": np.float32,
        "phi": np.float32,
        "mass": np.float32,
        "btagDeepFlavB": np.float32,
    },
    "FatJet": {"pt": np.float32, "eta": np.float32, "phi": np.float32, "mass": np.float32},
    "Tau": {
        "pt": np.float32,
        "eta": np.float32,
        "phi": np.float32,
        "mass": np.float32,
        "charge": np.int32,
    },
    "IsoTrack": {
        "pt": np.float32,
        "eta": np.float32,
        "phi": np.float32,
        "dxy": np.float32,
        "dz": np.float32,
        "pdgId": np.int32,
        "charge": np.int32,
    },
    "SV": {"x": np.float32, "y": np.float32, "z": np.float32},
}
_COLLECTIONS["Electron"] = dict(_COLLECTIONS["Muon"])
# The analysis IDs every generated object passes (a simulation without detector effects has
# nothing to fail): muon ID flags, electron and photon cut-based working points, jet ID bits.
_IDS: dict[str, dict[str, tuple[type[np.generic], Any]]] = {
    "Muon": {
        "looseId": (np.bool_, True),
        "mediumId": (np.bool_, True),
        "tightId": (np.bool_, True),
    },
    "Electron": {"cutBased": (np.int32, 4)},
    "Photon": {"cutBased": (np.int32, 3)},
    "Jet": {"jetId": (np.int32, 6)},
}
for _coll, _flags in _IDS.items():
    _COLLECTIONS[_coll] = {**_COLLECTIONS[_coll], **{name: t for name, (t, _) in _flags.items()}}
_ORDER = ("Muon", "Electron", "Photon", "Jet", "FatJet", "Tau", "IsoTrack", "SV")

Obj = dict[str, float]


# -- four-vectors: arrays [E, px, py, pz] ---------------------------------------------------


def _p4(pt: float, eta: float, phi: float, mass: float) -> np.ndarray:
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return np.array([np.sqrt(px * px + py * py + pz * pz + mass * mass), px, py, pz])


def _kin(p: np.ndarray) -> tuple[float, float, float, float]:
    """(pt, eta, phi, mass) of a four-vector."""
    e, px, py, pz = p
    pt = float(np.hypot(px, py))
    eta = float(np.arcsinh(pz / pt)) if pt > 0 else float(np.sign(pz) * 10.0)
    mass = float(np.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0)))
    return pt, eta, float(np.arctan2(py, px)), mass


def _mass(*ps: np.ndarray) -> float:
    return _kin(np.sum(ps, axis=0))[3]


def _boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    b2 = float(beta @ beta)
    if b2 == 0.0:
        return p.copy()
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = float(beta @ p[1:])
    e = gamma * (p[0] + bp)
    vec = p[1:] + ((gamma - 1.0) * bp / b2 + gamma * p[0]) * beta
    return np.array([e, *vec])


def _decay(
    rng: np.random.Generator, parent: np.ndarray, m1: float, m2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic two-body decay of ``parent`` into masses m1, m2, returned in the lab frame."""
    big_m = _kin(parent)[3]
    pstar = np.sqrt((big_m**2 - (m1 + m2) ** 2) * (big_m**2 - (m1 - m2) ** 2)) / (2 * big_m)
    cos_t = rng.uniform(-1.0, 1.0)
    sin_t = np.sqrt(1.0 - cos_t**2)
    phi = rng.uniform(-np.pi, np.pi)
    direction = np.array([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t])
    d1 = np.array([np.sqrt(pstar**2 + m1**2), *(pstar * direction)])
    d2 = np.array([np.sqrt(pstar**2 + m2**2), *(-pstar * direction)])
    beta = parent[1:] / parent[0]
    return _boost(d1, beta), _boost(d2, beta)


def _resonance(rng: np.random.Generator, mass: float, pt_scale: float) -> np.ndarray:
    pt = rng.exponential(pt_scale) + 1.0
    rapidity = rng.normal(0.0, 1.0)
    phi = rng.uniform(-np.pi, np.pi)
    mt = np.sqrt(mass**2 + pt**2)
    return np.array(
        [mt * np.cosh(rapidity), pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(rapidity)]
    )


def _breit_wigner(rng: np.random.Generator, mass: float, width: float) -> float:
    # Truncated so that a rare far tail cannot give an unphysical (or too light) parent.
    while True:
        m = mass + 0.5 * width * np.tan(np.pi * (rng.uniform() - 0.5))
        if abs(m - mass) < 5 * width:
            return float(m)


def _accepted(p: np.ndarray, max_eta: float, min_pt: float) -> bool:
    pt, eta, _phi, _m = _kin(p)
    return pt > min_pt and abs(eta) < max_eta


# -- objects ----------------------------------------------------------------------------------


def _lepton(rng: np.random.Generator, p: np.ndarray, pdg_id: int) -> Obj:
    pt, eta, phi, _ = _kin(p)
    mass = _M_MU if abs(pdg_id) == 13 else _M_E
    # A negative pdgId is the antiparticle: mu+ (-13) and e+ (-11) have charge +1.
    charge = -1 if pdg_id > 0 else 1
    return {
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "mass": mass,
        "charge": charge,
        "dxy": rng.normal(0.0, 0.002),
        "dz": rng.normal(0.0, 0.004),
        "pdgId": pdg_id,
    }


def _jet(rng: np.random.Generator, p: np.ndarray, b_tag: bool) -> Obj:
    pt, eta, phi, _ = _kin(p)
    return {
        "pt": pt,
        "eta": eta,
        "phi": phi,
        # Hadronisation gives jets a mass of a few percent of their momentum.
        "mass": pt * rng.uniform(0.05, 0.15),
        "btagDeepFlavB": rng.uniform(0.75, 0.99) if b_tag else rng.uniform(0.0, 0.1),
    }


def _simple(p: np.ndarray, mass: float | None = None) -> Obj:
    pt, eta, phi, m = _kin(p)
    return {"pt": pt, "eta": eta, "phi": phi, "mass": m if mass is None else mass}


def _recoil_jet(rng: np.random.Generator, system: np.ndarray) -> list[Obj]:
    """A jet balancing the transverse momentum of ``system`` (initial-state radiation)."""
    pt, _eta, phi, _ = _kin(system)
    if pt < 25.0:
        return []
    p = _p4(pt * rng.uniform(0.9, 1.1), rng.uniform(-2.5, 2.5), phi + np.pi, 0.0)
    return [_jet(rng, p, b_tag=False)]


class _Event:
    def __init__(self) -> None:
        self.objects: dict[str, list[Obj]] = {c: [] for c in _ORDER}
        self.met: tuple[float, float] = (0.0, 0.0)

    def soft_met(self, rng: np.random.Generator) -> None:
        self.met = (float(rng.exponential(12.0)), float(rng.uniform(-np.pi, np.pi)))


def _z_to_leptons(rng: np.random.Generator, flavour: int) -> _Event:
    mass = _M_MU if flavour == 13 else _M_E
    while True:
        z = _resonance(rng, _breit_wigner(rng, _M_Z, _W_Z), pt_scale=20.0)
        l1, l2 = _decay(rng, z, mass, mass)
        if _accepted(l1, _LEPTON_ETA, 10.0) and _accepted(l2, _LEPTON_ETA, 10.0):
            break
    ev = _Event()
    coll = "Muon" if flavour == 13 else "Electron"
    leptons = [_lepton(rng, l1, flavour), _lepton(rng, l2, -flavour)]
    ev.objects[coll] = sorted(leptons, key=lambda o: -o["pt"])
    ev.objects["Jet"] = _recoil_jet(rng, z)
    ev.soft_met(rng)
    return ev


def _h_to_photons(rng: np.random.Generator) -> _Event:
    while True:
        h = _resonance(rng, rng.normal(_M_H, 0.004 * _M_H), pt_scale=30.0)
        g1, g2 = _decay(rng, h, 0.0, 0.0)
        if _accepted(g1, 2.5, 20.0) and _accepted(g2, 2.5, 20.0):
            break
    ev = _Event()
    ev.objects["Photon"] = sorted([_simple(g1, 0.0), _simple(g2, 0.0)], key=lambda o: -o["pt"])
    ev.objects["Jet"] = _recoil_jet(rng, h)
    ev.soft_met(rng)
    return ev


def _ttbar(rng: np.random.Generator, with_fat_jet: bool) -> _Event:
    while True:
        # Tops back to back in the transverse plane, independent rapidities.
        pt = rng.exponential(90.0) + (250.0 if with_fat_jet else 20.0)
        phi = rng.uniform(-np.pi, np.pi)
        mt = np.sqrt(_M_TOP**2 + pt**2)
        tops = []
        for sign in (1.0, -1.0):
            y = rng.normal(0.0, 0.9)
            tops.append(
                np.array(
                    [
                        mt * np.cosh(y),
                        sign * pt * np.cos(phi),
                        sign * pt * np.sin(phi),
                        mt * np.sinh(y),
                    ]
                )
            )
        w_lep, b_lep = _decay(rng, tops[0], _breit_wigner(rng, _M_W, _W_W), _M_B)
        w_had, b_had = _decay(rng, tops[1], _breit_wigner(rng, _M_W, _W_W), _M_B)
        flavour = int(rng.choice([11, 13]))
        lep, nu = _decay(rng, w_lep, _M_MU if flavour == 13 else _M_E, 0.0)
        q1, q2 = _decay(rng, w_had, 0.0, 0.0)
        jets = [b_lep, b_had, q1, q2]
        if _accepted(lep, _LEPTON_ETA, 20.0) and all(_accepted(j, _JET_ETA, 25.0) for j in jets):
            break
    ev = _Event()
    # The leptonic top is a top or an antitop at random: t -> W+ b -> l+ nu b.
    top_is_particle = bool(rng.integers(0, 2))
    pdg_id = -flavour if top_is_particle else flavour
    coll = "Muon" if flavour == 13 else "Electron"
    ev.objects[coll] = [_lepton(rng, lep, pdg_id)]
    ev.objects["Jet"] = sorted(
        [
            _jet(rng, b_lep, True),
            _jet(rng, b_had, True),
            _jet(rng, q1, False),
            _jet(rng, q2, False),
        ],
        key=lambda o: -o["pt"],
    )
    if with_fat_jet:
        # A boosted hadronic top: its three quarks merge into one large-radius jet.
        ev.objects["FatJet"] = [_simple(b_had + q1 + q2)]
    # b hadrons fly a few millimetres before decaying: one displaced vertex per b jet.
    for b in (b_lep, b_had):
        direction = b[1:] / np.linalg.norm(b[1:])
        flight = rng.exponential(0.3)
        x, y, z = direction * flight
        ev.objects["SV"].append({"x": x, "y": y, "z": z})  # shifted by the PV later
    nu_pt, _eta, nu_phi, _ = _kin(nu)
    ev.met = (nu_pt * rng.uniform(0.9, 1.1), nu_phi + rng.normal(0.0, 0.05))
    return ev


def _multijet_met(rng: np.random.Generator) -> _Event:
    ev = _Event()
    invisible_pt = rng.uniform(150.0, 400.0)
    invisible_phi = rng.uniform(-np.pi, np.pi)
    jets = [
        _p4(rng.uniform(30.0, 120.0), rng.uniform(-2.5, 2.5), rng.uniform(-np.pi, np.pi), 0.0)
        for _ in range(int(rng.integers(2, 5)))
    ]
    # The leading jet balances the invisible system plus the other jets, so that the missing
    # transverse momentum is exactly the invisible one.
    total = invisible_pt * np.array([np.cos(invisible_phi), np.sin(invisible_phi)])
    total += np.sum([j[1:3] for j in jets], axis=0)
    lead_pt = float(np.hypot(*total))
    jets.append(_p4(lead_pt, rng.uniform(-1.5, 1.5), float(np.arctan2(-total[1], -total[0])), 0.0))
    ev.objects["Jet"] = sorted(
        (_jet(rng, j, b_tag=rng.uniform() < 0.15) for j in jets), key=lambda o: -o["pt"]
    )
    if rng.uniform() < 0.5:
        tau = _p4(rng.uniform(25.0, 80.0), rng.uniform(-2.3, 2.3), rng.uniform(-np.pi, np.pi), 1.2)
        obj = _simple(tau, 1.2)
        obj["charge"] = int(rng.choice([-1, 1]))
        ev.objects["Tau"] = [obj]
    ev.met = (invisible_pt, invisible_phi)
    return ev


def _soft_tracks(rng: np.random.Generator) -> list[Obj]:
    """Low-momentum charged hadrons: they curl visibly in the 3.8 T field."""
    tracks = []
    for _ in range(int(rng.integers(3, 9))):
        charge = int(rng.choice([-1, 1]))
        tracks.append(
            {
                "pt": rng.uniform(1.0, 10.0),
                "eta": rng.uniform(-_LEPTON_ETA, _LEPTON_ETA),
                "phi": rng.uniform(-np.pi, np.pi),
                "dxy": rng.normal(0.0, 0.01),
                "dz": rng.normal(0.0, 0.02),
                "pdgId": 211 * charge,  # pi+ is 211
                "charge": charge,
            }
        )
    return sorted(tracks, key=lambda o: -o["pt"])


_BUILDERS: tuple[Callable[[np.random.Generator, int], _Event], ...] = (
    lambda rng, _i: _z_to_leptons(rng, 13),
    lambda rng, _i: _z_to_leptons(rng, 11),
    lambda rng, _i: _h_to_photons(rng),
    lambda rng, i: _ttbar(rng, with_fat_jet=(i // len(TOPOLOGIES)) % 2 == 0),
    lambda rng, _i: _multijet_met(rng),
)


def build_sample(seed: int = SEED, num_events: int = NUM_EVENTS) -> dict[str, Any]:
    """The sample's branches: scalars as numpy arrays, collections as awkward records."""
    rng = np.random.default_rng(seed)
    events: list[_Event] = []
    pv = np.zeros((num_events, 3))
    for i in range(num_events):
        ev = _BUILDERS[i % len(_BUILDERS)](rng, i)
        ev.objects["IsoTrack"] = _soft_tracks(rng)
        # The beam spot sits a few hundred microns off the detector axis; z spreads ~3.5 cm.
        pv[i] = (rng.normal(0.01, 0.001), rng.normal(0.04, 0.001), rng.normal(0.0, 3.5))
        for sv in ev.objects["SV"]:
            sv["x"] += pv[i, 0]
            sv["y"] += pv[i, 1]
            sv["z"] += pv[i, 2]
        events.append(ev)
    data: dict[str, Any] = {
        "run": np.ones(num_events, dtype=np.uint32),
        "luminosityBlock": (1 + np.arange(num_events) // 10).astype(np.uint32),
        "event": (1001 + np.arange(num_events)).astype(np.uint64),
        "genWeight": np.ones(num_events, dtype=np.float32),
        "PV_x": pv[:, 0].astype(np.float32),
        "PV_y": pv[:, 1].astype(np.float32),
        "PV_z": pv[:, 2].astype(np.float32),
        "PV_npvs": (rng.poisson(30.0, num_events) + 1).astype(np.int32),
        "MET_pt": np.array([ev.met[0] for ev in events], dtype=np.float32),
        # Wrap to (-pi, pi] as NanoAOD stores it.
        "MET_phi": np.array(
            [np.arctan2(np.sin(ev.met[1]), np.cos(ev.met[1])) for ev in events], dtype=np.float32
        ),
    }
    for coll in _ORDER:
        fields = _COLLECTIONS[coll]
        counts = np.array([len(ev.objects[coll]) for ev in events], dtype=np.int64)
        columns = {}
        for name, dtype in fields.items():
            default = _IDS.get(coll, {}).get(name, (None, None))[1]
            flat = np.array(
                [obj.get(name, default) for ev in events for obj in ev.objects[coll]], dtype=dtype
            ).reshape(-1)
            columns[name] = ak.unflatten(flat, counts)
        data[coll] = ak.zip(columns)
    return data


def write_sample(path: Path, overwrite: bool = True) -> Path:
    """Write the sample to ``path`` atomically (temporary file in the same folder, then
    rename); an existing file is kept unless ``overwrite``. Problems are one line."""
    from ispyrender.errors import OutputError

    path = Path(path)
    data = build_sample()
    try:
        if path.is_dir():
            raise OutputError(f"{path} is a folder: give a file name, e.g. {path / 'sample.root'}")
        if path.exists() and not overwrite:
            raise OutputError(f"{path} already exists: pass --overwrite to replace it")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(
            f"cannot write {path} ({exc.strerror or type(exc).__name__}): choose another --out"
        ) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with uproot.recreate(tmp) as file:
            # mktree + extend writes a TTree with NanoAOD names (nMuon, Muon_pt, ...);
            # assigning a dict to file["Events"] would write an RNTuple in recent uproot.
            types = {
                k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in data.items()
            }
            file.mktree("Events", types, title="Events")
            file["Events"].extend(data)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a quota
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(
            f"cannot write {path} ({exc.strerror or type(exc).__name__}): free some space or "
            "choose another --out"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ispyrender"


def sample_path() -> Path:
    """Path of the cached sample file, generating it on first use."""
    path = _cache_dir() / f"sample-v{GENERATOR_VERSION}-seed{SEED}.root"
    if not path.is_file():
        write_sample(path)
    return path
