"""The eta-phi lego of one event, drawn with matplotlib as 2D polygons: an oblique projection
of the (eta, phi) plane with bars of height proportional to pT (E_T for calorimeter hits),
drawn back to front (painter's order), so that vector formats get true paths."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection

from ispyrender.config.style import Style, parse_color
from ispyrender.figures.projections import Paint

__all__ = ["LegoBar", "draw_lego", "lego_bars"]
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.scene.primitives import (
    RGB,
)

# ---- the lego ---------------------------------------------------------------------------------

#: Oblique projection of the lego: the phi axis goes back and to the right by this much of the
#: unit square, and the tallest bar is BAR_HEIGHT high.
DEPTH = (0.38, 0.42)
BAR_HEIGHT = 0.55
BAR_SIZE = 0.3  # in eta and in phi (radians)


@dataclass(frozen=True)
class LegoBar:
    kind: str  # style key: "jets", "muons", ...
    eta: float
    phi: float
    pt: float  # transverse momentum, or transverse energy for calorimeter hits
    color: RGB
    size: float = BAR_SIZE  # in eta and in phi


def lego_bars(event: PhysicsEvent, style: Style) -> list[LegoBar]:
    """A bar per drawn jet, muon, electron, tau and photon, coloured as in the other views."""
    cols = style.collections
    bars: list[LegoBar] = []
    sources: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
    for tracks in event.tracks:
        if tracks.collection in ("muons", "electrons"):
            sources.append((tracks.collection, tracks.pt, tracks.eta, tracks.phi))
    for jets in event.jets:
        if jets.collection in ("jets", "taus"):
            sources.append((jets.collection, jets.pt, jets.eta, jets.phi))
    if event.photons is not None:
        p = event.photons
        sources.append(("photons", p.pt, p.eta, p.phi))
    for kind, pt, eta, phi in sources:
        color = parse_color(getattr(cols, kind).color)
        for a, b, c in zip(pt, eta, phi, strict=True):
            bars.append(LegoBar(kind, float(b), float(_wrap(c)), float(a), color))
    # Calorimeter rec hits (iSpy files): their transverse energy, in towers of the HCAL's
    # granularity (0.087 x 0.087), too thin to hide the objects' bars.
    for hits in event.hits:
        color = parse_color(getattr(cols, hits.collection).color)
        et = hits.energy / np.cosh(hits.eta)
        for a, b, c in zip(et, hits.eta, hits.phi, strict=True):
            if np.isfinite(a) and np.isfinite(b):
                bars.append(
                    LegoBar(hits.collection, float(b), float(_wrap(c)), float(a), color, 0.087)
                )
    return bars


def _wrap(phi: float) -> float:
    return (phi + math.pi) % (2.0 * math.pi) - math.pi


def _shade(color: RGB, factor: float) -> RGB:
    if factor >= 1.0:
        return tuple(c + (1.0 - c) * (factor - 1.0) for c in color)  # type: ignore[return-value]
    return tuple(c * factor for c in color)  # type: ignore[return-value]


def _nice_step(top: float) -> float:
    raw = top / 4.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def draw_lego(ax: Axes, event: PhysicsEvent, style: Style, paint: Paint, font_size: float) -> None:
    """The eta-phi lego: an oblique floor with a grid, pT bars, MET marked at its phi."""
    bars = lego_bars(event, style)
    eta_max = 3.0 if all(abs(b.eta) <= 2.9 for b in bars) else 5.0
    top = max([b.pt for b in bars] + [1.0])
    step = _nice_step(top)
    pt_scale = max(top, step) / BAR_HEIGHT * 1.0
    text = style.labels.color
    line = paint(text, 0.35)

    def project(
        eta: float | np.ndarray, phi: float | np.ndarray, h: float | np.ndarray = 0.0
    ) -> np.ndarray:
        d = (np.asarray(phi) + math.pi) / (2.0 * math.pi)
        x = (np.asarray(eta) + eta_max) / (2.0 * eta_max) + DEPTH[0] * d
        y = DEPTH[1] * d + np.asarray(h) / pt_scale
        return np.stack([x, y], axis=-1)

    corners = project(
        np.array([-eta_max, eta_max, eta_max, -eta_max]),
        np.array([-math.pi, -math.pi, math.pi, math.pi]),
    )
    ax.add_collection(
        PolyCollection(
            [corners],
            facecolors=[paint(text, 0.04)],
            edgecolors=[paint(text, 0.7)],
            linewidths=0.8,
            zorder=1,
        )
    )
    grid = []
    for eta in np.arange(-eta_max, eta_max + 1e-9, 1.0):
        grid.append(project(np.array([eta, eta]), np.array([-math.pi, math.pi])))
    for phi in np.arange(-math.pi, math.pi + 1e-9, math.pi / 2):
        grid.append(project(np.array([-eta_max, eta_max]), np.array([phi, phi])))
    ax.add_collection(LineCollection(grid, colors=[line], linewidths=0.5, zorder=1))
    # Axis labels: eta along the front edge, phi along the right edge, pT up the back corner.
    for eta in np.arange(-eta_max, eta_max + 1e-9, 1.0):
        x, y = project(eta, -math.pi)
        ax.text(
            x,
            y - 0.025,
            f"{eta:g}".replace("-", "\u2212"),
            ha="center",
            va="top",
            color=text,
            fontsize=font_size * 0.8,
        )
    x, y = project(0.0, -math.pi)
    ax.text(x, y - 0.09, r"$\eta$", ha="center", va="top", color=text, fontsize=font_size)
    phi_names = [r"$-\pi$", r"$-\pi/2$", "0", r"$\pi/2$", r"$\pi$"]
    for phi, name in zip(np.arange(-math.pi, math.pi + 1e-9, math.pi / 2), phi_names, strict=True):
        x, y = project(eta_max, phi)
        ax.text(x + 0.02, y, name, ha="left", va="center", color=text, fontsize=font_size * 0.8)
    x, y = project(eta_max, 0.0)
    ax.text(x + 0.12, y - 0.04, r"$\phi$", ha="left", va="center", color=text, fontsize=font_size)
    base = project(-eta_max, math.pi)
    ticks = np.arange(0.0, top + 1e-9, step)
    axis_top = project(-eta_max, math.pi, ticks[-1])
    ax.plot(
        [base[0], axis_top[0]], [base[1], axis_top[1]], color=paint(text, 0.7), lw=0.8, zorder=1
    )
    for t in ticks:
        x, y = project(-eta_max, math.pi, t)
        ax.plot([x - 0.012, x], [y, y], color=paint(text, 0.7), lw=0.8, zorder=1)
        ax.text(
            x - 0.018, y, f"{t:g}", ha="right", va="center", color=text, fontsize=font_size * 0.8
        )
    ax.text(
        axis_top[0] - 0.018,
        axis_top[1] + 0.045,
        r"$p_\mathrm{T}$, $E_\mathrm{T}$ [GeV]" if event.hits else r"$p_\mathrm{T}$ [GeV]",
        ha="right",
        va="bottom",
        color=text,
        fontsize=font_size * 0.9,
    )

    if event.met is not None:
        phi = _wrap(event.met.phi)
        ends = project(np.array([-eta_max, eta_max]), np.array([phi, phi]))
        met_color = style.collections.met.color
        ax.plot(ends[:, 0], ends[:, 1], color=paint(met_color), lw=1.6, ls=(0, (4, 2)), zorder=2)
        # Labelled at the left end: the right end meets the phi axis labels.
        ax.text(
            ends[0, 0] - 0.02,
            ends[0, 1],
            rf"$p_\mathrm{{T}}^\mathrm{{miss}}$ {event.met.pt:.0f} GeV",
            color=paint(met_color),
            fontsize=font_size * 0.8,
            ha="right",
            va="center",
        )

    # Painter's order: farthest (largest phi) first, then left to right, so each bar's front
    # and right faces cover what lies behind them.
    for bar in sorted(bars, key=lambda b: (-b.phi, b.eta)):
        half = bar.size / 2
        e0, e1 = bar.eta - half, bar.eta + half
        p0, p1 = bar.phi - half, bar.phi + half
        front = np.vstack(
            [project(e0, p0), project(e1, p0), project(e1, p0, bar.pt), project(e0, p0, bar.pt)]
        )
        side = np.vstack(
            [project(e1, p0), project(e1, p1), project(e1, p1, bar.pt), project(e1, p0, bar.pt)]
        )
        lid = np.vstack(
            [
                project(e0, p0, bar.pt),
                project(e1, p0, bar.pt),
                project(e1, p1, bar.pt),
                project(e0, p1, bar.pt),
            ]
        )
        faces = [side, lid, front]
        colors = [paint(_shade(bar.color, 0.7)), paint(_shade(bar.color, 1.25)), paint(bar.color)]
        ax.add_collection(
            PolyCollection(
                faces, facecolors=colors, edgecolors=[paint(text, 0.8)], linewidths=0.4, zorder=3
            )
        )
    ax.set_xlim(-0.12, 1.0 + DEPTH[0] + 0.14)
    ax.set_ylim(-0.16, DEPTH[1] + BAR_HEIGHT + 0.1)
    ax.set_axis_off()
