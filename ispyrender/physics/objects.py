"""Physics objects: what is drawn of an event, in metres and GeV, whatever file it came from.

The NanoAOD reader (:mod:`ispyrender.physics.nanoaod`) and the iSpy reader
(:mod:`ispyrender.physics.ispy`) fill these; the scene, the figures and the outputs read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ispyrender.config.collections import COLLECTIONS

__all__ = [
    "DEFAULT_LABELS",
    "NOUNS",
    "CaloHits",
    "CaloTowers",
    "Jets",
    "Met",
    "Momenta",
    "MuonChambers",
    "Photons",
    "PhysicsEvent",
    "Tracks",
    "Vertices",
]

#: Legend text per style key when the style gives no label (from the collections' table).
DEFAULT_LABELS: dict[str, str] = {c.key: c.label for c in COLLECTIONS}

#: The collections' names in warnings ("... muons start at the primary vertex").
NOUNS: dict[str, str] = {c.key: c.noun for c in COLLECTIONS}

# ---- the objects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Momenta:
    """What the drawn collections of particles share: the collection's names and each object's
    transverse momentum and direction, sorted by decreasing pT."""

    collection: str  # style key, e.g. "muons"
    branch: str  # NanoAOD collection, e.g. "Muon"
    pt: np.ndarray  # GeV
    eta: np.ndarray
    phi: np.ndarray  # direction at the origin

    def __len__(self) -> int:
        return int(self.pt.size)


@dataclass(frozen=True)
class Tracks(Momenta):
    """Charged particles of one collection, sorted by decreasing pT."""

    charge: np.ndarray  # units of e
    origin: np.ndarray  # (N, 3) metres: point of closest approach
    stop: np.ndarray  # (N,) "ecal" or "muon": where each trajectory ends
    # The curve of each object as the file stores it (iSpy's track extras and muon points), in
    # metres; None when the trajectory is to be propagated through the field model.
    paths: tuple[np.ndarray, ...] | None = None


@dataclass(frozen=True)
class Jets(Momenta):
    """Jets (or fat jets, or taus: collection "jets", "fatjets" or "taus"): cones from the
    primary vertex along (eta, phi)."""

    energy: np.ndarray  # GeV, from pt, eta and mass
    radius: float  # cone radius R in (eta, phi)
    origin: np.ndarray  # (3,) metres: the primary vertex


@dataclass(frozen=True)
class Photons(Momenta):
    """Photons: straight lines from the primary vertex to the ECAL."""

    energy: np.ndarray  # GeV
    origin: np.ndarray  # (3,) metres: the primary vertex


@dataclass(frozen=True)
class Met:
    """Missing transverse momentum from the branches ``<source>_pt`` and ``<source>_phi``."""

    source: str
    pt: float
    phi: float


@dataclass(frozen=True)
class Vertices:
    collection: str  # style key: "vertices" or "secondary_vertices"
    branch: str  # "PV" or "SV"
    positions: np.ndarray  # (N, 3) metres

    def __len__(self) -> int:
        return len(self.positions)


@dataclass(frozen=True)
class CaloHits:
    """Calorimeter rec hits as their cells (iSpy files): four front corners, four back."""

    collection: str  # style key: "ecal_hits", "hcal_hits" or "hf_hits"
    branch: str  # the group name in the scene and exports, e.g. "EcalRecHits"
    front: np.ndarray  # (N, 4, 3) metres
    back: np.ndarray  # (N, 4, 3) metres
    energy: np.ndarray  # (N,) GeV
    eta: np.ndarray
    phi: np.ndarray
    # (N,) bool: the hit is in a barrel part (EB, HB, HO), not an endcap (EE, ES, HE) or HF.
    barrel: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.energy.size)


@dataclass(frozen=True)
class CaloTowers:
    """Calorimeter towers summed from PF candidates (PFNano): one per (eta, phi) cell with
    its transverse energy, at the ECAL surface ("ecal": photons and electrons) or the HCAL
    surface ("hcal": hadrons)."""

    collection: str  # style key: "em_towers" or "had_towers"
    branch: str  # group name in the scene and exports, e.g. "PFCands_em"
    eta: np.ndarray  # (N,) cell centres
    phi: np.ndarray
    et: np.ndarray  # (N,) GeV
    eta_width: float  # cell size in eta
    phi_width: float  # cell size in phi (radians)
    surface: str  # "ecal" or "hcal"

    def __len__(self) -> int:
        return int(self.et.size)


@dataclass(frozen=True)
class MuonChambers:
    """Muon chambers with hits, as the boxes the file stores (iSpy files)."""

    corners: np.ndarray  # (N, 8, 3) metres: front face, then back face
    barrel: np.ndarray | None = None  # (N,) bool: a drift tube (barrel) chamber, not a CSC

    def __len__(self) -> int:
        return len(self.corners)


@dataclass
class PhysicsEvent:
    run: int
    lumi: int | None
    event: int
    index: int
    source: str
    is_simulation: bool
    tracks: list[Tracks] = field(default_factory=list)
    jets: list[Jets] = field(default_factory=list)
    photons: Photons | None = None
    met: Met | None = None
    vertices: list[Vertices] = field(default_factory=list)
    hits: list[CaloHits] = field(default_factory=list)
    chambers: MuonChambers | None = None
    towers: list[CaloTowers] = field(default_factory=list)
    # Cross-cleaning: per cleaned collection (style key), how many objects were left out and
    # why, by the collection they duplicate, e.g. {"jets": {"muons": 2, "photons": 1}}.
    removed: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # drawn objects per style key
    skipped_nan: dict[str, int] = field(default_factory=dict)  # per style key
    # Objects above min_pt left out for failing their collection's analysis ID, per style key.
    failed_id: dict[str, int] = field(default_factory=dict)
    # Collections not drawn because their branches disagree in length, and how.
    mismatched: dict[str, str] = field(default_factory=dict)
    entry: int = 0  # entry number within its input
    time: str | None = None  # when the event was recorded, where the file says (iSpy)
    # False when the input has no run and event numbers: the event is named by its entry.
    has_ids: bool = True

    @classmethod
    def named_as(cls, record: Any) -> PhysicsEvent:
        """An event with no objects yet, named as ``record`` is (a NanoAOD EventRecord or an
        iSpy IgEvent: run, lumi, event, index, source, entry, is_simulation, and where it has
        them, the time it was recorded and whether the input numbers its events)."""
        return cls(
            record.run,
            record.lumi,
            record.event,
            record.index,
            record.source,
            record.is_simulation,
            entry=record.entry,
            time=getattr(record, "time", None),
            has_ids=getattr(record, "has_ids", True),
        )
