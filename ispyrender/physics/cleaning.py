"""Cross-cleaning: which jets (taus, fat jets) are the same object as a drawn lepton or photon.

A jet is built from all particles in its cone, so an isolated muon, electron or photon is also
reconstructed as a jet: drawn twice, once as itself and once as a cone around it. A jet is left
out when it is *the same object* as drawn leptons or photons:

1. it is associated with them: by NanoAOD's links where the file has them (``Jet_muonIdx1/2``
   and ``Muon_jetIdx``, ...: the lepton is one of the jet's constituents), else each drawn
   object goes with the nearest jet within Delta R < ``radius``;
2. and they carry at least ``min_share`` (:data:`MIN_SHARE`) of the jet's pT. Without this a
   b jet holding a soft muon from a semileptonic decay, or a 500 GeV jet with a 5 GeV photon
   from a pi0, would vanish from the picture, although it is a jet that happens to contain a
   lepton, not a lepton seen twice. (An isolated lepton's jet is the lepton plus a little
   pile-up: the lepton carries 75 - 95 % of its pT on the shared test files.)

Everything here is pure numpy on one event's arrays, so it can be tested with hand-made numbers;
the readers (:mod:`ispyrender.physics.nanoaod`, :mod:`ispyrender.physics.ispy`) decide what is
drawn and call :func:`clean`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "MIN_SHARE",
    "Cleaned",
    "Drawn",
    "Links",
    "clean",
    "delta_phi",
    "delta_r",
    "electron_photons",
    "pairs_by_delta_r",
    "pairs_by_links",
]

#: A photon within this Delta R of a drawn electron is that electron's deposit (CMS's e/gamma
#: matching cone), drawn and counted once, as the electron.
EGAMMA_DELTA_R = 0.1

#: The fraction of a jet's pT that the drawn objects associated with it must carry for the jet
#: to be the same object as them.
MIN_SHARE = 0.5


@dataclass(frozen=True)
class Drawn:
    """The drawn objects of one collection (style key ``key``) that others may duplicate."""

    key: str  # "muons", "electrons" or "photons"
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    # Each object's position in the file's whole collection (before the reader's pT cuts and
    # sorting): the links count in those positions. None: no links can be used.
    index: np.ndarray | None = None


@dataclass(frozen=True)
class Links:
    """NanoAOD's cross-references between the collection being cleaned (e.g. Jet) and one drawn
    collection (e.g. Muon), indexed like the file's whole collections, -1 for none."""

    # Per cleaned object, an object of the drawn collection: Jet_muonIdx1, Jet_muonIdx2.
    forward: tuple[np.ndarray, ...] = ()
    # Per object of the drawn collection, a cleaned object: Muon_jetIdx.
    backward: np.ndarray | None = None

    def __bool__(self) -> bool:
        return bool(self.forward) or self.backward is not None


@dataclass(frozen=True)
class Cleaned:
    """The result for the candidates given to :func:`clean`, in their order."""

    keep: np.ndarray  # bool per candidate
    # How many candidates were left out, by the collection that carries most of their pT.
    removed: dict[str, int] = field(default_factory=dict)


def delta_phi(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """a - b wrapped into [-pi, pi)."""
    return np.asarray((np.asarray(a) - np.asarray(b) + np.pi) % (2.0 * np.pi) - np.pi)


def delta_r(eta1: np.ndarray, phi1: np.ndarray, eta2: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    """The (N, M) matrix of Delta R = sqrt(Delta eta^2 + Delta phi^2) between two sets."""
    d_eta = np.asarray(eta1, dtype=float)[:, None] - np.asarray(eta2, dtype=float)[None, :]
    d_phi = delta_phi(
        np.asarray(phi1, dtype=float)[:, None], np.asarray(phi2, dtype=float)[None, :]
    )
    return np.asarray(np.hypot(d_eta, d_phi))


def _positions(index: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each value of ``wanted`` (an index into a whole collection), its position in
    ``index`` (the whole-collection indices of the selected objects), or -1 if not selected."""
    index = np.asarray(index, dtype=np.int64)
    wanted = np.asarray(wanted, dtype=np.int64)
    if index.size == 0 or wanted.size == 0:
        return np.full(wanted.shape, -1, dtype=np.int64)
    order = np.argsort(index, kind="stable")
    at = np.clip(np.searchsorted(index[order], wanted), 0, index.size - 1)
    found = (index[order][at] == wanted) & (wanted >= 0)
    return np.where(found, order[at], -1)


def pairs_by_links(
    cand_index: np.ndarray, drawn_index: np.ndarray, links: Links
) -> tuple[np.ndarray, np.ndarray]:
    """(candidate positions, drawn positions) of the linked pairs, each pair once.

    ``cand_index`` and ``drawn_index`` are the whole-collection indices of the selected
    candidates and drawn objects; the links are over the whole collections, so a link to an
    object the reader left out (below min_pt, beyond max_count) finds nothing."""
    cand_index = np.asarray(cand_index, dtype=np.int64)
    drawn_index = np.asarray(drawn_index, dtype=np.int64)
    cands: list[np.ndarray] = []
    drawn: list[np.ndarray] = []
    for forward in links.forward:
        forward = np.asarray(forward, dtype=np.int64)
        inside = (cand_index >= 0) & (cand_index < forward.size)
        target = np.full(cand_index.size, -1, dtype=np.int64)
        target[inside] = forward[cand_index[inside]]
        pos = _positions(drawn_index, target)
        hit = pos >= 0
        cands.append(np.flatnonzero(hit))
        drawn.append(pos[hit])
    if links.backward is not None:
        backward = np.asarray(links.backward, dtype=np.int64)
        inside = (drawn_index >= 0) & (drawn_index < backward.size)
        target = np.full(drawn_index.size, -1, dtype=np.int64)
        target[inside] = backward[drawn_index[inside]]
        pos = _positions(cand_index, target)
        hit = pos >= 0
        cands.append(pos[hit])
        drawn.append(np.flatnonzero(hit))
    if not cands:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # A lepton is usually linked both ways (Jet_muonIdx1 and Muon_jetIdx): count it once.
    both = np.unique(np.stack([np.concatenate(cands), np.concatenate(drawn)], axis=1), axis=0)
    return both[:, 0], both[:, 1]


def pairs_by_delta_r(
    cand_eta: np.ndarray,
    cand_phi: np.ndarray,
    drawn_eta: np.ndarray,
    drawn_phi: np.ndarray,
    radius: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(candidate positions, drawn positions): each drawn object with its nearest candidate
    within Delta R < ``radius``, as a link would name one jet per lepton."""
    if np.size(cand_eta) == 0 or np.size(drawn_eta) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    dr = delta_r(cand_eta, cand_phi, drawn_eta, drawn_phi)
    nearest = np.argmin(dr, axis=0)
    close = dr[nearest, np.arange(dr.shape[1])] < radius
    return nearest[close].astype(np.int64), np.flatnonzero(close)


def clean(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    drawn: Sequence[tuple[Drawn, Links | None]],
    radius: float,
    *,
    index: np.ndarray | None = None,
    min_share: float = MIN_SHARE,
) -> Cleaned:
    """Which candidates (jets, taus or fat jets: ``pt``, ``eta``, ``phi``) to keep.

    ``drawn`` lists the drawn collections they may duplicate, each with NanoAOD's links to the
    candidates' collection (or None). The links are used when given and both sides know their
    whole-collection positions (``index`` for the candidates, ``Drawn.index``); otherwise Delta R
    < ``radius``. A candidate is left out when the drawn objects associated with it carry at
    least ``min_share`` of its pT; it is counted under the collection carrying the most.
    """
    pt = np.asarray(pt, dtype=float)
    n = pt.size
    keys = [d.key for d, _ in drawn]
    share = np.zeros((len(drawn), n))  # pT of each collection's objects on each candidate
    for row, (objects, links) in enumerate(drawn):
        if links and index is not None and objects.index is not None:
            cand, other = pairs_by_links(index, objects.index, links)
        else:
            cand, other = pairs_by_delta_r(eta, phi, objects.eta, objects.phi, radius)
        np.add.at(share[row], cand, np.asarray(objects.pt, dtype=float)[other])
    if n == 0 or not drawn:
        return Cleaned(np.ones(n, dtype=bool))
    total = share.sum(axis=0)
    gone = (total > 0) & (total >= min_share * pt)
    by = np.argmax(share, axis=0)  # the first collection wins a tie
    removed = {
        keys[row]: int(np.count_nonzero(gone & (by == row)))
        for row in range(len(drawn))
        if np.any(gone & (by == row))
    }
    return Cleaned(~gone, removed)


def electron_photons(
    photons: Drawn, electrons: Drawn, links: Links | None, radius: float = EGAMMA_DELTA_R
) -> np.ndarray:
    """Which photons (bool per photon) are a drawn electron seen again: one ECAL deposit that
    the reconstruction made into both an electron and a photon. NanoAOD's links
    (``Photon_electronIdx``, ``Electron_photonIdx``) where the file has them, and Delta R
    < ``radius`` to a drawn electron in every case, so that no photon is drawn on one."""
    n = np.size(photons.pt)
    same = np.zeros(n, dtype=bool)
    if n == 0 or np.size(electrons.pt) == 0:
        return same
    if links and photons.index is not None and electrons.index is not None:
        cand, _ = pairs_by_links(photons.index, electrons.index, links)
        same[cand] = True
    near = delta_r(photons.eta, photons.phi, electrons.eta, electrons.phi) < radius
    return same | near.any(axis=1)
