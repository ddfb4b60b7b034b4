"""Every physics collection in one table: what each part of the program needs to know of it.

One :class:`Collection` per style key (``collections.<key>`` in a style), in the order the scene
draws them and the legend lists them. The readers take the NanoAOD prefix, where a track stops
and a jet's cone radius from here; the scene its default label and its place in the legend;
messages its noun; the Phoenix export its collection name; ``inspect`` what it counts; the
masses the symbol of one object. Every other table of collections is derived from this one.

A collection's look (colour, width, thresholds) is its style field
(:class:`ispyrender.config.style.Collections`), whose defaults each preset may change; a test
checks that the style has a field for every entry here and no other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BY_KEY",
    "COLLECTIONS",
    "Collection",
    "Kind",
    "drawing_order",
    "of_kind",
]

Kind = Literal["track", "photon", "jet", "towers", "met", "vertex", "hits", "chambers"]


@dataclass(frozen=True)
class Collection:
    key: str  # the style key: collections.<key>
    kind: Kind
    draw: int  # its place in the scene and the legend (0 first)
    label: str  # legend text when the style gives none
    noun: str  # in messages: "... muons start at the primary vertex"
    nanoaod: str | None = None  # NanoAOD prefix: Muon -> Muon_pt, nMuon
    ispy: tuple[str, ...] = ()  # iSpy collections it is read from (version suffix dropped)
    #: Tracks: where a particle's path ends ("muon": through the muon system; "ecal": at the
    #: ECAL face).
    stops: Literal["muon", "ecal"] | None = None
    cone_radius: float | None = None  # jets: the clustering's R in (eta, phi)
    phoenix: str | None = None  # the Phoenix collection it is exported as
    symbol: str | None = None  # mathtext of one object, in mass labels
    ids: tuple[str, ...] = ()  # the analysis IDs its style may ask for (physics.quality)
    default_id: str = "none"  # the one drawn with unless the style says otherwise
    #: Jet-like collections: the drawn collections whose objects it must not draw again (see
    #: physics.cleaning); empty for one that is not cleaned.
    clean_against: tuple[str, ...] = ()
    row: str | None = None  # mathtext of its rows in a figure's object table; None: no rows
    #: NanoAOD: the fields (after the prefix) a full drawing reads, where they are not those
    #: of its kind (_FIELDS); ``inspect`` reports the ones a file lacks.
    needs: tuple[str, ...] | None = None
    simulated: bool = False  # only simulation has it (the generator record)
    group: str | None = None  # its primitives' name in scenes and exports, if not ``nanoaod``

    @property
    def fields(self) -> tuple[str, ...]:
        return self.needs if self.needs is not None else _FIELDS.get(self.kind, ())

    @property
    def singular(self) -> str:
        """One object's noun: "muon", "fat jet", "secondary vertex"."""
        if self.noun.endswith("ices"):
            return self.noun[: -len("ices")] + "ex"
        return self.noun.removesuffix("s")


#: The collections, in the order the readers read each kind: the tracks (leptons first), the
#: jets, photons, PFNano's towers, MET, vertices, and what only iSpy files hold. ``draw`` is
#: the order of the scene and its legend: leptons, photons, taus, jets, fat jets, then the
#: other tracks.
_LEPTONS_PHOTONS = ("muons", "electrons", "photons")

#: The NanoAOD fields each kind is drawn from.
_FIELDS: dict[str, tuple[str, ...]] = {
    "track": ("pt", "eta", "phi", "charge", "dxy", "dz"),
    "photon": ("pt", "eta", "phi"),
    "jet": ("pt", "eta", "phi", "mass"),
    "met": ("pt", "phi"),
    "vertex": ("x", "y", "z"),
}

COLLECTIONS: tuple[Collection, ...] = (
    Collection("muons", "track", 0, "Muons", "muons", "Muon", ("GlobalMuons",), "muon",
               symbol=r"\mu", ids=("loose", "medium", "tight"), default_id="loose", row=r"\mu"),
    Collection("electrons", "track", 1, "Electrons", "electrons", "Electron", ("GsfElectrons",),
               "ecal", symbol=r"\mathrm{e}", ids=("veto", "loose", "medium", "tight"),
               default_id="loose", row="e"),
    Collection("isotracks", "track", 9, "Isolated tracks", "isolated tracks", "IsoTrack",
               stops="ecal"),
    Collection("pfcands", "track", 10, "PF candidates", "PF candidates", "PFCands",
               stops="ecal", needs=("pt", "eta", "phi", "charge")),
    # Generator muons go on to the muon system (physics.nanoaod._tracks).
    Collection("genparts", "track", 11, "Generator particles", "generator particles", "GenPart",
               stops="ecal", needs=("pt", "eta", "phi", "pdgId"), simulated=True),
    Collection("tracks", "track", 12, "Tracks", "tracks", None, ("Tracks",), "ecal"),
    Collection("jets", "jet", 4, "Jets", "jets", "Jet", ("PFJets",), cone_radius=0.4,
               phoenix="AK4Jets", symbol=r"\mathrm{j}", ids=("tight", "tight_lepton_veto"),
               default_id="tight", clean_against=_LEPTONS_PHOTONS, row="jet"),
    # A fat jet holds many photons of its own: it is cleaned against leptons only.
    Collection("fatjets", "jet", 5, "Fat jets", "fat jets", "FatJet", cone_radius=0.8,
               phoenix="AK8Jets", clean_against=("muons", "electrons")),
    # Hadronic taus are narrow: about their signal cone.
    Collection("taus", "jet", 3, "Taus", "taus", "Tau", cone_radius=0.1, phoenix="Taus",
               clean_against=_LEPTONS_PHOTONS, row=r"\tau_\mathrm{h}",
               needs=("pt", "eta", "phi", "charge")),
    # Simulation only; particles, not detector objects: nothing to clean them against.
    Collection("genjets", "jet", 19, "Generator jets", "generator jets", "GenJet",
               cone_radius=0.4, phoenix="GenJets", simulated=True),
    Collection("photons", "photon", 2, "Photons", "photons", "Photon", ("Photons",),
               phoenix="Photons", symbol=r"\gamma", ids=("loose", "medium", "tight"),
               default_id="loose", row=r"\gamma"),
    Collection("em_towers", "towers", 6, "EM towers (PF)", "EM towers"),
    Collection("had_towers", "towers", 7, "Hadronic towers (PF)", "hadronic towers"),
    # NanoAOD: MET is the default; the style's collections.met.source picks another.
    Collection("met", "met", 8, "MET", "MET", "MET", ("PFMETs",)),
    Collection("vertices", "vertex", 13, "Primary vertex", "the primary vertex", "PV",
               ("Vertices",), phoenix="PrimaryVertices"),
    Collection("secondary_vertices", "vertex", 14, "Secondary vertices", "secondary vertices",
               "SV", phoenix="SecondaryVertices"),
    # Rec hits, named by the scene group they are drawn as; the barrel's are EB, HB and HO.
    Collection("ecal_hits", "hits", 15, "ECAL hits", "ECAL hits", None,
               ("EBRecHits", "EERecHits", "ESRecHits"), group="EcalRecHits"),
    Collection("hcal_hits", "hits", 16, "HCAL hits", "HCAL hits", None,
               ("HBRecHits", "HERecHits", "HORecHits"), group="HcalRecHits"),
    # The forward calorimeter, 11 m out, its own part of the detector (detector.hcal_forward).
    Collection("hf_hits", "hits", 17, "HF hits", "HF hits", None, ("HFRecHits",),
               group="HFRecHits"),
    Collection("muon_chambers", "chambers", 18, "Muon chambers", "muon chambers", None,
               ("MuonChambers",)),
)  # fmt: skip

BY_KEY: dict[str, Collection] = {c.key: c for c in COLLECTIONS}


def of_kind(*kinds: Kind) -> tuple[Collection, ...]:
    """The collections of these kinds, in table (reading) order."""
    return tuple(c for c in COLLECTIONS if c.kind in kinds)


def drawing_order(*kinds: Kind) -> tuple[str, ...]:
    """The keys of these kinds in the order the scene draws them."""
    return tuple(c.key for c in sorted(of_kind(*kinds), key=lambda c: c.draw))
