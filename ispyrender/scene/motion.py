"""Animation timing: keyframes, easings and growing tracks (pure numpy).

A movie is a list of frame states (orbit angle, zoom, growth). Keyframes set those values at
moments given as fractions of the movie; between two keyframes each value moves along the
later keyframe's easing. Growth moves one front out of the vertex, as far as the event's
furthest product at growth 1: tracks are cut at the front's path length, and jets and
calorimeter towers appear when it reaches them (see grow_scene).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

from ispyrender.config.style import Animation, Keyframe
from ispyrender.scene.primitives import (
    Appearance,
    Arrows,
    Cones,
    Hexahedra,
    Polylines,
    Primitive,
    Scene,
    Spheres,
    Towers,
)


@dataclass(frozen=True)
class FrameState:
    azimuth: float = 0.0
    zoom: float = 1.0
    growth: float = 1.0
    beams: float = 1.0
    elevation: float = 0.0
    # Groups drawn (see style.ShowGroup); None draws everything.
    show: tuple[str, ...] | None = None


def ease(kind: str, t: float) -> float:
    """Map t in [0, 1] to [0, 1]: linear, or quadratic ease in / out / in-out."""
    t = min(max(t, 0.0), 1.0)
    if kind == "ease_in":
        return t * t
    if kind == "ease_out":
        return 1.0 - (1.0 - t) ** 2
    if kind == "ease_in_out":
        return 2 * t * t if t < 0.5 else 1.0 - 2 * (1.0 - t) ** 2
    return t


def default_keyframes(animation: Animation) -> list[Keyframe]:
    if animation.kind == "collision":  # (a reel turns each event like a turntable)
        # Two bunches fly in along the beam line and meet (first 15%), the tracks grow out of
        # the vertex (to 50%), then the camera turns half round while moving in a little.
        return [
            Keyframe(at=0.0, azimuth=0.0, zoom=1.0, growth=0.0, beams=0.0),
            Keyframe(at=0.15, beams=1.0, growth=0.0, easing="linear"),
            # ease_in: the front starts slowly, so the tracker's short tracks get frames of
            # their own before the muons race out to the edge of the detector.
            Keyframe(at=0.5, growth=1.0, azimuth=0.0, zoom=1.0, easing="ease_in"),
            Keyframe(at=1.0, azimuth=180.0, zoom=1.3),
        ]
    # A full turn with no easing, so the movie loops without a jolt.
    return [
        Keyframe(at=0.0, azimuth=0.0, zoom=1.0, growth=1.0),
        Keyframe(at=1.0, azimuth=360.0 * (1 - 1 / max(animation.frames, 1)), easing="linear"),
    ]


def frame_states(animation: Animation) -> list[FrameState]:
    """The state of every frame of ``animation``."""
    n = animation.frames

    def position(k: Keyframe) -> float:
        """Where a keyframe sits, in frames: `at` spans first..last frame, `time` is seconds."""
        return k.at * (n - 1) if k.at is not None else (k.time or 0.0) * animation.fps

    keys = sorted(animation.keyframes or default_keyframes(animation), key=position)
    numeric = (("azimuth", 0.0), ("elevation", 0.0), ("zoom", 1.0), ("growth", 1.0), ("beams", 1.0))
    shows = [(position(k), tuple(k.show)) for k in keys if k.show is not None]
    states = []
    for i in range(n):
        t = float(i)
        values: dict[str, object] = {}
        # `show` switches: the last list at or before this frame (the first one before it).
        values["show"] = next(
            (v for at, v in reversed(shows) if at <= t), shows[0][1] if shows else None
        )
        for name, default in numeric:
            # The keyframes that set this value, with the first one extended back to frame 0.
            points = [
                (position(k), getattr(k, name), k.easing)
                for k in keys
                if getattr(k, name) is not None
            ]
            if not points:
                values[name] = default
                continue
            if t <= points[0][0]:
                values[name] = points[0][1]
                continue
            values[name] = points[-1][1]
            for (t0, v0, _), (t1, v1, easing) in itertools.pairwise(points):
                if t0 <= t <= t1:
                    f = ease(easing, (t - t0) / (t1 - t0)) if t1 > t0 else 1.0
                    values[name] = v0 + (v1 - v0) * f
                    break
        states.append(FrameState(**values))  # type: ignore[arg-type]
    return states


def truncate_path(path: np.ndarray, fraction: float) -> np.ndarray:
    """The first ``fraction`` of a curve by length, ending on an interpolated point."""
    path = np.asarray(path, dtype=float)
    if fraction >= 1.0 or len(path) < 2:
        return path
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(steps)])
    target = fraction * cum[-1]
    k = int(np.searchsorted(cum, target, side="right"))
    if k >= len(path):
        return path
    seg = cum[k] - cum[k - 1]
    f = (target - cum[k - 1]) / seg if seg > 0 else 0.0
    end = path[k - 1] + f * (path[k] - path[k - 1])
    return np.vstack([path[:k], end])


def path_length(path: np.ndarray) -> float:
    path = np.asarray(path, dtype=float)
    return float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum()) if len(path) > 1 else 0.0


def scene_reach(scene: Scene) -> float:
    """How far from the vertex the event's products go, in metres: the longest track by path
    length, or the furthest tip of a jet cone or calorimeter tower. Growth 1 is this far."""
    reach = 0.0
    for p in scene.primitives:
        if isinstance(p, Polylines):
            reach = max([reach, *(path_length(x) for x in p.paths)])
        elif isinstance(p, Cones) and len(p.length):
            reach = max(reach, float(np.max(np.linalg.norm(p.apex, axis=1) + p.length)))
        elif isinstance(p, Towers) and len(p.length):
            reach = max(reach, float(np.max(np.linalg.norm(p.base, axis=1) + p.length)))
        elif isinstance(p, Hexahedra) and len(p.corners):
            reach = max(reach, float(np.max(_front_face_distance(p))))
    return reach


def _front_face_distance(cells: Hexahedra) -> np.ndarray:
    """Distance from the vertex to the nearest front corner of each cell (iSpy's rec hits and
    muon chambers): where the front reaches it."""
    return np.linalg.norm(cells.corners[:, :4], axis=2).min(axis=1)


def grow_scene(scene: Scene, growth: float, reach: float | None = None) -> Scene:
    """The scene at ``growth`` (0..1): everything produced in the collision has travelled
    ``growth * reach`` metres from the vertex (``reach`` defaults to :func:`scene_reach`).

    One front for all, as the particles fly at nearly the speed of light: a track is cut at
    that path length (a short track finishes early, a muon keeps going), and a jet cone or a
    calorimeter tower appears when the front reaches it and grows with it; iSpy's cells and
    muon chambers (hexahedra) light up when it reaches their front face. Cutting every track
    at the same fraction of its own length instead would light the calorimeter before the
    tracks that feed it get there. MET is worked out from everything else, so it appears last,
    with the complete event."""
    if growth >= 1.0:
        return scene
    out = Scene(legend=list(scene.legend))
    front = growth * (scene_reach(scene) if reach is None else reach)
    for p in scene.primitives:
        if isinstance(p, Polylines):
            paths = []
            for x in p.paths:
                length = path_length(x)
                if length > 0.0 and front > 0.0:
                    paths.append(truncate_path(x, min(1.0, front / length)))
            out.primitives.append(replace(p, paths=tuple(x for x in paths if len(x) >= 2)))
        elif isinstance(p, (Cones, Towers)):
            # Jets and towers grow out from their apex or base, as far as the front has come.
            start, fields = (
                (p.apex, ("apex", "axis", "half_angle"))
                if isinstance(p, Cones)
                else (p.base, ("base", "axis", "width"))
            )
            grown = np.minimum(p.length, front - np.linalg.norm(start, axis=1))
            keep = grown > 0.0
            if keep.any():
                kept = {name: getattr(p, name)[keep] for name in fields}
                out.primitives.append(replace(p, length=grown[keep], **kept))
        elif isinstance(p, Hexahedra):
            # iSpy's calorimeter cells and the muon chambers with hits light up when reached.
            keep = _front_face_distance(p) <= front
            if keep.any():
                out.primitives.append(replace(p, corners=p.corners[keep]))
        elif isinstance(p, Arrows):
            continue  # MET: shown with the complete event (growth 1)
        else:
            out.primitives.append(p)  # vertices (where everything starts), detector hits
    return out


BEAM_LOOK = Appearance((0.55, 0.8, 1.0), 1.0, 6.0)
BEAM_START = 6.0  # metres from the centre where the bunches enter
BUNCH_LENGTH = 0.8


def beam_bunches(beams: float) -> Polylines | None:
    """The two incoming bunches at ``beams`` (0: entering at +-6 m, 1: met at the centre,
    where they disappear and the collision products take over)."""
    if beams >= 1.0:
        return None
    z = BEAM_START * (1.0 - beams)
    paths = tuple(
        np.array([[0.0, 0.0, side * z], [0.0, 0.0, side * (z + BUNCH_LENGTH)]])
        for side in (1.0, -1.0)
    )
    return Polylines("Beams", paths, BEAM_LOOK)


def frame_scene(scene: Scene, state: FrameState) -> Scene:
    """The scene as one frame shows it: grown to ``state.growth``, with bunches in flight."""
    grown = grow_scene(scene, state.growth)
    bunches = beam_bunches(state.beams)
    if bunches is not None:
        if grown is scene:
            grown = Scene(list(scene.primitives), list(scene.legend))
        grown.primitives.append(bunches)
    return visible_scene(grown, state.show)


def groups_of(primitive: Primitive) -> set[str]:
    """The `show` groups a primitive belongs to: by kind (a track is a polyline), refined by
    its collection's name (muons and electrons are tracks too; photons are lines and towers)."""
    name = primitive.group.lower()
    if name == "beams":
        return {"beams"}
    if "photon" in name:
        return {"photons"}
    if isinstance(primitive, Polylines):
        found = {"tracks"}
        if "muon" in name:
            found.add("muons")
        if "electron" in name:
            found.add("electrons")
        return found
    if isinstance(primitive, Cones):
        return {"jets"}
    if isinstance(primitive, Arrows):
        return {"met"}
    if isinstance(primitive, Spheres):
        return {"vertices"}
    if isinstance(primitive, Towers):
        return {"photons"}
    return {"detector"}  # iSpy rec-hit cells and chambers stay with the detector


def visible_scene(scene: Scene, show: tuple[str, ...] | None) -> Scene:
    """Only the primitives whose groups are in ``show`` (all of them when None)."""
    if show is None:
        return scene
    wanted = set(show)
    kept = [p for p in scene.primitives if groups_of(p) & wanted]
    return Scene(kept, list(scene.legend))
