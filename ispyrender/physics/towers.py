"""Calorimeter towers summed from PF candidates (PFNano files).

NanoAOD keeps no calorimeter hits, but PFNano keeps every particle-flow candidate, and PF
candidates are what the calorimeters measured, split by particle type. Summing their transverse
energy in (eta, phi) cells gives towers like those of CMS's own displays (Fireworks' lego):

- photons (pdgId 22) and electrons (|pdgId| 11) -> "em_towers", standing on the ECAL;
- charged (|pdgId| 211) and neutral (130) hadrons, and HF's candidates (1: hadronic, 2: EM
  showers in HF, which is one hadronic calorimeter) -> "had_towers", standing on the HCAL.

Muons (13) leave a trace, not a shower, and are left out. A tower's E_T is the summed pT of its
candidates (E_T = pT for massless particles; a pion's mass changes it by < 1 % above 1 GeV).

A candidate counts in the cell where it meets the calorimeter, seen from the detector centre
(towers are fixed in the detector): charged ones are propagated through the field
(:func:`~ispyrender.physics.trajectories.propagate`) to the ECAL entrance, as their tracks are
drawn; loopers that never get there (pT below about 0.75 GeV in the barrel) are left out, as the
calorimeter does not see them there either. Neutral ones fly straight from their vertex.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ispyrender.config.style import TowerStyle
from ispyrender.physics.cms_dimensions import ECAL_ENTRANCE, Boundary
from ispyrender.physics.objects import CaloTowers
from ispyrender.physics.trajectories import line_exit_distance, particle_arrays, propagate

__all__ = [
    "EM_PDG_IDS",
    "HAD_PDG_IDS",
    "TOWER_KINDS",
    "Cells",
    "at_calorimeter",
    "bin_cells",
    "pf_towers",
    "phi_cells",
]

#: |pdgId| of the PF candidates summed in each kind of tower.
EM_PDG_IDS = (11, 22)
HAD_PDG_IDS = (211, 130, 1, 2)

#: Style key -> (|pdgId| summed, scene group name, surface the towers stand on).
TOWER_KINDS: dict[str, tuple[tuple[int, ...], str, str]] = {
    "em_towers": (EM_PDG_IDS, "PFCands_em", "ecal"),
    "had_towers": (HAD_PDG_IDS, "PFCands_had", "hcal"),
}


@dataclass(frozen=True)
class Cells:
    """Summed E_T per occupied (eta, phi) cell, highest first; ``members`` is, per input, the
    position of its cell (-1 for inputs not summed: non-finite)."""

    eta: np.ndarray  # cell centres
    phi: np.ndarray  # cell centres in [-pi, pi)
    et: np.ndarray
    eta_width: float
    phi_width: float
    members: np.ndarray

    def __len__(self) -> int:
        return int(self.et.size)


def phi_cells(phi_bin: float) -> tuple[int, float]:
    """The number of phi cells and their width: as close to ``phi_bin`` as a whole number of
    cells around the circle allows, so that the cells meet at phi = +-pi (0.0873 -> 72 cells of
    2 pi / 72, CMS's)."""
    n = max(1, round(2.0 * np.pi / phi_bin))
    return n, 2.0 * np.pi / n


def bin_cells(
    eta: np.ndarray, phi: np.ndarray, et: np.ndarray, eta_bin: float, phi_bin: float
) -> Cells:
    """Sum ``et`` in cells of ``eta_bin`` (edges at multiples of it, so the cells are symmetric
    about eta = 0) by ``phi_bin`` (edges at multiples from phi = 0, see :func:`phi_cells`)."""
    eta = np.asarray(eta, dtype=float).reshape(-1)
    phi = np.asarray(phi, dtype=float).reshape(-1)
    et = np.asarray(et, dtype=float).reshape(-1)
    n_phi, width = phi_cells(phi_bin)
    good = np.isfinite(eta) & np.isfinite(phi) & np.isfinite(et)
    i_eta = np.floor(eta[good] / eta_bin).astype(np.int64)
    # phi mod 2 pi first: -0.01 and 2 pi - 0.01 are the same direction, the same cell.
    i_phi = np.floor(np.mod(phi[good], 2.0 * np.pi) / width).astype(np.int64) % n_phi
    members = np.full(eta.size, -1, dtype=np.int64)
    if not good.any():
        empty = np.zeros(0)
        return Cells(empty, empty, empty, float(eta_bin), width, members)
    cells, inverse = np.unique(np.stack([i_eta, i_phi], axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    sums = np.bincount(inverse, weights=et[good], minlength=len(cells))
    order = np.argsort(-sums, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    members[good] = rank[inverse]
    centre_phi = (cells[order, 1] + 0.5) * width
    return Cells(
        eta=(cells[order, 0] + 0.5) * eta_bin,
        phi=np.mod(centre_phi + np.pi, 2.0 * np.pi) - np.pi,
        et=sums[order],
        eta_width=float(eta_bin),
        phi_width=width,
        members=members,
    )


def _on_surface(points: np.ndarray, boundary: Boundary) -> np.ndarray:
    """Whether each point lies on (or beyond) the boundary: where a propagation that reached
    it stops, as opposed to a looper stopped after half a turn inside."""
    reach = boundary.transverse(points[:, 0], points[:, 1]) >= boundary.radius * (1 - 1e-9)
    return np.asarray(reach | (np.abs(points[:, 2]) >= boundary.half_length * (1 - 1e-9)))


def at_calorimeter(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    charge: np.ndarray,
    origin: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eta, phi, reached): where each particle meets the ECAL entrance, seen from the detector
    centre. Charged particles (charge != 0) follow the field model; neutral ones fly straight
    from ``origin`` (N, 3) metres. ``reached`` is False for loopers and for particles that
    range out before, whose eta and phi are then NaN."""
    pt, eta, phi, charge, origin = particle_arrays(pt, eta, phi, charge, origin)
    n = pt.size
    points = np.full((n, 3), np.nan)
    charged = charge != 0
    if charged.any():
        paths = propagate(pt[charged], eta[charged], phi[charged], charge[charged], origin[charged])
        points[charged] = np.array([p[-1] for p in paths], dtype=float).reshape(-1, 3)
    neutral = ~charged
    if neutral.any():
        cosh = np.cosh(eta[neutral])
        unit = np.stack(
            [np.cos(phi[neutral]) / cosh, np.sin(phi[neutral]) / cosh, np.tanh(eta[neutral])],
            axis=1,
        )
        t = line_exit_distance(origin[neutral], unit, ECAL_ENTRANCE)
        points[neutral] = origin[neutral] + t[:, None] * unit
    finite = np.all(np.isfinite(points), axis=1)
    reached = finite & np.isfinite(pt) & (pt > 0)
    reached[finite] &= _on_surface(points[finite], ECAL_ENTRANCE)
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        eta_c = np.arcsinh(z / np.hypot(x, y))
    reached &= np.isfinite(eta_c)  # a point on the beam line has no eta
    eta_c = np.where(reached, eta_c, np.nan)
    phi_c = np.where(reached, np.arctan2(y, x), np.nan)
    return eta_c, phi_c, reached


def _select(cells: Cells, style: TowerStyle) -> np.ndarray:
    """Positions of the cells drawn: E_T at least min_energy (and min_pt, the threshold every
    collection has), at most max_count of them, highest first (cells are sorted so)."""
    keep = np.flatnonzero(cells.et >= max(style.min_energy, style.min_pt))
    return keep[: style.max_count] if style.max_count is not None else keep


def pf_towers(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    pdg_id: np.ndarray,
    charge: np.ndarray,
    origin: np.ndarray,
    styles: dict[str, TowerStyle],
) -> list[CaloTowers]:
    """The towers of each kind in ``styles`` (style key -> its style, shown ones only) from PF
    candidates: kinematics at the vertex, pdgId, charge and origin (N, 3) metres."""
    pt = np.asarray(pt, dtype=float).reshape(-1)
    pdg = np.abs(np.asarray(pdg_id, dtype=np.int64).reshape(-1))
    kinds = {key: np.isin(pdg, TOWER_KINDS[key][0]) for key in styles}
    used = np.logical_or.reduce(list(kinds.values())) if kinds else np.zeros(pt.size, bool)
    used &= np.isfinite(pt) & (pt > 0)
    c_eta = np.full(pt.size, np.nan)
    c_phi = np.full(pt.size, np.nan)
    if used.any():
        # Only the candidates of the kinds shown are propagated: that is the costly part.
        e, p, reached = at_calorimeter(
            pt[used],
            np.asarray(eta, dtype=float).reshape(-1)[used],
            np.asarray(phi, dtype=float).reshape(-1)[used],
            np.asarray(charge, dtype=float).reshape(-1)[used],
            np.asarray(origin, dtype=float).reshape(-1, 3)[used],
        )
        c_eta[used] = np.where(reached, e, np.nan)
        c_phi[used] = np.where(reached, p, np.nan)
    towers: list[CaloTowers] = []
    for key, style in styles.items():
        mine = kinds[key] & used & np.isfinite(c_eta)
        cells = bin_cells(c_eta[mine], c_phi[mine], pt[mine], style.eta_bin, style.phi_bin)
        keep = _select(cells, style)
        _, group, surface = TOWER_KINDS[key]
        towers.append(
            CaloTowers(
                collection=key,
                branch=group,
                eta=cells.eta[keep],
                phi=cells.phi[keep],
                et=cells.et[keep],
                eta_width=cells.eta_width,
                phi_width=cells.phi_width,
                surface=surface,
            )
        )
    return towers
