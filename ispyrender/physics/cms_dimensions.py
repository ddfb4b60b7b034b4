"""The dimensions of the CMS detector that ispyrender draws and propagates through, in one place.

Public figures from the CMS detector paper and technical design reports (see
``shared/reference/cms-geometry.md``), rounded to the centimetre. Metres; z along the beam, r the
distance from the beam line; every part is symmetric about z = 0, so endcap parts give the
positive-z side and are mirrored by their users.

Everything that needs a number about the detector (the drawn geometry, where tracks stop, where
jet cones are clipped, where photons deposit, the magnetic field model) reads it from here, so
that refining a part changes the picture and the physics consistently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "BEAM_PIPE",
    "CALORIMETER_ENVELOPE",
    "ECAL_BARREL",
    "ECAL_ENDCAP",
    "ECAL_FRONT",
    "FIELD",
    "HCAL_BARREL",
    "HCAL_ENDCAP",
    "HCAL_FORWARD",
    "HCAL_OUTER",
    "MUON_BARREL",
    "MUON_ENDCAP_DISKS",
    "MUON_SYSTEM_END",
    "PIXEL_BARREL_RADII",
    "PRESHOWER",
    "RETURN_YOKE",
    "SOLENOID",
    "TRACKER",
    "WHOLE_DETECTOR",
    "Barrel",
    "Boundary",
    "Endcap",
    "FieldModel",
    "MuonBarrel",
]


@dataclass(frozen=True)
class Barrel:
    """A hollow cylinder centred on z = 0: rmin..rmax in radius, -half_length..+half_length in z."""

    rmin: float
    rmax: float
    half_length: float


@dataclass(frozen=True)
class Endcap:
    """A disk on each side: rmin..rmax in radius, zmin..zmax in |z| (mirrored to negative z)."""

    rmin: float
    rmax: float
    zmin: float
    zmax: float


@dataclass(frozen=True)
class Boundary:
    """A closed cylinder r <= radius, |z| <= half_length: where something stops or is clipped."""

    radius: float
    half_length: float


@dataclass(frozen=True)
class MuonBarrel:
    """The barrel muon chambers (DT + RPC): stations MB1..MB4 in radius, wheels along z, sectors
    in phi. Each chamber is drawn as a box; the sizes are the simplified drawing's, chosen to
    leave visible gaps between wheels and sectors as in the real detector."""

    station_radii: tuple[float, ...]  # centre of each station's chambers
    half_length: float  # the wheels span -half_length..+half_length
    wheels: int
    sectors: int
    chamber_thickness: float  # radial
    wheel_gap: float  # along z, between neighbouring wheels
    sector_fill: float  # fraction of the sector's width covered by the chamber

    @property
    def wheel_pitch(self) -> float:
        return 2.0 * self.half_length / self.wheels

    def chamber_width(self, radius: float) -> float:
        """Tangential width at a station radius: the chord of one sector, times the fill."""
        return 2.0 * radius * math.tan(math.pi / self.sectors) * self.sector_fill


@dataclass(frozen=True)
class FieldModel:
    """The simplified magnetic field (Bz only, tesla), used to bend charged particles.

    * ``inner`` (3.8 T, along +z) for r < inner_radius and |z| < inner_half_length: the uniform
      solenoid field, up to the cryostat's inner face (the HCAL outer radius, 2.95 m) and the
      coil's ends (|z| 6.3 m). The real field falls off towards the coil ends; uniform is the
      standard simplification for event displays and exact for the tracker volume.
    * ``yoke`` (about -2 T, opposite to the inner field) in the barrel return yoke:
      yoke_rmin <= r < yoke_rmax and |z| < yoke_half_length. The iron is interleaved with the
      muon stations; one average value over the whole yoke keeps the picture honest (muons bend
      the other way outside the coil) without pretending to map the field.
    * zero everywhere else: inside the coil windings and cryostat (2.95 <= r < 3.9, where the
      field reverses, so its average there is small), and in the endcaps beyond the solenoid,
      where particles are drawn as straight lines. The endcap yoke's field is mostly radial
      and not modelled.
    """

    inner: float = 3.8
    inner_radius: float = 2.95
    inner_half_length: float = 6.3
    yoke: float = -2.0
    yoke_rmin: float = 3.9
    yoke_rmax: float = 7.4
    yoke_half_length: float = 6.6


# ---- tracker -------------------------------------------------------------------------------

BEAM_PIPE = Barrel(rmin=0.0212, rmax=0.022, half_length=3.0)  # beryllium, ~0.8 mm wall
PIXEL_BARREL_RADII: tuple[float, ...] = (0.029, 0.068, 0.109, 0.160)  # Phase-1, |z| < 0.27
#: The tracker's envelope: the strip barrel's outer radius (TOB) and the endcaps' (TEC) far end.
TRACKER = Barrel(rmin=0.029, rmax=1.16, half_length=2.80)

# ---- calorimeters --------------------------------------------------------------------------

ECAL_BARREL = Barrel(rmin=1.29, rmax=1.52, half_length=2.94)  # |eta| < 1.479
ECAL_ENDCAP = Endcap(rmin=0.32, rmax=1.71, zmin=3.15, zmax=3.45)  # 1.479 < |eta| < 3.0
PRESHOWER = Endcap(rmin=0.45, rmax=1.25, zmin=2.98, zmax=3.10)  # 1.653 < |eta| < 2.6
#: Where electrons, photons and most tracks stop: the ECAL crystals' front faces.
ECAL_FRONT = Boundary(radius=ECAL_BARREL.rmin, half_length=ECAL_ENDCAP.zmin)

HCAL_BARREL = Barrel(rmin=1.77, rmax=2.95, half_length=4.33)  # |eta| < 1.3
HCAL_ENDCAP = Endcap(rmin=0.40, rmax=2.95, zmin=3.88, zmax=5.68)  # 1.3 < |eta| < 3.0
HCAL_OUTER = Barrel(rmin=3.82, rmax=4.07, half_length=6.3)  # outside the solenoid
HCAL_FORWARD = Endcap(rmin=0.12, rmax=1.40, zmin=11.15, zmax=12.80)  # 3.0 < |eta| < 5.2
#: The calorimeters inside the solenoid (HB outer radius, HE back face): jet cones end inside.
CALORIMETER_ENVELOPE = Boundary(radius=HCAL_BARREL.rmax, half_length=HCAL_ENDCAP.zmax)

# ---- magnet and muon system ----------------------------------------------------------------

SOLENOID = Barrel(rmin=2.95, rmax=3.80, half_length=6.3)  # cryostat; 3.8 T inside
RETURN_YOKE = Barrel(rmin=3.9, rmax=7.4, half_length=6.6)  # about 2 T, opposite to the inner
FIELD = FieldModel(
    yoke_rmin=RETURN_YOKE.rmin,
    yoke_rmax=RETURN_YOKE.rmax,
    yoke_half_length=RETURN_YOKE.half_length,
    inner_radius=SOLENOID.rmin,
    inner_half_length=SOLENOID.half_length,
)

MUON_BARREL = MuonBarrel(
    station_radii=(4.0, 4.9, 5.9, 7.0),  # MB1..MB4
    half_length=6.6,
    wheels=5,  # YB-2..YB+2
    sectors=12,  # sector 1 centred on phi = 0, 30 degrees each
    chamber_thickness=0.3,
    wheel_gap=0.14,
    sector_fill=0.92,
)

#: The endcap muon stations (CSC + RPC) ME1..ME4 as disks on each side. ME1 is two rings at
#: different z (ME1/1 just behind the HCAL endcap, ME1/2-3 outside it); ME2..ME4 are drawn as
#: 0.3 m thick disks around the published |z| of 8.2, 9.3 and 10.4 m.
MUON_ENDCAP_DISKS: tuple[Endcap, ...] = (
    Endcap(rmin=1.0, rmax=2.75, zmin=5.8, zmax=6.1),  # ME1/1
    Endcap(rmin=2.75, rmax=7.0, zmin=6.7, zmax=7.0),  # ME1/2, ME1/3
    Endcap(rmin=1.0, rmax=7.0, zmin=8.05, zmax=8.35),  # ME2
    Endcap(rmin=1.0, rmax=7.0, zmin=9.15, zmax=9.45),  # ME3
    Endcap(rmin=1.0, rmax=7.0, zmin=10.25, zmax=10.55),  # ME4
)

#: Where muons stop: past the outermost barrel station (the yoke's outer radius) or the
#: outermost endcap station (ME4's back face, rounded up).
MUON_SYSTEM_END = Boundary(radius=RETURN_YOKE.rmax, half_length=10.6)

WHOLE_DETECTOR = Boundary(radius=7.5, half_length=10.8)
