"""The simplified CMS detector as scene primitives, from :mod:`ispyrender.physics.cms_dimensions`.

Every primitive's group is the style key of its part (``"ecal_barrel"``, ``"muon_endcap"``, ...)
and its look comes from that part's :class:`~ispyrender.config.style.PartStyle`. Parts whose style
says ``show: false`` are left out, and nothing is drawn when ``detector.show`` is false.

Parts: beam pipe, tracker envelope, ECAL barrel and endcaps, the solenoid cryostat (tubes); the
HCAL barrel and endcaps as CMS builds them, 18 wedges of 20 degrees with their slanted ends;
the 250 barrel drift-tube chambers as flat boxes where CMS's geometry has them (offset in each
sector, MB4 split in sectors 4 and 10, short chambers at the chimneys), and the 540 endcap
cathode-strip chambers as trapezoids. The return yoke, HCAL outer and forward calorimeters are
in the dimensions module but not drawn: the style has no part for them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ispyrender.config.style import Detector, PartStyle, parse_color
from ispyrender.physics.cms_dimensions import (
    BEAM_PIPE,
    ECAL_BARREL,
    ECAL_ENDCAP,
    HCAL_BARREL,
    HCAL_ENDCAP,
    HCAL_FORWARD,
    PRESHOWER,
    SOLENOID,
    TRACKER,
    Barrel,
    Endcap,
    Section,
    csc_chambers,
    dt_chambers,
)
from ispyrender.scene.primitives import Appearance, Boxes, Hexahedra, Primitive, Tube

__all__ = ["build_detector", "muon_barrel_boxes", "muon_endcap_chambers", "part_appearance"]


def part_appearance(part: PartStyle) -> Appearance:
    return Appearance(
        color=parse_color(part.color),
        opacity=part.opacity,
        line_width=1.0,
        wireframe=part.representation == "wireframe",
        edge_color=parse_color(part.edge_color) if part.edge_color else None,
    )


Arc = tuple[float, float]
FULL: Arc = (0.0, 2.0 * np.pi)


def kept_arc(cutaway: tuple[float, float] | None) -> Arc:
    """The phi range (radians) left standing when the wedge ``cutaway`` (degrees) is removed."""
    if cutaway is None:
        return FULL
    start, end = np.radians(cutaway[0]), np.radians(cutaway[1])
    width = (end - start) % (2.0 * np.pi)
    if width == 0.0:
        return FULL
    return (float(end), float(end + 2.0 * np.pi - width))


def _barrel(group: str, dims: Barrel, look: Appearance, arc: Arc = FULL) -> Tube:
    return Tube(group, dims.rmin, dims.rmax, -dims.half_length, dims.half_length, look, *arc)


def _endcaps(group: str, dims: Endcap, look: Appearance, arc: Arc = FULL) -> list[Primitive]:
    """The +z and -z disks of an endcap part."""
    return [
        Tube(group, dims.rmin, dims.rmax, dims.zmin, dims.zmax, look, *arc),
        Tube(group, dims.rmin, dims.rmax, -dims.zmax, -dims.zmin, look, *arc),
    ]


def _in_arc(phi: np.ndarray, arc: Arc) -> np.ndarray:
    return (phi - arc[0]) % (2.0 * np.pi) <= (arc[1] - arc[0]) + 1e-9


def muon_barrel_boxes(look: Appearance, arc: Arc = FULL, group: str = "muon_barrel") -> Boxes:
    """The DT chambers in the kept phi range, one box each."""
    chambers = [c for c in dt_chambers() if _in_arc(np.array(c.phi), arc)]
    centers = np.array([c.corners().mean(axis=0) for c in chambers])
    sizes = np.array([(c.r_out - c.r_in, c.t_hi - c.t_lo, c.z_hi - c.z_lo) for c in chambers])
    phi = np.array([c.phi for c in chambers])
    return Boxes(group, centers.reshape(-1, 3), sizes.reshape(-1, 3), phi, look)


def muon_endcap_chambers(
    look: Appearance, arc: Arc = FULL, group: str = "muon_endcap"
) -> Hexahedra:
    """The CSC chambers of both endcaps in the kept phi range."""
    corners = [c.corners() for c in csc_chambers() if _in_arc(np.array(c.phi), arc)]
    return Hexahedra(group, np.array(corners).reshape(-1, 8, 3), look)


def _wedges(group: str, section: Section, look: Appearance, arc: Arc = FULL) -> Hexahedra:
    """A part built of wedges, those whose middle lies in the kept phi range."""
    corners = section.wedge_corners()
    mid = corners.mean(axis=1)
    keep = _in_arc(np.arctan2(mid[:, 1], mid[:, 0]) % (2.0 * np.pi), arc)
    return Hexahedra(group, corners[keep], look)


def _muon_barrel(group: str, _dims: None, look: Appearance, arc: Arc) -> list[Primitive]:
    return [muon_barrel_boxes(look, arc, group)]


def _muon_endcap(group: str, _dims: None, look: Appearance, arc: Arc) -> list[Primitive]:
    return [muon_endcap_chambers(look, arc, group)]


def _one(build: Callable[..., Primitive]) -> Callable[..., list[Primitive]]:
    return lambda *args: [build(*args)]


#: Every part that can be drawn, inner parts first: its style key, how it is built, from which
#: dimensions, and whether the cut-away applies. The beam pipe stays whole: it is thin and
#: hides nothing; the tracker envelope is cut like the rest, so an opaque style shows inside.
_PARTS: tuple[tuple[str, Callable[..., list[Primitive]], object, bool], ...] = (
    ("beam_pipe", _one(_barrel), BEAM_PIPE, False),
    ("tracker", _one(_barrel), TRACKER, True),
    ("ecal_barrel", _one(_barrel), ECAL_BARREL, True),
    ("ecal_endcap", _endcaps, ECAL_ENDCAP, True),
    ("preshower", _endcaps, PRESHOWER, True),
    ("hcal_barrel", _one(_wedges), HCAL_BARREL, True),
    ("hcal_endcap", _one(_wedges), HCAL_ENDCAP, True),
    ("hcal_forward", _endcaps, HCAL_FORWARD, True),
    ("solenoid", _one(_barrel), SOLENOID, True),
    ("muon_barrel", _muon_barrel, None, True),
    ("muon_endcap", _muon_endcap, None, True),
)


def build_detector(detector: Detector) -> list[Primitive]:
    """The detector's primitives for this style, inner parts first."""
    if not detector.show:
        return []
    arc = kept_arc(detector.cutaway)
    parts: list[Primitive] = []
    for key, build, dims, cut in _PARTS:
        part: PartStyle = getattr(detector, key)
        if part.show:
            parts.extend(build(key, dims, part_appearance(part), arc if cut else FULL))
    return parts
