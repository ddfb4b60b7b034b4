"""ispyrender's detector and propagation measured against CMS's own, from an iSpy (.ig) file.

An iSpy file carries CMSSW's geometry and propagation (see shared/reference/ispy.md):

* each track's vertex state, and its state propagated by CMSSW (real field map, material) to
  the ECAL entrance surface, r = 1.2752 m or |z| = 3.1681 m (``Extras`` ``pos_2``);
* about 21 points along each global muon, from its innermost to its outermost hit, from
  CMSSW's stepping-helix propagation through the coil, the yoke and the endcap iron;
* the eight corners of every calorimeter rec hit's cell and of the muon chambers with hits.

This module propagates the same tracks and muons with ispyrender's field model and compares
the curves with CMSSW's points, and compares the drawn detector's dimensions with the cells and
chambers in the file. ``tests/test_cmssw_reference.py`` holds the results to the limits of the
issue; run this file to print the tables::

    python tests/cmssw_reference.py [FILE.ig ...]
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ispyrender.physics import cms_dimensions as cms
from ispyrender.physics.cms_dimensions import FIELD, MATERIAL, FieldModel, MaterialModel
from ispyrender.physics.trajectories import StopName, propagate
from ispyrender.sources.ispy import IgEvent, IspySource

CORNERS = ("front_1", "front_2", "front_3", "front_4", "back_1", "back_2", "back_3", "back_4")

#: Where CMSSW's muon points count as "at" a station: radius (barrel) or |z| (endcap) windows
#: around the chambers of the file (DT boxes reach 4.04-4.61, 4.89-5.37, 5.96-6.40 and
#: 6.82-7.88 m; CSC chambers |z| 5.78-7.22, 8.06-8.50, 9.13-9.58, 10.02-10.47 m).
BARREL_STATIONS = {"MB1": (4.0, 4.65), "MB2": (4.85, 5.4), "MB3": (5.9, 6.45), "MB4": (6.8, 7.9)}
ENDCAP_STATIONS = {"ME1": (5.75, 7.25), "ME2": (8.0, 8.55), "ME3": (9.1, 9.6), "ME4": (10.0, 10.5)}
#: The barrel stations span |z| < 6.6 m; beyond, a point is in the endcap.
BARREL_HALF_LENGTH = 6.6


@dataclass(frozen=True)
class TrackState:
    pt: float
    eta: float
    phi: float
    charge: float
    vertex: np.ndarray  # (3,)
    ecal: np.ndarray  # CMSSW's state at the ECAL entrance surface


@dataclass(frozen=True)
class MuonPoints:
    pt: float
    eta: float
    phi: float
    charge: float
    vertex: np.ndarray
    points: np.ndarray  # (n, 3) CMSSW's points, innermost first


def _events(paths: Sequence[str]) -> Iterable[IgEvent]:
    source = IspySource(list(paths))
    try:
        for index in range(len(source.ids().event)):
            yield source.event(index)
    finally:
        source.close()


def tracks(paths: Sequence[str]) -> list[TrackState]:
    """Tracks with CMSSW's state at the ECAL entrance (their extras' second state)."""
    out = []
    for ev in _events(paths):
        rows, extras = ev.rows("Tracks"), ev.rows("Extras")
        for t, x in ev.links("TrackExtras"):
            row = rows[t]
            out.append(
                TrackState(
                    float(row["pt"]),
                    float(row["eta"]),
                    float(row["phi"]),
                    float(row["charge"]),
                    np.asarray(row["pos"], dtype=float),
                    np.asarray(extras[x]["pos_2"], dtype=float),
                )
            )
    return out


def muons(paths: Sequence[str]) -> list[MuonPoints]:
    out = []
    for ev in _events(paths):
        rows, points = ev.rows("GlobalMuons"), ev.rows("Points")
        links = ev.links("MuonGlobalPoints")
        for m, row in enumerate(rows):
            pts = np.array([points[p]["pos"] for a, p in links if a == m], dtype=float)
            if len(pts):
                out.append(
                    MuonPoints(
                        float(row["pt"]),
                        float(row["eta"]),
                        float(row["phi"]),
                        float(row["charge"]),
                        np.asarray(row["rp"], dtype=float),
                        pts,
                    )
                )
    return out


def distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """The distance of each of ``points`` (n, 3) from the polyline ``line`` (m, 3)."""
    a, b = line[:-1], line[1:]
    ab = b - a
    length2 = np.maximum((ab**2).sum(axis=1), 1e-30)
    ap = points[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab[None]).sum(axis=2) / length2[None], 0.0, 1.0)
    closest = a[None] + t[..., None] * ab[None]
    return np.sqrt(((points[:, None, :] - closest) ** 2).sum(axis=2)).min(axis=1)


def _propagate(
    items: Sequence[TrackState] | Sequence[MuonPoints],
    stop: StopName,
    field: FieldModel,
    material: MaterialModel,
    step: float = 0.05,
) -> list[np.ndarray]:
    """ispyrender's curves for CMSSW's tracks or muons, from their vertex states."""
    return propagate(
        np.array([i.pt for i in items]),
        np.array([i.eta for i in items]),
        np.array([i.phi for i in items]),
        np.array([i.charge for i in items]),
        np.array([i.vertex for i in items]),
        stop,
        field=field,
        material=material,
        step=step,
    )


def track_residuals(
    states: Sequence[TrackState], field: FieldModel = FIELD, material: MaterialModel = MATERIAL
) -> np.ndarray:
    """Distance (m) between where ispyrender's track ends and CMSSW's ECAL-entrance state."""
    if not states:
        return np.empty(0)
    curves = _propagate(states, "ecal", field, material)
    return np.array([np.linalg.norm(c[-1] - s.ecal) for c, s in zip(curves, states, strict=True)])


def station_of(point: np.ndarray) -> str | None:
    r, az = float(np.hypot(point[0], point[1])), abs(float(point[2]))
    if az < BARREL_HALF_LENGTH:
        for name, (lo, hi) in BARREL_STATIONS.items():
            if lo <= r <= hi:
                return name
    for name, (lo, hi) in ENDCAP_STATIONS.items():
        if lo <= az <= hi and r > 0.9:
            return name
    return None


@dataclass(frozen=True)
class MuonResidual:
    pt: float
    eta: float
    station: str
    distance: float  # m, the median over the muon's points at that station


def muon_residuals(
    mus: Sequence[MuonPoints], field: FieldModel = FIELD, material: MaterialModel = MATERIAL
) -> list[MuonResidual]:
    """For each muon and station, the distance of CMSSW's points there from ispyrender's curve."""
    if not mus:
        return []
    curves = _propagate(mus, "muon", field, material, step=0.02)
    out = []
    for mu, curve in zip(mus, curves, strict=True):
        if len(curve) < 2:
            continue
        names = [station_of(p) for p in mu.points]
        for name in dict.fromkeys(n for n in names if n):
            at = mu.points[[n == name for n in names]]
            d = float(np.median(distance_to_polyline(at, curve)))
            out.append(MuonResidual(mu.pt, mu.eta, name, d))
    return out


# ---- the detector's dimensions ------------------------------------------------------------


def _cells(paths: Sequence[str], collection: str) -> np.ndarray:
    cells = [[row[k] for k in CORNERS] for ev in _events(paths) for row in ev.rows(collection)]
    return np.asarray(cells, dtype=float).reshape(-1, 8, 3)


@dataclass(frozen=True)
class Dimension:
    part: str
    what: str
    ours: float
    file: float

    @property
    def difference(self) -> float:
        return self.ours - self.file


def _chambers(
    paths: Sequence[str],
) -> tuple[list[tuple[int, np.ndarray]], list[tuple[int, np.ndarray]]]:
    dts, cscs = [], []
    seen: set[int] = set()
    for ev in _events(paths):
        for row in ev.rows("MuonChambers"):
            detid = int(row["detid"])
            if detid in seen:
                continue
            seen.add(detid)
            corners = np.array([row[k] for k in CORNERS], dtype=float)
            sub = (detid >> 25) & 7
            (dts if sub == 1 else cscs if sub == 2 else []).append((detid, corners))
    return dts, cscs


def dt_id(detid: int) -> tuple[int, int, int]:
    """(station, wheel, sector) of a DT chamber's raw detector id (CMSSW's DTChamberId)."""
    return (detid >> 22) & 7, ((detid >> 15) & 7) - 3, (detid >> 18) & 15


def csc_station(detid: int) -> int:
    """The station of a CSC chamber's raw detector id (CMSSW's CSCDetId)."""
    return (detid >> 12) & 7


def dimensions(paths: Sequence[str]) -> list[Dimension]:
    """Each listed dimension of the drawn detector beside the value measured in the file."""
    out: list[Dimension] = []

    def add(part: str, what: str, ours: float, cells: np.ndarray, measure: str) -> None:
        if not len(cells):
            return
        r = np.hypot(cells[..., 0], cells[..., 1])
        az = np.abs(cells[..., 2])
        value = {
            "rmin": r.min(),
            "rmax": r.max(),
            "zmin": az.min(),
            "zmax": az.max(),
        }[measure]
        out.append(Dimension(part, what, ours, float(value)))

    eb, ee, es = (_cells(paths, k) for k in ("EBRecHits", "EERecHits", "ESRecHits"))
    add("ECAL barrel", "front radius", cms.ECAL_BARREL.rmin, eb, "rmin")
    add("ECAL barrel", "back radius", cms.ECAL_BARREL.rmax, eb, "rmax")
    add("ECAL barrel", "half length", cms.ECAL_BARREL.half_length, eb, "zmax")
    add("ECAL endcap", "front |z|", cms.ECAL_ENDCAP.zmin, ee, "zmin")
    add("ECAL endcap", "back |z|", cms.ECAL_ENDCAP.zmax, ee, "zmax")
    add("ECAL endcap", "inner radius", cms.ECAL_ENDCAP.rmin, ee, "rmin")
    add("ECAL endcap", "outer radius", cms.ECAL_ENDCAP.rmax, ee, "rmax")
    add("preshower", "front |z|", cms.PRESHOWER.zmin, es, "zmin")
    add("preshower", "back |z|", cms.PRESHOWER.zmax, es, "zmax")
    add("preshower", "inner radius", cms.PRESHOWER.rmin, es, "rmin")
    add("preshower", "outer radius", cms.PRESHOWER.rmax, es, "rmax")
    hb, he, ho, hf = (
        _cells(paths, k) for k in ("HBRecHits", "HERecHits", "HORecHits", "HFRecHits")
    )
    add("HCAL barrel", "inner radius", cms.HCAL_BARREL.rmin, hb, "rmin")
    add("HCAL barrel", "outer radius", cms.HCAL_BARREL.rmax, hb, "rmax")
    add("HCAL barrel", "|z| reach", cms.HCAL_BARREL.far[-1][1], hb, "zmax")
    add("HCAL outer", "inner radius", cms.HCAL_OUTER.rmin, ho, "rmin")
    add("HCAL outer", "outer radius", cms.HCAL_OUTER.rmax, ho, "rmax")
    add("HCAL forward", "front |z|", cms.HCAL_FORWARD.zmin, hf, "zmin")
    add("HCAL forward", "back |z|", cms.HCAL_FORWARD.zmax, hf, "zmax")
    add("HCAL forward", "inner radius", cms.HCAL_FORWARD.rmin, hf, "rmin")
    for part, section, cells in (
        ("HCAL barrel", cms.HCAL_BARREL, hb),
        ("HCAL endcap", cms.HCAL_ENDCAP, he),
    ):
        if len(cells):
            gap = section_excess(section, cells.reshape(-1, 3))
            out.append(Dimension(part, "cell corners outside (max)", float(gap.max()), 0.0))

    dts, cscs = _chambers(paths)
    model = {(c.station, c.wheel, c.sector): c for c in cms.dt_chambers()}
    for detid, corners in sorted(dts, key=lambda d: dt_id(d[0])):
        station, wheel, sector = dt_id(detid)
        ours = model[(station, wheel, sector)].corners()
        name = f"DT MB{station} wheel {wheel:+d} sector {sector}"
        out.append(Dimension(name, "corner offset (max)", float(_corner_gap(ours, corners)), 0.0))
    rings = cms.csc_chambers()
    for detid, corners in sorted(cscs, key=lambda d: d[0]):
        station = csc_station(detid)
        candidates = [c for c in rings if c.station == station]
        centre = corners.mean(axis=0)
        best = min(candidates, key=lambda c: float(np.linalg.norm(c.corners().mean(0) - centre)))
        side = "+" if centre[2] > 0 else "-"
        name = f"CSC ME{side}{station}/{best.ring.ring} chamber {best.chamber}"
        out.append(
            Dimension(name, "corner offset (max)", float(_corner_gap(best.corners(), corners)), 0.0)
        )
    return out


def section_excess(section: cms.Section, points: np.ndarray) -> np.ndarray:
    """How far each point lies outside a drawn section, in r or |z| (0 inside)."""
    r = np.hypot(points[:, 0], points[:, 1])
    az = np.abs(points[:, 2])
    near = np.interp(r, *np.array(section.near).T)
    far = np.interp(r, *np.array(section.far).T)
    excess = np.stack([section.rmin - r, r - section.rmax, near - az, az - far])
    return np.maximum(excess.max(axis=0), 0.0)


def _corner_gap(ours: np.ndarray, theirs: np.ndarray) -> float:
    """How far apart two boxes are: the largest distance from a corner of one to the nearest
    corner of the other (independent of the order in which the corners are listed)."""
    d = np.linalg.norm(ours[:, None, :] - theirs[None, :, :], axis=2)
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


# ---- the tables ---------------------------------------------------------------------------


def _median_mm(values: np.ndarray) -> str:
    return f"{1000 * float(np.median(values)):8.1f}" if len(values) else "       -"


def report(
    paths: Sequence[str], field: FieldModel = FIELD, material: MaterialModel = MATERIAL
) -> str:
    lines = []
    states = tracks(paths)
    res = track_residuals(states, field, material)
    pt = np.array([s.pt for s in states])
    endcap = np.array([abs(s.ecal[2]) > 3.1 for s in states])
    lines.append("Tracks at CMSSW's ECAL entrance: distance of ispyrender's end point (mm)")
    lines.append(f"{'pT (GeV)':<12}{'region':<8}{'tracks':>7}{'median':>9}{'90%':>9}")
    for lo, hi in ((1, 5), (5, 20), (20, 1e9)):
        for region, mask in (("barrel", ~endcap), ("endcap", endcap)):
            sel = (pt >= lo) & (pt < hi) & mask
            p90 = f"{1000 * float(np.percentile(res[sel], 90)):9.1f}" if sel.any() else "        -"
            label = f"{lo:g}-{hi:g}" if hi < 1e9 else f">= {lo:g}"
            lines.append(f"{label:<12}{region:<8}{int(sel.sum()):>7}{_median_mm(res[sel]):>9}{p90}")
    lines.append("")
    lines.append(
        "Global muons: distance of CMSSW's points at each station from ispyrender's curve (cm)"
    )
    lines.append(f"{'station':<9}{'pT (GeV)':<10}{'muons':>6}{'median':>8}{'max':>8}")
    mres = muon_residuals(muons(paths), field, material)
    for station in (*BARREL_STATIONS, *ENDCAP_STATIONS):
        for label, lo, hi in (("< 10", 0, 10), (">= 10", 10, 1e9)):
            d = np.array([m.distance for m in mres if m.station == station and lo <= m.pt < hi])
            if len(d):
                median, worst = 100 * np.median(d), 100 * d.max()
                lines.append(f"{station:<9}{label:<10}{len(d):>6}{median:8.1f}{worst:8.1f}")
    lines.append("")
    lines.append("Detector dimensions: ispyrender's against the file's cells and chambers (m)")
    lines.append(f"{'part':<40}{'dimension':<32}{'ours':>8}{'file':>8}{'diff':>8}")
    for d in dimensions(paths):
        lines.append(f"{d.part:<40}{d.what:<32}{d.ours:8.3f}{d.file:8.3f}{d.difference:+8.3f}")
    return "\n".join(lines)


# ---- the fit --------------------------------------------------------------------------------

#: What --fit adjusts: (model, parameter, lowest, highest, first step).
FITTED = (
    ("material", "tracker", 0.0, 0.1, 0.005),
    ("field", "inner_half_length", 1.0, 5.5, 0.25),
    ("field", "ends", 0.0, 3.8, 0.2),
    ("field", "gap", -2.0, 4.0, 0.2),
    ("field", "yoke", -2.5, 1.0, 0.2),
    ("field", "inner", 3.7, 3.9, 0.01),
    ("field", "endcap", -4.0, 3.0, 0.2),
)


def misfit(
    states: Sequence[TrackState],
    mus: Sequence[MuonPoints],
    field: FieldModel,
    material: MaterialModel,
) -> float:
    """What the fit minimises: the mean distance of the tracks (1-20 GeV) from CMSSW's ECAL
    entrance points in units of 5 mm, plus the mean distance of the muons from CMSSW's points
    at each station in units of 5 cm (the issue's limits). Means, not squares: a few electrons
    that radiated in the tracker would otherwise pull the field."""
    res = track_residuals(states, field, material)
    d_mu = np.array([m.distance for m in muon_residuals(mus, field, material)])
    return float(res.mean() / 0.005 + d_mu.mean() / 0.05)


def fit(paths: Sequence[str], rounds: int = 6) -> tuple[FieldModel, MaterialModel, float]:
    """Coordinate descent over FITTED: each parameter in turn moves by its step while that
    lowers the misfit, then the steps halve; a handful of rounds settles to the step's size."""
    states = [s for s in tracks(paths) if 1.0 <= s.pt < 20.0]
    mus = muons(paths)
    models = {"field": FIELD, "material": MATERIAL}
    steps = {(m, p): step for m, p, _, _, step in FITTED}
    best = misfit(states, mus, models["field"], models["material"])  # type: ignore[arg-type]
    for _ in range(rounds):
        for model, param, lo, hi, _ in FITTED:
            step = steps[(model, param)]
            for direction in (1.0, -1.0):
                while True:
                    value = getattr(models[model], param) + direction * step
                    if not lo <= value <= hi:
                        break
                    trial = dict(models)
                    trial[model] = dataclasses.replace(models[model], **{param: round(value, 4)})
                    score = misfit(states, mus, trial["field"], trial["material"])  # type: ignore[arg-type]
                    if score >= best:
                        break
                    best, models = score, trial
            steps[(model, param)] = step / 2
        print(
            f"misfit {best:.4f}: "
            + ", ".join(f"{p}={getattr(models[m], p)}" for m, p, *_ in FITTED)
        )
    return models["field"], models["material"], best  # type: ignore[return-value]


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    default = here.parent.parent / "shared" / "data" / "ig" / "Hto4l_120-130GeV.ig"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=[str(default)])
    parser.add_argument("--fit", action="store_true", help="fit the field model, then report")
    args = parser.parse_args()
    if args.fit:
        field, material, _ = fit(args.files)
        print(field, material, sep="\n")
        print(report(args.files, field, material))
    else:
        print(report(args.files))
