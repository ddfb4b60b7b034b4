"""Projected views of one event drawn with matplotlib: transverse (rho-phi) and longitudinal
(rho-z), each with its own cross-section of the detector (the lego is :mod:`.lego`).

Everything is drawn as matplotlib paths and polygons in metres (the lego in its own unit
square), so the SVG, PDF and EPS backends write true vector graphics. The event content comes
from the same scene primitives the 3D renderer draws (:mod:`ispyrender.scene.event`): tracks
are the same helix points projected, jets the same cones, photons the same towers, so the views
agree with each other and with the 3D panel.

Conventions, as CMS draws them:

* rho-phi is seen from the +z axis looking back at the interaction point, so x (towards the
  centre of the LHC) is to the right, y is up, z comes out of the page and phi grows
  counter-clockwise from +x: the CMS frame as CMS draws it.
* rho-z has z to the right and rho up; every point is drawn at (z, +rho) when its y >= 0 and at
  (z, -rho) when y < 0, so the upper half is the y > 0 half of the detector. A curve that
  crosses y = 0 is broken there rather than joined across the beam line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Annulus

from ispyrender.config.style import Detector, Panel, Style, parse_color
from ispyrender.physics import cms_dimensions as cms
from ispyrender.scene import primitives as shapes

__all__ = [
    "DEFAULT_TITLES",
    "Paint",
    "draw_projection",
    "rho_z_path",
    "rho_z_points",
]

DEFAULT_TITLES = {
    "3d": "3D",
    "rho_phi": r"Transverse ($\rho$-$\phi$)",
    "rho_z": r"Longitudinal ($\rho$-$z$)",
    "lego": r"$\eta$-$\phi$ lego",
}

#: Points of line width per pixel of the 3D style's line widths: the figure is laid out at
#: 100 pixels per inch before --scale, and a point is 1/72 inch.
PT_PER_PX = 0.72
#: The 3D opacities (a few percent) are chosen for many overlapping surfaces; a cross-section
#: shows each part once, so it is filled more strongly, and outlined.
DETECTOR_FILL = 0.35
DETECTOR_EDGE = 0.8
#: Half-widths of the whole-detector views, metres: the muon system's reach plus a margin.
RHO_PHI_EXTENT = cms.WHOLE_DETECTOR.radius + 0.3
RHO_Z_EXTENT = cms.WHOLE_DETECTOR.half_length + 0.4


@dataclass(frozen=True)
class Paint:
    """Colours with transparency, or (for EPS, which has no transparency) the same colours
    already blended onto the background so that they can be drawn opaque."""

    flatten_onto: shapes.RGB | None = None
    #: Points per point of PT_PER_PX line width: less on a paper page (figure.size).
    line: float = 1.0

    def __call__(
        self, color: shapes.RGB | str, alpha: float = 1.0
    ) -> tuple[float, float, float, float]:
        rgb = parse_color(color) if isinstance(color, str) else color
        if self.flatten_onto is None:
            return (rgb[0], rgb[1], rgb[2], float(alpha))
        bg = self.flatten_onto
        mixed = [alpha * c + (1.0 - alpha) * b for c, b in zip(rgb, bg, strict=True)]
        return (mixed[0], mixed[1], mixed[2], 1.0)


# ---- geometry helpers -----------------------------------------------------------------------


def _rect(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _wedge(apex: np.ndarray, angle: float, half: float, radius: float, n: int = 24) -> np.ndarray:
    """A circular sector with its tip at ``apex``, opening along ``angle`` by +-``half``."""
    t = np.linspace(angle - half, angle + half, n)
    arc = apex + radius * np.stack([np.cos(t), np.sin(t)], axis=1)
    return np.vstack([apex[None, :], arc])


def _bar(base: np.ndarray, direction: np.ndarray, length: float, width: float) -> np.ndarray:
    """A rectangle standing on ``base`` along the unit 2D ``direction``."""
    perp = np.array([-direction[1], direction[0]]) * width / 2.0
    tip = base + direction * length
    return np.array([base - perp, base + perp, tip + perp, tip - perp])


@dataclass(frozen=True)
class PartLook:
    """A detector part's fill and outline in the projections: a part with an outline in the
    style (line-art) is filled opaque in its light colour and outlined; otherwise its colour
    is used translucent for both, as the 3D picture does."""

    color: str
    edge: str | None

    def fill(self, paint: Paint) -> tuple[float, float, float, float]:
        return paint(self.color, 1.0 if self.edge else DETECTOR_FILL)

    def outline(self, paint: Paint) -> tuple[float, float, float, float]:
        return paint(self.edge, 1.0) if self.edge else paint(self.color, DETECTOR_EDGE)


def _fill(ax: Axes, polygons: Sequence[np.ndarray], part: PartLook, paint: Paint, z: float) -> None:
    if not polygons:
        return
    ax.add_collection(
        PolyCollection(
            list(polygons),
            facecolors=[part.fill(paint)],
            edgecolors=[part.outline(paint)],
            linewidths=0.6 if part.edge else 0.4,
            zorder=z,
        )
    )


def _parts(detector: Detector) -> dict[str, PartLook]:
    """Style key -> look of the parts shown (none when the detector is hidden)."""
    if not detector.show:
        return {}
    looks = {}
    for k in Detector.parts():
        part = getattr(detector, k)
        if part.show:
            looks[k] = PartLook(part.color, part.edge_color)
    return looks


# ---- the detector in each projection --------------------------------------------------------


def muon_chambers_rho_phi() -> list[np.ndarray]:
    """The DT chambers as seen along the beam: one rectangle per station and sector (the
    chambers of the five wheels line up behind each other)."""
    return [c.outline_xy() for c in cms.dt_chambers() if c.wheel == 0]


def detector_rho_phi(ax: Axes, detector: Detector, paint: Paint) -> None:
    parts = _parts(detector)
    rings = [
        ("tracker", cms.TRACKER.rmin, cms.TRACKER.rmax),
        ("ecal_barrel", cms.ECAL_BARREL.rmin, cms.ECAL_BARREL.rmax),
        ("hcal_barrel", cms.HCAL_BARREL.rmin, cms.HCAL_BARREL.rmax),
        ("solenoid", cms.SOLENOID.rmin, cms.SOLENOID.rmax),
        ("beam_pipe", cms.BEAM_PIPE.rmin, cms.BEAM_PIPE.rmax),
    ]
    for key, rmin, rmax in rings:
        if key in parts:
            # An Annulus is two circles in one path, so its outline has no seam.
            ax.add_patch(
                Annulus(
                    (0.0, 0.0),
                    rmax,
                    rmax - rmin,
                    facecolor=parts[key].fill(paint),
                    edgecolor=parts[key].outline(paint),
                    linewidth=0.6 if parts[key].edge else 0.4,
                    zorder=1,
                )
            )
    if "muon_barrel" in parts:
        _fill(ax, muon_chambers_rho_phi(), parts["muon_barrel"], paint, 1)


def muon_chambers_rho_z() -> list[np.ndarray]:
    """The DT chambers in rho-z: per wheel and station, from the nearest chamber face to the
    farthest (measured along each sector's direction), above and below the beam."""
    polys = []
    for wheel, (z_lo, z_hi) in cms.DT_WHEELS.items():
        for station in (1, 2, 3, 4):
            at = [c for c in cms.dt_chambers() if c.wheel == wheel and c.station == station]
            r_in, r_out = min(c.r_in for c in at), max(c.r_out for c in at)
            polys += [_rect(z_lo, z_hi, sign * r_in, sign * r_out) for sign in (1.0, -1.0)]
    return polys


def csc_rings_rho_z() -> list[np.ndarray]:
    """The CSC rings in rho-z: each ring's radial span across the |z| of its odd and even
    chambers, at both ends, above and below the beam."""
    polys = []
    for ring in cms.CSC_RINGS:
        z_lo, z_hi = ring.z_extent
        polys += _mirrored(z_lo, z_hi, ring.r_lo, ring.r_hi)
    return polys


def section_rho_z(section: cms.Section) -> list[np.ndarray]:
    """A part with a shaped cross-section in rho-z, its quads at both ends, above and below."""
    return [
        np.array([(zs * z, rs * r) for r, z in quad])
        for quad in section.quads()
        for zs in (1, -1)
        for rs in (1, -1)
    ]


def _mirrored(zmin: float, zmax: float, rmin: float, rmax: float) -> list[np.ndarray]:
    """A block at +z and -z, above and below the beam line."""
    return [_rect(zs * zmin, zs * zmax, rs * rmin, rs * rmax) for zs in (1, -1) for rs in (1, -1)]


def detector_rho_z(ax: Axes, detector: Detector, paint: Paint) -> None:
    parts = _parts(detector)
    barrels = [
        ("tracker", cms.TRACKER),
        ("ecal_barrel", cms.ECAL_BARREL),
        ("solenoid", cms.SOLENOID),
        ("beam_pipe", cms.BEAM_PIPE),
    ]
    for key, b in barrels:
        if key in parts:
            polys = [_rect(-b.half_length, b.half_length, s * b.rmin, s * b.rmax) for s in (1, -1)]
            _fill(ax, polys, parts[key], paint, 1)
    if "ecal_endcap" in parts:
        d = cms.ECAL_ENDCAP
        _fill(ax, _mirrored(d.zmin, d.zmax, d.rmin, d.rmax), parts["ecal_endcap"], paint, 1)
    for key, section in (("hcal_barrel", cms.HCAL_BARREL), ("hcal_endcap", cms.HCAL_ENDCAP)):
        if key in parts:
            _fill(ax, section_rho_z(section), parts[key], paint, 1)
    if "muon_endcap" in parts:
        _fill(ax, csc_rings_rho_z(), parts["muon_endcap"], paint, 1)
    if "muon_barrel" in parts:
        _fill(ax, muon_chambers_rho_z(), parts["muon_barrel"], paint, 1)


# ---- the event in each projection -----------------------------------------------------------


def rho_z_points(points: np.ndarray) -> np.ndarray:
    """(N, 3) separate points -> (N, 2) points (z, +-rho), each with the sign of its own y."""
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    sign = np.where(points[:, 1] >= 0.0, 1.0, -1.0)
    return np.stack([points[:, 2], sign * np.hypot(points[:, 0], points[:, 1])], axis=1)


def rho_z_path(points: np.ndarray) -> np.ndarray:
    """(N, 3) points of one trajectory -> (N, 2) points (z, +-rho), all on one side of the beam
    line: the side its direction at the vertex points to (its first step that moves in y), as
    Fireworks draws it. A track bending across y = 0 stays whole on its side instead of being
    split into a stub and a detached piece."""
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    steps = np.diff(points[:, 1])
    moving = np.flatnonzero(np.abs(steps) > 1e-9)
    if moving.size:
        side = 1.0 if steps[moving[0]] > 0.0 else -1.0
    else:
        side = 1.0 if points.size == 0 or points[-1, 1] >= 0.0 else -1.0
    return np.stack([points[:, 2], side * np.hypot(points[:, 0], points[:, 1])], axis=1)


def _lines(
    ax: Axes, paths: list[np.ndarray], prim: shapes.Polylines, paint: Paint, z: float
) -> None:
    ax.add_collection(
        LineCollection(
            paths,
            colors=[paint(prim.look.color, prim.look.opacity)],
            linewidths=prim.look.line_width * PT_PER_PX * paint.line,
            capstyle="round",
            joinstyle="round",
            zorder=z,
        )
    )


def _solid(
    ax: Axes, polys: list[np.ndarray], color: shapes.RGB, alpha: float, paint: Paint, z: float
) -> None:
    if polys:
        edge = paint(color, min(1.0, alpha + 0.4))
        ax.add_collection(
            PolyCollection(
                polys, facecolors=[paint(color, alpha)], edgecolors=[edge], linewidths=0.6, zorder=z
            )
        )


def convex_hull(points: np.ndarray) -> np.ndarray:
    """The convex hull (K, 2) of a few 2D points, counter-clockwise (Andrew's monotone chain):
    the outline of a projected calorimeter cell or muon chamber."""
    pts = sorted({(float(x), float(y)) for x, y in points})
    if len(pts) <= 2:
        return np.array(pts, dtype=float).reshape(-1, 2)

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        chain: list[tuple[float, float]] = []
        for p in seq:
            while len(chain) >= 2:
                (ax_, ay), (bx, by) = chain[-2], chain[-1]
                if (bx - ax_) * (p[1] - ay) - (by - ay) * (p[0] - ax_) > 0:
                    break
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1], dtype=float)


def _cells(ax: Axes, prim: shapes.Hexahedra, corners_2d: np.ndarray, paint: Paint) -> None:
    """Projected cells (rec hits, chambers) as filled outlines, under the tracks."""
    polys = [convex_hull(c) for c in corners_2d]
    _solid(ax, [p for p in polys if len(p) >= 3], prim.look.color, prim.look.opacity, paint, 2)


def _cone_theta(axis: np.ndarray) -> np.ndarray:
    return np.arctan2(np.hypot(axis[:, 0], axis[:, 1]), axis[:, 2])


def draw_event_rho_phi(ax: Axes, scene: shapes.Scene, paint: Paint) -> None:
    for prim in scene.primitives:
        look = prim.look
        if isinstance(prim, shapes.Cones):
            polys = []
            sin_t = np.sin(_cone_theta(prim.axis))
            for apex, axis, length, half, st in zip(
                prim.apex, prim.axis, prim.length, prim.half_angle, sin_t, strict=True
            ):
                # The cone's azimuthal half-width is R (its 3D half-angle is R sin theta),
                # and its axis projects to length * sin theta.
                dphi = min(half / max(st, 1e-6), np.pi / 3)
                polys.append(_wedge(apex[:2], math.atan2(axis[1], axis[0]), dphi, length * st))
            _solid(ax, polys, look.color, look.opacity, paint, 3)
        elif isinstance(prim, shapes.Towers):
            polys = []
            for base, axis, length, width in zip(
                prim.base, prim.axis, prim.length, prim.width, strict=True
            ):
                r = float(np.hypot(axis[0], axis[1]))
                if r > 1e-9:
                    polys.append(_bar(base[:2], axis[:2] / r, length * r, width))
            _solid(ax, polys, look.color, 0.85, paint, 4)
        elif isinstance(prim, shapes.Polylines):
            _lines(ax, [p[:, :2] for p in prim.paths], prim, paint, 5)
        elif isinstance(prim, shapes.Arrows):
            for start, vec in zip(prim.start, prim.vector, strict=True):
                _arrow(ax, start[:2], vec[:2], look.color, look.line_width, paint)
        elif isinstance(prim, shapes.Hexahedra):
            # Along the beam the endcaps' hits and chambers would lie across the barrel.
            corners = prim.corners if prim.barrel is None else prim.corners[prim.barrel]
            _cells(ax, prim, corners[:, :, :2], paint)
        elif isinstance(prim, shapes.Spheres):
            ax.scatter(
                prim.centers[:, 0],
                prim.centers[:, 1],
                s=9,
                color=[paint(look.color)],
                linewidths=0,
                zorder=7,
            )


def draw_event_rho_z(ax: Axes, scene: shapes.Scene, paint: Paint) -> None:
    for prim in scene.primitives:
        look = prim.look
        if isinstance(prim, shapes.Cones):
            polys = []
            theta = _cone_theta(prim.axis)
            for apex, axis, length, half, th in zip(
                prim.apex, prim.axis, prim.length, prim.half_angle, theta, strict=True
            ):
                side = 1.0 if axis[1] >= 0.0 else -1.0
                tip = rho_z_points(apex[None, :])[0]
                # In the (z, rho) plane the axis is at polar angle theta, mirrored below the
                # beam for y < 0; the cone opens by its 3D half-angle there.
                angle = th if side > 0 else -th
                polys.append(_wedge(tip, angle, float(half), float(length)))
            _solid(ax, polys, look.color, look.opacity, paint, 3)
        elif isinstance(prim, shapes.Towers):
            polys = []
            for base, axis, length, width in zip(
                prim.base, prim.axis, prim.length, prim.width, strict=True
            ):
                side = 1.0 if axis[1] >= 0.0 else -1.0
                b = rho_z_points(base[None, :])[0]
                d = np.array([axis[2], side * math.hypot(axis[0], axis[1])])
                polys.append(_bar(b, d / np.linalg.norm(d), float(length), float(width)))
            _solid(ax, polys, look.color, 0.85, paint, 4)
        elif isinstance(prim, shapes.Polylines):
            _lines(ax, [rho_z_path(p) for p in prim.paths], prim, paint, 5)
        elif isinstance(prim, shapes.Hexahedra):
            corners = prim.corners
            # A whole cell goes to the side of the beam line where its centre is.
            above = np.where(corners[:, :, 1].mean(axis=1) >= 0.0, 1.0, -1.0)[:, None]
            rho = np.hypot(corners[:, :, 0], corners[:, :, 1]) * above
            _cells(ax, prim, np.stack([corners[:, :, 2], rho], axis=2), paint)
        elif isinstance(prim, shapes.Spheres):
            pts = rho_z_points(prim.centers)
            ax.scatter(pts[:, 0], pts[:, 1], s=9, color=[paint(look.color)], linewidths=0, zorder=7)
        # MET lies in the transverse plane: it has no rho-z picture.


def _arrow(
    ax: Axes,
    start: np.ndarray,
    vec: np.ndarray,
    color: shapes.RGB,
    line_width: float,
    paint: Paint,
    head: float = 0.35,
) -> None:
    length = float(np.hypot(*vec))
    if length <= 0:
        return
    head = min(head, 0.5 * length)
    ax.arrow(
        float(start[0]),
        float(start[1]),
        float(vec[0]),
        float(vec[1]),
        width=0.012 * line_width,
        head_width=0.6 * head,
        head_length=head,
        length_includes_head=True,
        color=paint(color),
        linewidth=0,
        zorder=6,
    )


# ---- axes decoration ------------------------------------------------------------------------


def projected_points(scene: shapes.Scene, transverse: bool) -> np.ndarray:
    """(N, 2) points of the event as the view draws it (paths, cones, towers, markers, cells;
    MET only in rho-phi, barrel cells only there): where the panel's scale must not go."""
    paths, points = shapes.drawn_points(scene, arrows=transverse, barrel_only=transverse)
    lines = [p[:, :2] if transverse else rho_z_path(p) for p in paths]
    # Lines are sampled every 10 cm or closer, so that a straight track counts along its
    # length, not only at its ends.
    sampled = [_sampled(line) for line in lines if len(line)]
    dots = points[:, :2] if transverse else rho_z_points(points)
    return np.vstack([*sampled, dots])


def _sampled(line: np.ndarray, step: float = 0.1) -> np.ndarray:
    """(N, 2) polyline -> points along it no more than ``step`` apart."""
    if len(line) < 2:
        return line
    lengths = np.linalg.norm(np.diff(line, axis=0), axis=1)
    pieces = [
        a + np.linspace(0.0, 1.0, max(int(np.ceil(d / step)), 1), endpoint=False)[:, None] * (b - a)
        for a, b, d in zip(line[:-1], line[1:], lengths, strict=True)
        if np.isfinite(d)
    ]
    return np.vstack([*pieces, line[-1:]])


def scale_corner(xlim: float, ylim: float, occupied: np.ndarray) -> tuple[float, float]:
    """Where the 1 m axis cross starts: the first corner of lower left, lower right, upper
    left, upper right where it covers none of the event's points (lower left when none is)."""
    width, height = 1.6, 1.35  # the cross, its names and "1 m"
    left, right = -xlim * 0.94, xlim * 0.94 - width
    bottom, top = -ylim * 0.94, ylim * 0.94 - height
    for x0, y0 in ((left, bottom), (right, bottom), (left, top), (right, top)):
        inside = (
            (occupied[:, 0] >= x0 - 0.15)
            & (occupied[:, 0] <= x0 + width)
            & (occupied[:, 1] >= y0 - 0.3)
            & (occupied[:, 1] <= y0 + height)
        )
        if not inside.any():
            return x0, y0
    return left, bottom


def _frame(
    ax: Axes,
    xlim: float,
    ylim: float,
    names: tuple[str, str],
    text_color: str,
    font_size: float,
    origin: tuple[float, float] | None = None,
) -> None:
    """Equal aspect, no box, and a 1 m axis cross naming the axes, at ``origin`` (the lower
    left by default): it is both the scale and the orientation (x right / y up, or z right /
    rho up)."""
    ax.set_xlim(-xlim, xlim)
    ax.set_ylim(-ylim, ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    # The detector and the event (drawn before the frame) end at the panel's edge, whatever
    # their kind (paths, patches, markers): a forward muon must not run on into the next panel
    # or the object table. The clip follows the axes' box once the aspect has shrunk it.
    for artist in (*ax.collections, *ax.patches, *ax.lines, *ax.images):
        artist.set_clip_on(True)
        artist.set_clip_path(ax.patch)
    x0, y0 = origin if origin is not None else (-xlim * 0.94, -ylim * 0.94)
    kw: dict[str, Any] = {"color": text_color, "fontsize": font_size, "zorder": 9}
    # Arrow heads in points, at most 0.6 m long: on a small panel (a paper page) matplotlib's
    # 10 pt heads would be longer than the 1 m arrows they end.
    figure = ax.get_figure(root=True)
    inches = figure.get_size_inches()[0] if isinstance(figure, Figure) else 0.0
    width_pt = ax.get_position().width * inches * 72.0
    head = min(10.0, 0.6 * width_pt / (2 * xlim)) if width_pt > 0 else 10.0
    for dx, dy, name in ((1.0, 0.0, names[0]), (0.0, 1.0, names[1])):
        ax.annotate(
            "",
            xy=(x0 + dx, y0 + dy),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": text_color,
                "lw": 0.8,
                "shrinkA": 0,
                "shrinkB": 0,
                "mutation_scale": head,
            },
            zorder=9,
        )
        ax.text(
            x0 + dx * 1.1,
            y0 + dy * 1.1,
            name,
            ha="left" if dx else "center",
            va="center" if dx else "bottom",
            **kw,
        )
    ax.text(
        x0 + 0.5, y0 - 0.12, "1 m", ha="center", va="top", **{**kw, "fontsize": font_size * 0.8}
    )


def draw_projection(
    ax: Axes, scene: shapes.Scene, style: Style, panel: Panel, paint: Paint, font_size: float
) -> None:
    """One projected view, ``panel.view``: "rho_phi" looks along the beam, x to the right and
    y up; "rho_z" has z to the right, rho up for y >= 0 and down for y < 0."""
    transverse = panel.view == "rho_phi"
    detector = detector_rho_phi if transverse else detector_rho_z
    event = draw_event_rho_phi if transverse else draw_event_rho_z
    detector(ax, style.detector, paint)
    event(ax, scene, paint)
    if transverse:
        extent = panel.extent or RHO_PHI_EXTENT
        height, axes = extent, ("x", "y")
    else:
        extent = panel.extent or RHO_Z_EXTENT
        height, axes = extent * RHO_PHI_EXTENT / RHO_Z_EXTENT, ("z", r"$\rho$")
    # The scale goes in a corner the event leaves free.
    corner = scale_corner(extent, height, projected_points(scene, transverse))
    _frame(ax, extent, height, axes, style.labels.color, font_size, corner)
