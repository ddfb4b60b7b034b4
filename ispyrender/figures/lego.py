"""The eta-phi lego of one event, drawn with matplotlib as 2D polygons: an oblique projection
of the (eta, phi) plane with bars of height proportional to pT (E_T for calorimeter hits),
drawn back to front (painter's order), so that vector formats get true paths.

Where the event has calorimeter towers (PF candidates of PFNano files) or rec hits (iSpy
files, summed into towers of the HCAL's 0.087 x 0.087 cells), the lego is Fireworks': the
towers stand in their (eta, phi) cells, EM E_T at the bottom and hadronic E_T stacked on top, in
the styles' colours of ``em_towers`` and ``had_towers`` (or of the ECAL, HCAL and HF hits); jets
are their cones' circles on the floor, with their pT, and muons, electrons and photons markers
at their (eta, phi), so that the towers are not hidden behind bars for the objects made of
them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection

from ispyrender.config.collections import of_kind
from ispyrender.config.style import Style, parse_color
from ispyrender.figures.projections import Paint

__all__ = ["LegoBar", "TowerStack", "draw_lego", "lego_bars", "lego_collections", "lego_towers"]
from ispyrender.physics.objects import CaloTowers, PhysicsEvent
from ispyrender.scene.primitives import (
    RGB,
)

#: What the lego draws: bars of these collections (muons, electrons, photons, jets and taus;
#: calorimeter hits), or, where the event has towers, the towers, every jet collection's
#: circles and the leptons' and photons' markers; and MET at its phi. A figure of lego panels
#: alone lists only these in its legend.
LEGO_BARS = frozenset({"muons", "electrons", "photons", "jets", "taus"})
LEGO_TOWERS = frozenset({"muons", "electrons", "photons", "jets", "taus", "fatjets"})
LEGO_TOWERS |= {"em_towers", "had_towers"} | {c.key for c in of_kind("hits")}


def lego_collections(event: PhysicsEvent) -> frozenset[str]:
    """The style keys the lego of ``event`` draws."""
    return (LEGO_TOWERS if event.towers or event.hits else LEGO_BARS) | {"met"}


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
    return bars


@dataclass(frozen=True)
class TowerStack:
    """The towers of one (eta, phi) cell, stacked: (E_T, colour) from the bottom up."""

    eta: float
    phi: float
    eta_width: float
    phi_width: float
    layers: tuple[tuple[float, RGB], ...]

    @property
    def et(self) -> float:
        return sum(et for et, _ in self.layers)


#: The order in which tower collections are stacked, from the floor up (Fireworks' order).
TOWER_ORDER = ("em_towers", "ecal_hits", "had_towers", "hcal_hits", "hf_hits")

#: Rec hits are summed into towers of the HCAL's cells (Fireworks' lego): 0.087 in eta,
#: 5 degrees in phi.
HIT_TOWER_ETA = 0.087
HIT_TOWER_PHI = 2.0 * math.pi / 72


def hit_towers(event: PhysicsEvent) -> list[CaloTowers]:
    """The event's rec hits (iSpy files) summed into towers, one collection per hit
    collection: the E_T of each hit (E / cosh eta) added into its (eta, phi) cell."""
    towers = []
    for hits in event.hits:
        et = hits.energy / np.cosh(hits.eta)
        ok = np.isfinite(et) & np.isfinite(hits.eta) & np.isfinite(hits.phi) & (et > 0)
        i_eta = np.floor(hits.eta[ok] / HIT_TOWER_ETA).astype(int)
        i_phi = np.floor(np.mod(hits.phi[ok], 2.0 * math.pi) / HIT_TOWER_PHI).astype(int)
        cells, where = np.unique(np.stack([i_eta, i_phi], axis=1), axis=0, return_inverse=True)
        summed = np.bincount(where.ravel(), weights=et[ok], minlength=len(cells))
        towers.append(
            CaloTowers(
                hits.collection,
                hits.branch,
                (cells[:, 0] + 0.5) * HIT_TOWER_ETA,
                (cells[:, 1] + 0.5) * HIT_TOWER_PHI,
                summed,
                HIT_TOWER_ETA,
                HIT_TOWER_PHI,
                "ecal" if hits.collection == "ecal_hits" else "hcal",
            )
        )
    return towers


def lego_towers(event: PhysicsEvent, style: Style) -> list[TowerStack]:
    """One stack per occupied cell of the event's towers (or rec hits summed into towers):
    EM at the bottom, hadronic on top. Towers of different cell sizes (the styles' eta_bin and
    phi_bin differ) are not stacked."""
    cols = style.collections
    stacks: dict[tuple[int, int, float, float], list[tuple[int, float, RGB]]] = {}
    for towers in event.towers or hit_towers(event):
        if len(towers) == 0:
            continue
        color = parse_color(getattr(cols, towers.collection).color)
        level = TOWER_ORDER.index(towers.collection) if towers.collection in TOWER_ORDER else 9
        w_eta, w_phi = towers.eta_width, towers.phi_width
        # Cells are keyed by their index: centres computed in float32 or float64 still match.
        i_eta = np.floor(towers.eta / w_eta).astype(int)
        i_phi = np.floor(np.mod(towers.phi, 2.0 * math.pi) / w_phi).astype(int)
        for a, b, et in zip(i_eta, i_phi, towers.et, strict=True):
            if np.isfinite(et) and et > 0:
                key = (int(a), int(b), round(w_eta, 9), round(w_phi, 9))
                stacks.setdefault(key, []).append((level, float(et), color))
    result = []
    for (a, b, w_eta, w_phi), layers in stacks.items():
        layers.sort(key=lambda layer: layer[0])
        result.append(
            TowerStack(
                eta=(a + 0.5) * w_eta,
                phi=_wrap((b + 0.5) * w_phi),
                eta_width=w_eta,
                phi_width=w_phi,
                layers=tuple((et, color) for _, et, color in layers),
            )
        )
    return result


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
    """The eta-phi lego: an oblique floor with a grid, pT bars (or the event's calorimeter
    towers, with the objects on the floor), MET marked at its phi."""
    stacks = lego_towers(event, style)
    bars = [] if stacks else lego_bars(event, style)
    if stacks:
        # The towers' and the jet circles' centres must fit on the floor.
        reach = [abs(t.eta) + t.eta_width / 2 for t in stacks]
        reach += [abs(float(e)) for jets in event.jets for e in jets.eta]
        eta_max = 3.0 if all(r <= 3.0 for r in reach) else 5.0
    else:
        eta_max = 3.0 if all(abs(b.eta) <= 2.9 for b in bars) else 5.0
    top = max([b.pt for b in bars] + [t.et for t in stacks] + [1.0])
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
        _height_label(event, bool(stacks)),
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
            zorder=10,  # over every bar and tower: a label is never hidden
        )

    if stacks:
        floor = PolyCollection([corners], facecolors="none", edgecolors="none")
        ax.add_collection(floor)
        _draw_jet_circles(ax, event, style, paint, project, floor, font_size)
        _draw_towers(ax, stacks, paint, project)
        _draw_markers(ax, event, style, paint, project, font_size)

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
    # The lego keeps its proportions (towers square, the floor as drawn) in a panel of any
    # shape: a wide single panel would otherwise flatten it to a strip.
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()


Project = Callable[..., np.ndarray]


def _height_label(event: PhysicsEvent, towers: bool) -> str:
    if towers:
        return r"$E_\mathrm{T}$ [GeV]"
    return r"$p_\mathrm{T}$, $E_\mathrm{T}$ [GeV]" if event.hits else r"$p_\mathrm{T}$ [GeV]"


def _box(
    project: Project, e0: float, e1: float, p0: float, p1: float, h0: float, h1: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three faces of a box seen by the lego's viewer (at large eta, small phi, above):
    the side at e1, the lid, the front at p0."""
    side = np.vstack(
        [project(e1, p0, h0), project(e1, p1, h0), project(e1, p1, h1), project(e1, p0, h1)]
    )
    lid = np.vstack(
        [project(e0, p0, h1), project(e1, p0, h1), project(e1, p1, h1), project(e0, p1, h1)]
    )
    front = np.vstack(
        [project(e0, p0, h0), project(e1, p0, h0), project(e1, p0, h1), project(e0, p0, h1)]
    )
    return side, lid, front


def _draw_towers(ax: Axes, stacks: list[TowerStack], paint: Paint, project: Project) -> None:
    """All towers as one collection of faces in painter's order (farthest phi first, then
    increasing eta; within a cell from the floor up), so that the nearer cover the farther."""
    faces: list[np.ndarray] = []
    fills: list[tuple[float, float, float, float]] = []
    edges: list[tuple[float, float, float, float]] = []
    for stack in sorted(stacks, key=lambda t: (-t.phi, t.eta)):
        e0, e1 = stack.eta - stack.eta_width / 2, stack.eta + stack.eta_width / 2
        p0, p1 = stack.phi - stack.phi_width / 2, stack.phi + stack.phi_width / 2
        h0 = 0.0
        for et, color in stack.layers:
            h1 = h0 + et
            faces.extend(_box(project, e0, e1, p0, p1, h0, h1))
            fills.extend([paint(_shade(color, 0.7)), paint(_shade(color, 1.3)), paint(color)])
            # Edges a shade darker than the tower: hundreds of small towers with black edges
            # would read as black specks.
            edges.extend([paint(_shade(color, 0.45))] * 3)
            h0 = h1
    if faces:
        ax.add_collection(
            PolyCollection(faces, facecolors=fills, edgecolors=edges, linewidths=0.25, zorder=3)
        )


def _draw_jet_circles(
    ax: Axes,
    event: PhysicsEvent,
    style: Style,
    paint: Paint,
    project: Project,
    floor: PolyCollection,
    font_size: float,
) -> None:
    """Each jet's cone as its circle of radius R on the floor (Fireworks' jets in the lego),
    in its collection's colour, and its pT written at the front; a circle across phi = +-pi
    is drawn on both sides, clipped to the floor."""
    text = style.labels.color
    t = np.linspace(0.0, 2.0 * math.pi, 73)
    for jets in event.jets:
        jet_style = getattr(style.collections, jets.collection)
        color = parse_color(jet_style.color)
        outline = _shade(color, 0.75)  # a pale colour such as the jets' yellow, legible
        # Fat jets hold jets: dashed and unfilled, so the jets inside keep their colour.
        fat = jets.collection == "fatjets"
        for pt, eta, phi in zip(jets.pt, jets.eta, jets.phi, strict=True):
            phi = _wrap(float(phi))
            for shift in (-2.0 * math.pi, 0.0, 2.0 * math.pi):
                ring = project(eta + jets.radius * np.cos(t), phi + shift + jets.radius * np.sin(t))
                if shift and not np.any(np.abs(phi + shift + jets.radius * np.sin(t)) < math.pi):
                    continue
                (edge,) = ax.plot(
                    ring[:, 0],
                    ring[:, 1],
                    color=paint(outline),
                    lw=1.0 if fat else 1.2,
                    ls="--" if fat else "-",
                    zorder=2,
                )
                edge.set_clip_path(floor.get_paths()[0], floor.get_transform())
                if not fat:
                    (fill,) = ax.fill(ring[:, 0], ring[:, 1], color=paint(color, 0.2), zorder=2)
                    fill.set_clip_path(floor.get_paths()[0], floor.get_transform())
            if jets.collection == "jets":
                # Written in front of the circle, over the towers, on a veil of the floor's
                # colour so that it reads across them.
                x, y = project(float(eta), max(phi - jets.radius, -math.pi))
                ax.text(
                    x,
                    y - 0.004,
                    f"{pt:.0f} GeV",
                    ha="center",
                    va="top",
                    color=paint(text, 0.85),
                    fontsize=font_size * 0.6,
                    zorder=4,
                    bbox={
                        "boxstyle": "round,pad=0.1",
                        "facecolor": paint(style.canvas.background, 0.7),
                        "edgecolor": "none",
                    },
                )


#: Marker per collection drawn on the lego's floor where it has towers.
_MARKERS = {"muons": "o", "electrons": "s", "photons": "D"}


def _draw_markers(
    ax: Axes,
    event: PhysicsEvent,
    style: Style,
    paint: Paint,
    project: Project,
    font_size: float,
) -> None:
    """Muons, electrons and photons as markers at their (eta, phi) on the floor, over the
    towers (a muon leaves no tower; an electron's or photon's is under its marker)."""
    sources: list[tuple[str, np.ndarray, np.ndarray]] = [
        (t.collection, t.eta, t.phi) for t in event.tracks if t.collection in _MARKERS
    ]
    if event.photons is not None:
        sources.append(("photons", event.photons.eta, event.photons.phi))
    for key, eta, phi in sources:
        if np.size(eta) == 0:
            continue
        xy = project(np.asarray(eta, dtype=float), np.array([_wrap(float(p)) for p in phi]))
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=(font_size * 0.9) ** 2,
            marker=_MARKERS[key],
            facecolors=[paint(getattr(style.collections, key).color)],
            edgecolors=[paint(style.canvas.background)],
            linewidths=0.8,
            zorder=5,
        )
