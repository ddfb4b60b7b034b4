"""The dimensions of the CMS detector that ispyrender draws and propagates through, in one place.

Metres; z along the beam, r the distance from the beam line; every part is symmetric about
z = 0, so endcap parts give the positive-z side and are mirrored by their users.

Where the numbers come from, per number below:

* "file": measured on CMS's own geometry as carried by iSpy, the cells of the calorimeter rec
  hits and the muon chambers in ``Hto4l_120-130GeV.ig`` (corners of each cell, written by
  CMSSW from its geometry database), and iSpy's full geometry exports (``geometry/dt.js``,
  ``csc.js``, ``json/hb.json``, ``hehf.json``, ``ho.json``, ``ee.json`` in cms-outreach/ispy-webgl)
  for the parts and chambers the file has no hit in. ``tests/cmssw_reference.py`` measures the
  drawn detector against the file and ``tests/test_cmssw_reference.py`` holds it to 2 cm.
* "public": the CMS detector paper and technical design reports, as collected in
  ``shared/reference/cms-geometry.md``, for the parts no file carries (beam pipe, tracker,
  solenoid, yoke), rounded to the centimetre.

Everything that needs a number about the detector (the drawn geometry, where tracks stop, where
jet cones are clipped, where photons deposit, the magnetic field model) reads it from here, so
that refining a part changes the picture and the physics consistently.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = [
    "BEAM_PIPE",
    "CALORIMETER_ENVELOPE",
    "CSC_RINGS",
    "DT_WHEELS",
    "ECAL_BARREL",
    "ECAL_ENDCAP",
    "ECAL_ENTRANCE",
    "FIELD",
    "HCAL_BARREL",
    "HCAL_ENDCAP",
    "HCAL_FORWARD",
    "HCAL_OUTER",
    "MATERIAL",
    "MUON_SYSTEM_END",
    "PIXEL_BARREL_RADII",
    "PRESHOWER",
    "RETURN_YOKE",
    "SOLENOID",
    "TRACKER",
    "WHOLE_DETECTOR",
    "Barrel",
    "Boundary",
    "CscChamber",
    "CscRing",
    "DtChamber",
    "Endcap",
    "FieldModel",
    "MaterialModel",
    "Section",
    "csc_chambers",
    "dt_chambers",
    "in_muon_barrel",
    "transverse_distance",
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


Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class Section:
    """A part whose cross-section in (r, |z|) is not a rectangle: between the ``near`` and
    ``far`` faces, each given as (r, |z|) points in increasing r and linear in between (two
    points at the same r make a step). Turned about the beam line in ``wedges`` flat-faced
    wedges (HB and HE are built of 18 wedges of 20 degrees each) and mirrored to negative z."""

    near: tuple[tuple[float, float], ...]
    far: tuple[tuple[float, float], ...]
    wedges: int = 18

    @property
    def rmin(self) -> float:
        return self.near[0][0]

    @property
    def rmax(self) -> float:
        return self.near[-1][0]

    def quads(self) -> list[Quad]:
        """The section cut at every corner radius into quadrilaterals (r, |z|): near face at
        rmin of the slice, near at its rmax, far at its rmax, far at its rmin."""
        edges = sorted({r for r, _ in (*self.near, *self.far)})
        out = []
        for r0, r1 in itertools.pairwise(edges):
            near0, near1 = _on_slice(self.near, r0, r1)
            far0, far1 = _on_slice(self.far, r0, r1)
            out.append(((r0, near0), (r1, near1), (r1, far1), (r0, far0)))
        return out

    def wedge_corners(self) -> np.ndarray:
        """The part as hexahedra (N, 8, 3): every quad of :meth:`quads` turned into ``wedges``
        flat-faced wedges on each side, wedge k spanning phi = k .. k + 1 times 360 / wedges
        degrees; the near face's corners, then the far face's in the same order."""
        edges = np.linspace(0.0, 2.0 * np.pi, self.wedges + 1)
        out = []
        for (r0, n0), (r1, n1), (_, f1), (_, f0) in self.quads():
            for a, b in itertools.pairwise(edges):
                for side in (1.0, -1.0):
                    face = []
                    for z0, z1 in ((n0, n1), (f0, f1)):
                        face += [
                            (r0 * math.cos(a), r0 * math.sin(a), side * z0),
                            (r1 * math.cos(a), r1 * math.sin(a), side * z1),
                            (r1 * math.cos(b), r1 * math.sin(b), side * z1),
                            (r0 * math.cos(b), r0 * math.sin(b), side * z0),
                        ]
                    out.append(face)
        return np.array(out)


def _on_slice(face: tuple[tuple[float, float], ...], r0: float, r1: float) -> tuple[float, float]:
    """The |z| of a piecewise-linear face at both ends of the slice r0..r1 (r0 < r1), taken
    from the segment that spans the slice, so that a step at r0 or r1 is kept."""
    mid = 0.5 * (r0 + r1)
    for (ra, za), (rb, zb) in itertools.pairwise(face):
        if ra <= mid <= rb and rb > ra:
            slope = (zb - za) / (rb - ra)
            return za + slope * (r0 - ra), za + slope * (r1 - ra)
    raise ValueError(f"the face {face} does not span r = {mid}")


@dataclass(frozen=True)
class Boundary:
    """A closed volume where something stops or is clipped: |z| <= half_length and, across the
    beam, r <= radius (a cylinder) or, with ``sides`` > 0, inside the regular polygon whose
    faces are ``radius`` from the beam line with normals at phi = k * 360 / sides degrees
    (the barrel muon stations are flat chambers facing the sector directions)."""

    radius: float
    half_length: float
    sides: int = 0

    def transverse(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The distance measured against ``radius`` (see :func:`transverse_distance`)."""
        return transverse_distance(x, y, np.asarray(self.sides))


def transverse_distance(x: np.ndarray, y: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """How far out (x, y) is for a boundary of ``sides`` faces (one value, or one per point):
    r for a cylinder (0 sides), for a polygon the distance along the nearest face's normal."""
    r = np.hypot(x, y)
    polygon = sides > 0
    if not polygon.any():
        return r
    pitch = 2.0 * np.pi / np.where(polygon, sides, 1)
    off = (np.arctan2(y, x) + 0.5 * pitch) % pitch - 0.5 * pitch
    return np.asarray(np.where(polygon, r * np.cos(off), r))


# ---- the muon system ------------------------------------------------------------------------


@dataclass(frozen=True)
class DtChamber:
    """One barrel drift-tube chamber: a flat box facing its sector's direction.

    ``phi`` is the sector's direction (sector s at (s - 1) * 30 degrees; sectors 13 and 14 are
    the second MB4 chambers of sectors 4 and 10). Across the beam the box spans r_in..r_out
    along that direction and t_lo..t_hi across it (towards increasing phi): CMS's chambers are
    not centred on their sector line, each station is offset so that the cracks between
    sectors do not line up. Along the beam it spans z_lo..z_hi."""

    station: int
    wheel: int
    sector: int
    r_in: float
    r_out: float
    t_lo: float
    t_hi: float
    z_lo: float
    z_hi: float

    @property
    def phi(self) -> float:
        return math.radians(30.0 * (DT_SECTOR_DIRECTION.get(self.sector, self.sector) - 1))

    def outline_xy(self) -> np.ndarray:
        """The chamber seen along the beam: a rectangle (4, 2) in x, y."""
        c, s = math.cos(self.phi), math.sin(self.phi)
        rt = (
            (self.r_in, self.t_lo),
            (self.r_in, self.t_hi),
            (self.r_out, self.t_hi),
            (self.r_out, self.t_lo),
        )
        return np.array([(r * c - t * s, r * s + t * c) for r, t in rt])

    def corners(self) -> np.ndarray:
        """The eight corners (8, 3): the inner face, then the outer face in the same order."""
        c, s = math.cos(self.phi), math.sin(self.phi)
        out = []
        for r in (self.r_in, self.r_out):
            for t, z in (
                (self.t_lo, self.z_lo),
                (self.t_hi, self.z_lo),
                (self.t_hi, self.z_hi),
                (self.t_lo, self.z_hi),
            ):
                out.append((r * c - t * s, r * s + t * c, z))
        return np.array(out)


#: Sectors 13 and 14 (the second MB4 chamber of sectors 4 and 10) face their sector's direction.
DT_SECTOR_DIRECTION = {13: 4, 14: 10}

#: DT chamber shape per (station, sector): r_in, r_out along the sector direction and t_lo, t_hi
#: across it, in metres. "file (n)": the mean of the n chambers of the .ig file in that station
#: and sector (over wheels); "dt.js": iSpy's DT geometry, the mean over the five wheels, where
#: the file has no chamber. The two agree within 1 cm; single chambers scatter by up to 2 cm
#: around the mean (CMS's alignment). MB1-MB3 are the same in every sector up to alignment; MB4
#: differs per sector: wide chambers in the sectors 1-3, 5-8 and 12, two chambers each in
#: sectors 4 (with 13) and 10 (with 14), narrow ones in 9 and 11 where the detector's feet are.
DT_SHAPES: dict[tuple[int, int], tuple[float, float, float, float]] = {
    (1, 1): (4.136, 4.499, -0.697, 1.483),  # file (2)
    (1, 2): (4.130, 4.499, -0.704, 1.477),  # file (3)
    (1, 3): (4.125, 4.491, -0.704, 1.477),  # file (1)
    (1, 4): (4.123, 4.486, -0.700, 1.480),  # file (2)
    (1, 5): (4.125, 4.492, -0.696, 1.486),  # file (1)
    (1, 6): (4.127, 4.495, -0.696, 1.486),  # file (1)
    (1, 7): (4.135, 4.499, -0.701, 1.480),  # file (1)
    (1, 8): (4.130, 4.497, -0.703, 1.480),  # dt.js
    (1, 9): (4.122, 4.492, -0.704, 1.478),  # file (1)
    (1, 10): (4.120, 4.485, -0.698, 1.483),  # file (1)
    (1, 11): (4.123, 4.491, -0.693, 1.489),  # file (1)
    (1, 12): (4.130, 4.499, -0.694, 1.488),  # dt.js
    (2, 1): (4.949, 5.313, -1.551, 1.118),  # dt.js
    (2, 2): (4.944, 5.313, -1.554, 1.117),  # file (3)
    (2, 3): (4.938, 5.307, -1.555, 1.115),  # file (2)
    (2, 4): (4.937, 5.302, -1.550, 1.118),  # file (2)
    (2, 5): (4.940, 5.305, -1.547, 1.122),  # file (1)
    (2, 6): (4.938, 5.312, -1.546, 1.124),  # dt.js
    (2, 7): (4.949, 5.317, -1.551, 1.119),  # file (1)
    (2, 8): (4.942, 5.314, -1.555, 1.115),  # file (1)
    (2, 9): (4.936, 5.308, -1.552, 1.117),  # file (1)
    (2, 10): (4.935, 5.299, -1.548, 1.121),  # file (2)
    (2, 11): (4.938, 5.305, -1.542, 1.127),  # file (1)
    (2, 12): (4.941, 5.310, -1.542, 1.127),  # dt.js
    (3, 1): (6.021, 6.349, -1.362, 1.798),  # dt.js
    (3, 2): (6.015, 6.348, -1.363, 1.799),  # file (3)
    (3, 3): (6.009, 6.343, -1.361, 1.800),  # file (2)
    (3, 4): (6.008, 6.338, -1.360, 1.800),  # file (2)
    (3, 5): (6.010, 6.342, -1.358, 1.803),  # file (1)
    (3, 6): (6.012, 6.348, -1.358, 1.803),  # file (1)
    (3, 7): (6.019, 6.349, -1.361, 1.798),  # file (1)
    (3, 8): (6.012, 6.349, -1.361, 1.800),  # dt.js
    (3, 9): (6.007, 6.342, -1.362, 1.799),  # file (2)
    (3, 10): (6.007, 6.336, -1.358, 1.804),  # file (1)
    (3, 11): (6.009, 6.341, -1.354, 1.807),  # file (1)
    (3, 12): (6.014, 6.349, -1.352, 1.808),  # dt.js
    (4, 1): (7.044, 7.372, -3.031, 1.133),  # dt.js
    (4, 2): (7.041, 7.372, -3.031, 1.134),  # file (2)
    (4, 3): (7.032, 7.368, -3.031, 1.134),  # file (3)
    (4, 4): (7.033, 7.362, -3.166, -0.050),  # file (1)
    (4, 5): (7.034, 7.362, -1.132, 3.033),  # file (1)
    (4, 6): (7.038, 7.371, -1.133, 3.032),  # file (1)
    (4, 7): (7.044, 7.370, -1.135, 3.029),  # file (1)
    (4, 8): (7.040, 7.373, -1.200, 2.930),  # dt.js
    (4, 9): (7.056, 7.388, -0.989, 1.104),  # file (2)
    (4, 10): (7.029, 7.358, -2.672, -0.062),  # file (1)
    (4, 11): (7.057, 7.387, -1.099, 0.993),  # file (1)
    (4, 12): (7.039, 7.373, -2.922, 1.207),  # dt.js
    (4, 13): (7.033, 7.363, 0.047, 3.173),  # dt.js
    (4, 14): (7.031, 7.358, 0.065, 2.675),  # file (1)
}

#: The five wheels' extent along z (file: the mean over the .ig file's 5-15 chambers in each
#: wheel; dt.js agrees within 1.2 cm): YB-2..YB+2, with 14-17 cm between wheels.
DT_WHEELS: dict[int, tuple[float, float]] = {
    -2: (-6.600, -4.087),
    -1: (-3.939, -1.427),
    0: (-1.258, 1.254),
    1: (1.426, 3.938),
    2: (4.085, 6.597),
}


def in_muon_barrel(centres: np.ndarray) -> np.ndarray:
    """(N, 3) chamber centres -> (N,) bool: a drift-tube chamber of the barrel wheels (outside
    the solenoid, within the wheels' z), not a CSC of the endcaps (whose ME1/3 ring sits just
    beyond the wheels, and whose inner rings inside the yoke's radius)."""
    centres = np.asarray(centres, dtype=float).reshape(-1, 3)
    half_length = max(abs(z) for extent in DT_WHEELS.values() for z in extent)
    rho = np.hypot(centres[:, 0], centres[:, 1])
    return (np.abs(centres[:, 2]) <= half_length) & (rho >= SOLENOID.rmax)


#: Shorter chambers (every station) where the solenoid's cryogenic chimneys pass through the
#: wheels (file: dt.js): (wheel, sector) -> z extent.
DT_CHIMNEYS: dict[tuple[int, int], tuple[float, float]] = {
    (-1, 3): (-3.934, -1.813),
    (1, 4): (1.813, 3.934),
    (1, 13): (1.813, 3.934),
}


@cache
def dt_chambers() -> tuple[DtChamber, ...]:
    """All 250 DT chambers: 5 wheels x (12 sectors x MB1-MB3 + 14 MB4 chambers)."""
    out = []
    for wheel, (z_lo, z_hi) in DT_WHEELS.items():
        for (station, sector), (r_in, r_out, t_lo, t_hi) in DT_SHAPES.items():
            if station == 4 or sector <= 12:
                lo, hi = DT_CHIMNEYS.get((wheel, sector), (z_lo, z_hi))
                out.append(DtChamber(station, wheel, sector, r_in, r_out, t_lo, t_hi, lo, hi))
    return tuple(out)


@dataclass(frozen=True)
class CscRing:
    """One ring of endcap cathode-strip chambers (per endcap): trapezoids pointing at the beam.

    In each chamber's own frame (along its centre line at phi = phi_first + (chamber - 1) *
    360 / count degrees) it spans r_lo..r_hi, with half-widths half_lo at r_lo and half_hi at
    r_hi. Odd and even chambers sit at different |z| so that neighbours overlap in phi."""

    station: int
    ring: int
    r_lo: float
    r_hi: float
    half_lo: float
    half_hi: float
    count: int
    phi_first: float  # degrees
    z_odd: tuple[float, float]
    z_even: tuple[float, float]

    @property
    def z_extent(self) -> tuple[float, float]:
        """|z| covered by the ring's chambers, odd and even together."""
        return min(self.z_odd[0], self.z_even[0]), max(self.z_odd[1], self.z_even[1])


#: The CSC rings. Shapes from iSpy's csc.js (ME1/1 is ME1/1a and ME1/1b, one chamber body);
#: |z| of the odd and even chambers moved by the mean offset of the .ig file's chambers in that
#: ring (file; up to 2.2 cm nearer the centre for ME1/1, under 1.4 cm elsewhere).
CSC_RINGS: tuple[CscRing, ...] = (
    CscRing(1, 1, 1.005, 2.625, 0.151, 0.305, 36, 0.0, (6.076, 6.224), (5.783, 5.931)),
    CscRing(1, 2, 2.750, 4.644, 0.377, 0.539, 36, 0.0, (7.027, 7.218), (6.753, 6.942)),
    CscRing(1, 3, 5.055, 6.848, 0.432, 0.590, 36, 0.0, (6.857, 7.039), (6.859, 7.047)),
    CscRing(2, 1, 1.404, 3.450, 0.374, 0.766, 18, 5.0, (8.311, 8.497), (8.065, 8.249)),
    CscRing(2, 2, 3.575, 6.955, 0.456, 0.764, 36, 0.0, (8.304, 8.492), (8.058, 8.245)),
    CscRing(3, 1, 1.604, 3.450, 0.415, 0.766, 18, 5.0, (9.132, 9.317), (9.381, 9.567)),
    CscRing(3, 2, 3.575, 6.955, 0.456, 0.764, 36, 0.0, (9.125, 9.313), (9.378, 9.565)),
    CscRing(4, 1, 1.793, 3.460, 0.450, 0.766, 18, 5.0, (10.027, 10.211), (10.274, 10.459)),
    CscRing(4, 2, 3.575, 6.955, 0.455, 0.763, 36, 0.0, (10.035, 10.215), (10.283, 10.463)),
)


@dataclass(frozen=True)
class CscChamber:
    """One CSC chamber: its ring, number (1..count, increasing with phi) and endcap (+1, -1)."""

    ring: CscRing
    chamber: int
    endcap: int

    @property
    def station(self) -> int:
        return self.ring.station

    @property
    def phi(self) -> float:
        return math.radians(self.ring.phi_first + (self.chamber - 1) * 360.0 / self.ring.count)

    def corners(self) -> np.ndarray:
        """The eight corners (8, 3): the face nearer z = 0, then the farther face."""
        ring = self.ring
        z_lo, z_hi = ring.z_odd if self.chamber % 2 else ring.z_even
        c, s = math.cos(self.phi), math.sin(self.phi)
        out = []
        for z in (z_lo, z_hi):
            for r, t in (
                (ring.r_lo, -ring.half_lo),
                (ring.r_lo, ring.half_lo),
                (ring.r_hi, ring.half_hi),
                (ring.r_hi, -ring.half_hi),
            ):
                out.append((r * c - t * s, r * s + t * c, self.endcap * z))
        return np.array(out)


@cache
def csc_chambers() -> tuple[CscChamber, ...]:
    """All 540 CSC chambers, both endcaps."""
    return tuple(
        CscChamber(ring, k, endcap)
        for endcap in (1, -1)
        for ring in CSC_RINGS
        for k in range(1, ring.count + 1)
    )


# ---- the magnetic field ---------------------------------------------------------------------


def first_true(
    conditions: Sequence[np.ndarray], values: Sequence[float | np.ndarray], shape: tuple[int, ...]
) -> np.ndarray:
    """np.select(conditions, values, default=0): the value of the first condition that holds.

    Written out because np.select broadcasts every scalar value to a full array first, which
    made it most of a propagation step's cost (runs once per step, on a few dozen particles).
    """
    out = np.zeros(shape)
    # Last first, so that an earlier condition that also holds overwrites it.
    for condition, value in zip(reversed(conditions), reversed(values), strict=True):
        if isinstance(value, np.ndarray):
            np.copyto(out, value, where=condition)
        else:
            out[condition] = value
    return out


@dataclass(frozen=True)
class FieldModel:
    """The magnetic field as piecewise-constant Bz (tesla) in six regions, used to bend charged
    particles. Every region is symmetric in z; the first that contains a point gives its field:

    * ``inner`` for r < coil_radius, |z| < inner_half_length: the solenoid's uniform 3.8 T,
      exact for the tracker and the calorimeters (CMSSW's tracks agree to 0.1 mm).
    * for r < coil_radius, inner_half_length <= |z| < coil_half_length, the field weakens
      towards the coil's ends, where it spreads out into the endcap iron: linearly from
      ``inner`` to ``ends`` at |z| = coil_half_length.
    * ``gap`` for coil_radius <= r < yoke_rmin, |z| < coil_half_length: the cryostat and the
      coil itself, across which the field falls from 3.8 T to the yoke's reversed field.
    * ``yoke`` for yoke_rmin <= r < yoke_rmax, |z| < yoke_half_length: the barrel return
      yoke's iron and the chambers between its layers, as one average (opposite to the inner).
    * ``endcap`` for coil_half_length <= |z| < endcap_zmax, r < yoke_rmax: the endcap disks.
    * zero elsewhere.

    Only Bz is modelled. Where the flux leaves the solenoid's ends and turns outwards through
    the endcap disks into the barrel yoke the real field is largely radial; a forward muon
    moving along z through it bends in phi opposite to its bend in the tracker. The fitted
    ``endcap`` value is the Bz that bends the file's forward muons (|eta| 1.0-2.2) as CMSSW
    does, an effective value, not the field in the iron. (A radial term, Br times dz/ds, was
    tried: the fit drove it to zero and kept the Bz.)

    The values are fitted, not taken from a field map: ``python tests/cmssw_reference.py
    --fit`` propagates the global muons of the shared ``.ig`` file from their vertex states and
    adjusts ends, gap, yoke, endcap (and inner_half_length) to minimise the squared distances of
    CMSSW's own propagated muon points from the drawn curves, coordinate by coordinate. What
    they give is in FIELD below and in the README's physics section.
    """

    # Fitted (see above and FIELD); the regions' edges are the public dimensions.
    inner: float = 3.8
    coil_radius: float = 2.95
    inner_half_length: float = 1.52
    ends: float = 2.09
    coil_half_length: float = 6.3
    gap: float = 1.78
    yoke_rmin: float = 3.9
    yoke_rmax: float = 7.4
    yoke_half_length: float = 6.6
    yoke: float = -0.64
    endcap_zmax: float = 10.6
    endcap: float = -3.74

    def regions(self, r: np.ndarray, az: np.ndarray) -> list[np.ndarray]:
        """Masks of the five regions at radius r and |z| (the first that holds counts): inner,
        ends, gap, yoke, endcap. The material model shares them."""
        inside = r < self.coil_radius
        return [
            inside & (az < self.inner_half_length),
            inside & (az < self.coil_half_length),
            (r < self.yoke_rmin) & (az < self.coil_half_length),
            (r >= self.yoke_rmin) & (r < self.yoke_rmax) & (az < self.yoke_half_length),
            (az >= self.coil_half_length) & (az < self.endcap_zmax) & (r < self.yoke_rmax),
        ]

    def bz(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Bz in tesla at the given points."""
        r, az = np.hypot(x, y), np.abs(z)
        return self.bz_in(az, self.regions(r, az))

    def towards_ends(self, az: np.ndarray) -> np.ndarray:
        """Bz in the second region, towards the coil's ends: falling linearly from `inner` to
        `ends` with |z|."""
        span = max(self.coil_half_length - self.inner_half_length, 1e-9)
        along = (az - self.inner_half_length) / span
        return self.inner + (self.ends - self.inner) * np.clip(along, 0.0, 1.0)

    def bz_in(self, az: np.ndarray, regions: list[np.ndarray]) -> np.ndarray:
        """Bz at points of |z| ``az`` whose :meth:`regions` are known."""
        falling = self.towards_ends(az)
        values: list[float | np.ndarray] = [self.inner, falling, self.gap, self.yoke, self.endcap]
        return first_true(regions, values, az.shape)


@dataclass(frozen=True)
class MaterialModel:
    """Mean energy loss of a charged particle per metre of path (GeV/m), piecewise constant in
    the same regions as the field: the tracker, the calorimeters inside the coil, the coil and
    cryostat, the barrel yoke (iron and chambers), the endcap iron. CMSSW's propagation loses
    energy the same way; without it a 1-5 GeV track misses CMSSW's ECAL entrance point by
    about 9 mm and a 10 GeV muon reaches MB4 with some 30 % more momentum than CMSSW's.

    The calorimeter, coil and iron values are the PDG's mean dE/dx for muons of 10-50 GeV
    (PbWO4 and brass about 1.2 GeV/m, iron 1.3 GeV/m, aluminium 0.5 GeV/m) times the fraction
    of the region's depth that is absorber (ECAL 0.23 m and HB about 1 m of the 1.6 m inside
    the coil; about 0.3 m of aluminium across the cryostat; 1.5 m of iron in the 3.5 m of the
    barrel yoke; the endcap disks 0.6 + 0.6 + 0.25 m in 3.9 m). The tracker's is fitted to
    CMSSW's ECAL entrance states (tests/cmssw_reference.py --fit)."""

    tracker: float = 0.0276  # fitted: 28 MeV per metre
    tracker_radius: float = 1.16
    tracker_half_length: float = 2.8
    calorimeter_radius: float = 1.29  # where the calorimeters begin: the barrel crystals...
    calorimeter_z: float = 3.036  # ... and the preshower
    calorimeters: float = 0.9  # 0.23 m PbWO4 + ~1 m brass: 1.5 GeV over 1.66 m
    coil: float = 0.16  # ~0.3 m aluminium: 0.15 GeV over 0.95 m
    yoke: float = 0.56  # 1.5 m iron: 1.95 GeV over 3.5 m
    endcap: float = 0.5  # 1.45 m iron: 1.9 GeV over 3.9 m

    def loss(self, x: np.ndarray, y: np.ndarray, z: np.ndarray, field: FieldModel) -> np.ndarray:
        """GeV lost per metre of path at the given points."""
        r, az = np.hypot(x, y), np.abs(z)
        return self.loss_in(r, az, field.regions(r, az))

    def loss_in(self, r: np.ndarray, az: np.ndarray, regions: list[np.ndarray]) -> np.ndarray:
        """The loss at radius r and |z| ``az`` whose field regions are known: inside the
        solenoid the tracker and the calorimeters take the place of the field's two regions."""
        conditions = [
            (r < self.tracker_radius) & (az < self.tracker_half_length),
            (r < self.calorimeter_radius) & (az < self.calorimeter_z),
            *regions[1:],
        ]
        values = [self.tracker, 0.0, self.calorimeters, self.coil, self.yoke, self.endcap]
        return first_true(conditions, values, r.shape)


# ---- tracker -------------------------------------------------------------------------------

BEAM_PIPE = Barrel(rmin=0.0212, rmax=0.022, half_length=3.0)  # public: beryllium, ~0.8 mm wall
PIXEL_BARREL_RADII: tuple[float, ...] = (0.029, 0.068, 0.109, 0.160)  # public: Phase-1
#: The tracker's envelope (public): the strip barrel's outer radius (TOB), the endcaps' far end.
TRACKER = Barrel(rmin=0.029, rmax=1.16, half_length=2.80)

# ---- calorimeters (file: the rec-hit cells' corners) ----------------------------------------

ECAL_BARREL = Barrel(rmin=1.290, rmax=1.524, half_length=2.912)  # EB crystals, |eta| < 1.479
ECAL_ENDCAP = Endcap(rmin=0.326, rmax=1.609, zmin=3.174, zmax=3.445)  # EE crystals
PRESHOWER = Endcap(rmin=0.399, rmax=1.198, zmin=3.036, zmax=3.085)  # ES, both silicon planes
#: Where electrons, photons and tracks stop: the surface to which CMSSW propagates every track
#: for its state at the ECAL entrance (the second state of iSpy's TrackExtras), 1.5 cm in front
#: of the barrel crystals and between the preshower and the endcap crystals.
ECAL_ENTRANCE = Boundary(radius=1.2752, half_length=3.1681)

#: HB: two half barrels of 18 wedges; the ends follow the projective towers (file: hb.json;
#: the last towers reach |z| 3.42 m at the inner face and 4.94 m at the outer).
HCAL_BARREL = Section(
    near=((1.8127, 0.0), (2.8908, 0.0)),
    far=((1.8127, 3.421), (2.330, 4.394), (2.8908, 4.938)),
)
#: HE: 18 wedges per side; the front steps forward for towers 16-17 and follows HB's slanted
#: end at large radius; the back falls off at the outer edge (file: hehf.json).
HCAL_ENDCAP = Section(
    near=(
        (0.3997, 4.005),
        (1.71, 4.005),
        (1.71, 3.919),
        (1.88, 3.919),
        (2.45, 4.188),
        (2.50, 4.710),
        (2.757, 4.710),
    ),
    far=((0.3997, 5.493), (2.40, 5.493), (2.60, 5.406), (2.757, 5.145)),
)
HCAL_OUTER = Barrel(rmin=3.904, rmax=4.140, half_length=7.072)  # HO rings (file: ho.json)
HCAL_FORWARD = Endcap(rmin=0.125, rmax=1.300, zmin=11.150, zmax=12.801)  # HF (file: hehf.json)
#: The HCAL's inner faces: HB's inner radius and HE's front (where HE steps forward); towers
#: of hadronic energy stand on it.
HCAL_ENTRANCE = Boundary(radius=HCAL_BARREL.near[0][0], half_length=3.919)
#: The calorimeters inside the solenoid (HB outer radius, HE back face): jet cones end inside.
CALORIMETER_ENVELOPE = Boundary(
    radius=HCAL_BARREL.rmax, half_length=max(z for _, z in HCAL_ENDCAP.far)
)

# ---- magnet and muon system (public, and the fitted field) ----------------------------------

SOLENOID = Barrel(rmin=2.95, rmax=3.80, half_length=6.3)  # public: the cryostat; 3.8 T inside
RETURN_YOKE = Barrel(rmin=3.9, rmax=7.4, half_length=6.6)  # public: three iron layers per wheel
#: Fitted to CMSSW's propagation (``python tests/cmssw_reference.py --fit``, on the shared
#: Hto4l .ig file: 760 tracks of 1-20 GeV, 24 global muons of 9-78 GeV): the inner 3.8 T stays
#: (the fit's best is 3.800) up to |z| 1.52 m and falls linearly to 2.09 T at the coil's ends;
#: 1.78 T across coil and cryostat, -0.64 T on average over the barrel yoke and its chambers,
#: -3.74 T (effective, see FieldModel) in the endcap disks.
FIELD = FieldModel(
    coil_radius=SOLENOID.rmin,
    coil_half_length=SOLENOID.half_length,
    yoke_rmin=RETURN_YOKE.rmin,
    yoke_rmax=RETURN_YOKE.rmax,
    yoke_half_length=RETURN_YOKE.half_length,
)

MATERIAL = MaterialModel(
    tracker_radius=TRACKER.rmax,
    tracker_half_length=TRACKER.half_length,
    calorimeter_radius=ECAL_BARREL.rmin,
    calorimeter_z=PRESHOWER.zmin,
)

#: Where muons stop: the outer faces of the MB4 chambers (a dodecagon 7.39 m from the beam at
#: its farthest) or the back of ME4.
MUON_SYSTEM_END = Boundary(
    radius=round(max(c.r_out for c in dt_chambers()) + 0.005, 3),
    half_length=round(max(r.z_extent[1] for r in CSC_RINGS) + 0.005, 3),
    sides=12,
)

#: Everything drawn fits in here: the MB4 chambers' outer corners and ME4's back.
WHOLE_DETECTOR = Boundary(
    radius=float(max(np.hypot(*c.corners()[:, :2].T).max() for c in dt_chambers())),
    half_length=MUON_SYSTEM_END.half_length,
)
