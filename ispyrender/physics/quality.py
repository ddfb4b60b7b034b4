"""Analysis-quality selections: which objects pass the ID a CMS analysis would apply.

Each collection's style names its ID (``collections.muons.id: loose``; ``none`` draws every
object). The branches and their encodings, as NanoAOD documents them in the branches' titles:

========== ================= =====================================================================
collection ID names          branch and test
========== ================= =====================================================================
muons      loose (default),  ``Muon_looseId``, ``Muon_mediumId``, ``Muon_tightId``: booleans
           medium, tight
electrons  veto, loose       ``Electron_cutBased`` >= 1, 2, 3, 4 (0 fail, 1 veto, 2 loose, 3 medium,
           (default),        4 tight)
           medium, tight
photons    loose (default),  ``Photon_cutBased`` >= 1, 2, 3 (0 fail, 1 loose, 2 medium, 3 tight);
           medium, tight     older files: ``Photon_cutBasedBitmap`` bit 0, 1, 2
jets       tight (default),  ``Jet_jetId`` bit 1 (value 2) tight, bit 2 (value 4) tight with
           tight_lepton_veto lepton veto
========== ================= =====================================================================

A file without the branch is drawn without the selection, and says so once. (NanoAOD v12's jet
ID is wrong for 2.7 < |eta| < 3.0; analyses recompute it from the energy fractions, which this
program does not: those jets are selected by the flag as the file has it.)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["RULES", "IdRule", "chosen_id", "id_rule", "passes"]


@dataclass(frozen=True)
class IdRule:
    branch: str
    test: Literal["flag", "at_least", "bit"]
    value: int = 0

    def describe(self) -> str:
        if self.test == "flag":
            return self.branch
        if self.test == "at_least":
            return f"{self.branch} >= {self.value}"
        return f"{self.branch} bit {self.value}"


def _wp(branch: str, names: tuple[str, ...], first: int = 1) -> dict[str, tuple[IdRule, ...]]:
    return {name: (IdRule(branch, "at_least", first + i),) for i, name in enumerate(names)}


#: Per collection, per ID name: the rules in order of preference (the first whose branch the
#: file has is used).
RULES: dict[str, dict[str, tuple[IdRule, ...]]] = {
    "muons": {name: (IdRule(f"Muon_{name}Id", "flag"),) for name in ("loose", "medium", "tight")},
    "electrons": _wp("Electron_cutBased", ("veto", "loose", "medium", "tight")),
    "photons": {
        name: (
            IdRule("Photon_cutBased", "at_least", i + 1),
            IdRule("Photon_cutBasedBitmap", "bit", i),
        )
        for i, name in enumerate(("loose", "medium", "tight"))
    },
    "jets": {
        "tight": (IdRule("Jet_jetId", "bit", 1),),
        "tight_lepton_veto": (IdRule("Jet_jetId", "bit", 2),),
    },
}


def chosen_id(key: str, style_id: str | None) -> str:
    """The ID a collection is drawn with: the style's, or the collection's default."""
    from ispyrender.config.collections import BY_KEY

    return BY_KEY[key].default_id if style_id is None else style_id


def id_rule(key: str, name: str, available: Collection[str]) -> IdRule | None:
    """The rule that selects ``name`` of collection ``key`` in a file with these branches;
    None when the ID is "none" or the file has none of its branches."""
    if name == "none":
        return None
    return next((r for r in RULES[key][name] if r.branch in available), None)


def passes(rule: IdRule, values: np.ndarray) -> np.ndarray:
    """Which objects pass, from the rule's branch values (one per object)."""
    values = np.asarray(values)
    if rule.test == "flag":
        return values.astype(bool)
    ints = values.astype(np.int64)
    if rule.test == "at_least":
        return ints >= rule.value
    return (ints >> rule.value) & 1 == 1
