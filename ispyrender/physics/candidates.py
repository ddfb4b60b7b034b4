"""Physical candidates, paired as CMS analyses pair them, for the masses a picture prints.

A mass is only printed for objects that can come from one decay:

* a Z (or J/psi, Upsilon) candidate: an opposite-sign, same-flavour lepton pair; of several,
  the one closest to m(Z) = 91.1876 GeV (``dimuon``, ``dielectron``; ``dilepton`` over both
  flavours);
* an e-mu pair (``electron_muon``): the opposite-sign pair of an electron and a muon with the
  highest summed pT;
* H -> ZZ* -> 4l (``four_lepton``): Z1 the opposite-sign same-flavour pair closest to m(Z), Z2
  the opposite-sign same-flavour pair of the remaining leptons with the highest summed pT, four
  distinct leptons; channels 4mu, 4e, 2e2mu;
* photons and jets: the leading ones (photons that are electrons are not photons: the physics
  stage has removed them already).

Where no such candidate exists, there is no number, and :attr:`Candidate.why` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ispyrender.physics.quantities import ObjectList, invariant_mass

__all__ = ["Z_MASS", "Candidate", "electron_muon", "four_lepton", "leading", "z_candidate"]

Z_MASS = 91.1876  # GeV, PDG

#: Mathtext and plain text of one lepton of each flavour.
_MATH = {"muons": r"\mu", "electrons": r"\mathrm{e}"}
_PLAIN = {"muons": "μ", "electrons": "e"}


@dataclass(frozen=True)
class Candidate:
    """One candidate's mass (None when the event has none), its labels and its parts."""

    value: float | None
    label: str  # mathtext, e.g. "$m(\\mu^{+}\\mu^{-})$"
    plain: str  # the same as plain text, "m(μ⁺μ⁻)"
    count: int  # objects in the candidate (or found, when there is none)
    why: str = ""  # why there is no candidate
    #: The masses of its pairs (four leptons: m(Z1), m(Z2)).
    parts: tuple[float, ...] = ()


def _mass(objects: ObjectList, chosen: tuple[int, ...]) -> float:
    idx = list(chosen)
    return invariant_mass(objects.pt[idx], objects.eta[idx], objects.phi[idx], objects.mass[idx])


def _os_sf_pairs(objects: ObjectList, among: tuple[int, ...]) -> list[tuple[int, int]]:
    """Opposite-sign, same-flavour pairs of the objects ``among``."""
    return [
        (i, j)
        for i, j in combinations(among, 2)
        if objects.kind[i] == objects.kind[j] and objects.charge[i] * objects.charge[j] < 0
    ]


def _pair_labels(flavour: str) -> tuple[str, str]:
    m, p = _MATH[flavour], _PLAIN[flavour]
    return f"$m({m}^{{+}}{m}^{{-}})$", f"m({p}⁺{p}⁻)"


def _no_pair_reason(objects: ObjectList) -> str:
    n = len(objects)
    if n < 2:
        return f"{n} lepton{'s' if n != 1 else ''}, a pair needs 2"
    kinds = set(objects.kind.tolist())
    if len(kinds) > 1 and all(
        objects.kind[i] != objects.kind[j] for i, j in combinations(range(n), 2)
    ):
        return "no two leptons of one flavour"
    return "no opposite-sign pair of one flavour"


def z_candidate(objects: ObjectList, flavour: str | None) -> Candidate:
    """The opposite-sign same-flavour pair closest to m(Z); ``flavour`` "muons", "electrons"
    or None (either: the label names the flavour of the pair chosen)."""
    pairs = _os_sf_pairs(objects, tuple(range(len(objects))))
    if not pairs:
        label, plain = _pair_labels(flavour) if flavour else (r"$m(\ell^{+}\ell^{-})$", "m(ℓ⁺ℓ⁻)")
        return Candidate(None, label, plain, len(objects), _no_pair_reason(objects))
    values = [_mass(objects, pair) for pair in pairs]
    best = int(np.argmin([abs(v - Z_MASS) for v in values]))
    label, plain = _pair_labels(str(objects.kind[pairs[best][0]]))
    return Candidate(values[best], label, plain, 2)


def electron_muon(objects: ObjectList) -> Candidate:
    """The opposite-sign electron-muon pair of highest summed pT."""
    label, plain = r"$m(\mathrm{e}^{\pm}\mu^{\mp})$", "m(e±μ∓)"
    pairs = [
        (i, j)
        for i, j in combinations(range(len(objects)), 2)
        if objects.kind[i] != objects.kind[j] and objects.charge[i] * objects.charge[j] < 0
    ]
    if not pairs:
        return Candidate(None, label, plain, len(objects), "no opposite-sign e-μ pair")
    best = max(pairs, key=lambda p: objects.pt[p[0]] + objects.pt[p[1]])
    return Candidate(_mass(objects, best), label, plain, 2)


def four_lepton(objects: ObjectList) -> Candidate:
    """CMS's H -> 4l pairing: Z1 the OS/SF pair closest to m(Z), Z2 the OS/SF pair of the
    remaining leptons with the highest summed pT."""
    everything = tuple(range(len(objects)))
    best: tuple[float, float, tuple[int, int], tuple[int, int]] | None = None
    for z1 in _os_sf_pairs(objects, everything):
        rest = tuple(i for i in everything if i not in z1)
        seconds = _os_sf_pairs(objects, rest)
        if not seconds:
            continue
        z2 = max(seconds, key=lambda p: objects.pt[p[0]] + objects.pt[p[1]])
        distance = abs(_mass(objects, z1) - Z_MASS)
        if best is None or distance < best[0]:
            best = (distance, 0.0, z1, z2)
    if best is None:
        n = len(objects)
        why = (
            f"{n} lepton{'s' if n != 1 else ''}, four are needed"
            if n < 4
            else "no two opposite-sign same-flavour pairs"
        )
        return Candidate(None, r"$m(4\ell)$", "m(4ℓ)", n, why)
    _, _, z1, z2 = best
    chosen = (*z1, *z2)
    muons = sum(objects.kind[i] == "muons" for i in chosen)
    if muons == 4:
        label, plain = r"$m(4\mu)$", "m(4μ)"
    elif muons == 0:
        label, plain = r"$m(4\mathrm{e})$", "m(4e)"
    else:
        label, plain = r"$m(2\mathrm{e}2\mu)$", "m(2e2μ)"
    parts = (_mass(objects, z1), _mass(objects, z2))
    return Candidate(_mass(objects, chosen), label, plain, 4, parts=parts)


def leading(objects: ObjectList, count: int | None, label: str, plain: str) -> Candidate:
    """The mass of the ``count`` leading objects (all when None), at least two."""
    chosen = objects.leading(count)
    n = len(chosen)
    if n < 2 or (count is not None and n < count):
        wanted = count or 2
        return Candidate(None, label, plain, n, f"{n} found, {wanted} needed")
    return Candidate(_mass(chosen, tuple(range(n))), label, plain, n)
