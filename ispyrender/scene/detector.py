"""The simplified CMS detector as scene primitives, from :mod:`ispyrender.physics.cms_dimensions`.

Every primitive's group is the style key of its part (``"ecal_barrel"``, ``"muon_endcap"``, ...)
and its look comes from that part's :class:`~ispyrender.config.style.PartStyle`. Parts whose style
says ``show: false`` are left out, and nothing is drawn when ``detector.show`` is false.

Parts: beam pipe, tracker envelope, ECAL barrel and endcaps, HCAL barrel and endcaps, the
solenoid cryostat (tubes); the barrel muon chambers as boxes (5 wheels x 12 sectors x
4 stations, with gaps between wheels and sectors as in the real detector), and the endcap muon
stations as thin disks on both sides. The return yoke, HCAL outer and forward calorimeters are
in the dimensions module but not drawn: the style has no part for them.
"""

from __future__ import annotations

import numpy as np

from ispyrender.config.style import Detector, PartStyle, parse_color
from ispyrender.physics.cms_dimensions import (
    BEAM_PIPE,
    ECAL_BARREL,
    ECAL_ENDCAP,
    HCAL_BARREL,
    HCAL_ENDCAP,
    MUON_BARREL,
    MUON_ENDCAP_DISKS,
    SOLENOID,
    TRACKER,
    Barrel,
    Endcap,
    MuonBarrel,
)
from ispyrender.scene.primitives import Appearance, Boxes, Primitive, Tube

__all__ = ["build_detector", "muon_barrel_boxes", "part_appearance"]


def part_appearance(part: PartStyle) -> Appearance:
    return Appearance(
        color=parse_color(part.color),
        opacity=part.opacity,
        line_width=1.0,
        wireframe=part.representation == "wireframe",
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


def _endcaps(group: str, dims: Endcap, look: Appearance, arc: Arc = FULL) -> list[Tube]:
    """The +z and -z disks of an endcap part."""
    return [
        Tube(group, dims.rmin, dims.rmax, dims.zmin, dims.zmax, look, *arc),
        Tube(group, dims.rmin, dims.rmax, -dims.zmax, -dims.zmin, look, *arc),
    ]


def _in_arc(phi: np.ndarray, arc: Arc) -> np.ndarray:
    return (phi - arc[0]) % (2.0 * np.pi) <= (arc[1] - arc[0]) + 1e-9


def muon_barrel_boxes(dims: MuonBarrel, look: Appearance, group: str = "muon_barrel") -> Boxes:
    """One box per chamber: stations x sectors x wheels, sector 1 centred on phi = 0."""
    pitch = dims.wheel_pitch
    wheel_z = -dims.half_length + pitch * (np.arange(dims.wheels) + 0.5)
    sector_phi = 2.0 * np.pi * np.arange(dims.sectors) / dims.sectors
    radii = np.asarray(dims.station_radii, dtype=float)
    # All combinations, station-major: (station, sector, wheel).
    r, phi, z = (a.reshape(-1) for a in np.meshgrid(radii, sector_phi, wheel_z, indexing="ij"))
    centers = np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)
    widths = np.array([dims.chamber_width(float(ri)) for ri in r])
    sizes = np.stack(
        [np.full(r.size, dims.chamber_thickness), widths, np.full(r.size, pitch - dims.wheel_gap)],
        axis=1,
    )
    return Boxes(group, centers, sizes, phi, look)


def _cut_boxes(boxes: Boxes, arc: Arc) -> Boxes:
    keep = _in_arc(boxes.phi, arc)
    return Boxes(boxes.group, boxes.centers[keep], boxes.sizes[keep], boxes.phi[keep], boxes.look)


def build_detector(detector: Detector) -> list[Primitive]:
    """The detector's primitives for this style, inner parts first."""
    if not detector.show:
        return []
    parts: list[Primitive] = []
    # The beam pipe and tracker envelope stay whole: they are thin and hide nothing.
    arc = kept_arc(detector.cutaway)

    def shown(key: str) -> Appearance | None:
        part: PartStyle = getattr(detector, key)
        return part_appearance(part) if part.show else None

    if look := shown("beam_pipe"):
        parts.append(_barrel("beam_pipe", BEAM_PIPE, look))
    if look := shown("tracker"):
        parts.append(_barrel("tracker", TRACKER, look))
    if look := shown("ecal_barrel"):
        parts.append(_barrel("ecal_barrel", ECAL_BARREL, look, arc))
    if look := shown("ecal_endcap"):
        parts.extend(_endcaps("ecal_endcap", ECAL_ENDCAP, look, arc))
    if look := shown("hcal_barrel"):
        parts.append(_barrel("hcal_barrel", HCAL_BARREL, look, arc))
    if look := shown("hcal_endcap"):
        parts.extend(_endcaps("hcal_endcap", HCAL_ENDCAP, look, arc))
    if look := shown("solenoid"):
        parts.append(_barrel("solenoid", SOLENOID, look, arc))
    if look := shown("muon_barrel"):
        parts.append(_cut_boxes(muon_barrel_boxes(MUON_BARREL, look), arc))
    if look := shown("muon_endcap"):
        for disk in MUON_ENDCAP_DISKS:
            parts.extend(_endcaps("muon_endcap", disk, look, arc))
    return parts
