"""The animate job: one movie per selected event (turntable or collision), frames streamed.

source -> physics -> scene (motion.frame_scene per frame for collisions) -> Renderer.orbit per
frame -> labels -> video.MovieWriter, the same for every source (NanoAOD, iSpy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ispyrender.config.style import Animation, Style
from ispyrender.errors import OutputError
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.scene.primitives import Scene
from ispyrender.sources.base import EventSource


def _blend(frame: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """``layer`` (RGBA, the labels on transparent) over ``frame`` (RGB). Only the rectangle
    holding labels is blended: the labels cover a small part of the frame, and blending the
    whole 1280x720 picture in float cost as much as a tenth of a frame's render."""
    out = np.ascontiguousarray(frame[..., :3])
    alpha_any = layer[..., 3] > 0
    rows = np.flatnonzero(alpha_any.any(axis=1))
    cols = np.flatnonzero(alpha_any.any(axis=0))
    if rows.size == 0:
        return out
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    alpha = layer[box][..., 3:4].astype(np.float32) / 255.0
    blended = out[box].astype(np.float32) * (1.0 - alpha) + layer[box][..., :3] * alpha
    out[box] = blended.astype(np.uint8)
    return out


def movie_style(style: Style) -> tuple[Style, float]:
    """The style to render frames with and the scale to give the renderer: an explicit
    animation.width/height becomes the canvas (scale 1), so labels are laid out for the
    movie's own shape rather than stretched from the still picture's."""
    animation = style.animation
    if animation.width is None or animation.height is None:
        return style, animation.scale
    canvas = style.canvas.model_copy(update={"width": animation.width, "height": animation.height})
    return style.model_copy(update={"canvas": canvas}), 1.0


def movie_pixels(style: Style) -> tuple[int, int]:
    """A movie's frame size in pixels."""
    frames, scale = movie_style(style)
    return round(frames.canvas.width * scale), round(frames.canvas.height * scale)


@dataclass(frozen=True)
class MovieEvent:
    """What a movie needs of one event: its identity (for the labels) and its scene."""

    physics: PhysicsEvent
    scene: Scene

    @property
    def index(self) -> int:
        return self.physics.index


def animate_events(
    source: EventSource,
    entries: Sequence[int],
    style: Style,
    out: Path,
    *,
    overwrite: bool = False,
    skip_existing: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[int], None] = lambda frames: None,
) -> list[Path]:
    """Movies of the selected entries of any source (one each, or one reel)."""
    from ispyrender.jobs.runner import EventRun
    from ispyrender.outputs.registry import check_format as movie_product
    from ispyrender.outputs.video import check_format

    check_format(style.animation.format)
    product = movie_product(style.animation.format, "movie")
    reel = style.animation.kind == "reel"
    # A reel is one file: only its own name matters, not the per-event ones. The folder is
    # made by the movie loop, after its own checks.
    run = EventRun(
        source,
        entries,
        style,
        out,
        product.suffixes,
        gl=product.needs_gl,
        overwrite=overwrite or reel,
        skip_existing=skip_existing and not reel,
        prepare=False,
        kind=None if reel else style.animation.kind,
        size=(*movie_pixels(style), "movie"),
        warn=warn,
    )
    held = style.animation.held_seconds()
    if held >= 0.5:
        # The 240-frame movie whose last 6 s were one frozen frame: said, not refused.
        run.say(
            f"the keyframes end {held:.1f} s before the movie does: its last {held:.1f} s hold "
            "one still picture; give the keyframes as fractions ('at') to stretch them, or "
            "make the movie shorter"
        )
    todo = list(entries) if reel else run.todo
    targets = {i: run.path(i) for i in todo}

    def events() -> Iterator[MovieEvent]:
        for physics, scene in run.scenes(todo):
            yield MovieEvent(physics, scene)

    try:
        written = _write_movies(
            events(), targets, run.style, out, overwrite=overwrite, progress=progress
        )
        run.close()
    finally:
        run.release()
    return written


def frames_per_event(animation: Animation) -> int:
    """The frames each event takes: its movie's, and in a reel its title card's too."""
    card = animation.kind == "reel" and animation.title_card
    return animation.frames + (round(animation.title_seconds * animation.fps) if card else 0)


def write_movie(physics: PhysicsEvent, scene: Scene, style: Style, target: Path) -> Path:
    """One event's movie at ``target`` (the Python API's animate), replacing what is there."""
    from ispyrender.outputs.video import check_format

    if style.animation.kind == "reel":
        raise OutputError(
            "a reel is a movie of several events: use 'ispyrender animate --kind reel'"
        )
    check_format(style.animation.format)
    item = MovieEvent(physics, scene)
    return _write_movies(
        [item], {physics.index: target}, style, target.parent, overwrite=True, progress=_quiet
    )[0]


def _quiet(frames: int) -> None:
    """No progress to report."""


def _write_movies(
    events: Iterable[MovieEvent],
    targets: dict[int, Path],
    style: Style,
    out: Path,
    *,
    overwrite: bool,
    progress: Callable[[int], None],
) -> list[Path]:
    """The movie loop shared by every input format: names checked before anything is made.
    ``progress(1)`` follows each frame written (a movie of 72 frames takes a while)."""
    from ispyrender.outputs.files import prepare_folder
    from ispyrender.outputs.video import MovieWriter
    from ispyrender.rendering.renderer import Renderer, check_headless
    from ispyrender.scene.detector import build_detector
    from ispyrender.scene.motion import frame_scene, frame_states

    animation = style.animation
    style, scale = movie_style(style)
    check_headless()
    reel = out / f"reel.{animation.format}"
    if animation.kind == "reel" and reel.exists() and not overwrite:
        raise OutputError(f"{reel} already exists: pass --overwrite to replace it")
    prepare_folder(out)
    states = frame_states(animation)
    written = []
    with Renderer(style, build_detector(style.detector), scale=scale) as renderer:
        if animation.kind == "reel":
            _reel(events, style, renderer, states, reel, progress)
            return [reel]
        for item in events:
            layer = _label_layer(item, renderer.size, style)
            target = targets[item.index]
            with MovieWriter(target, animation.format, animation.fps, renderer.size) as movie:
                shown = None
                for state in states:
                    # Actors are rebuilt only when the content changes, not for camera moves.
                    if (state.growth, state.beams, state.show) != shown:
                        renderer.set_scene(
                            frame_scene(item.scene, state), item.scene, animation.axis
                        )
                        renderer.show_detector(state.show is None or "detector" in state.show)
                        shown = (state.growth, state.beams, state.show)
                    frame = renderer.orbit(
                        animation.axis, state.azimuth, state.zoom, state.elevation
                    )
                    movie.add(_blend(frame, layer))
                    progress(1)
            written.append(target)
    return written


def _label_layer(item: MovieEvent, size: tuple[int, int], style: Style) -> np.ndarray:
    """The experiment label, run/event line and legend on a transparent layer, drawn once per
    movie and blended into every frame."""
    from ispyrender.rendering.overlay import draw_labels
    from ispyrender.scene.labels import event_labels

    block = event_labels(item.physics, item.scene, style)
    return draw_labels(np.zeros((size[1], size[0], 4), dtype=np.uint8), block, style)


def _reel(
    events: Iterable[MovieEvent],
    style: Style,
    renderer: Any,
    states: Sequence[Any],
    target: Path,
    progress: Callable[[int], None],
) -> None:
    """One movie through every selected event: a title card, then a turn around the event."""
    from ispyrender.outputs.video import MovieWriter
    from ispyrender.rendering.overlay import title_card
    from ispyrender.scene.labels import title_lines

    animation = style.animation
    card_frames = frames_per_event(animation) - animation.frames
    with MovieWriter(target, animation.format, animation.fps, renderer.size) as movie:
        for item in events:
            if card_frames:
                card = title_card(renderer.size, title_lines(item.physics, style), style)
                for _ in range(card_frames):
                    movie.add(card)
                    progress(1)
            layer = _label_layer(item, renderer.size, style)
            renderer.set_scene(item.scene, orbit_axis=animation.axis)
            for state in states:
                frame = renderer.orbit(animation.axis, state.azimuth, state.zoom, state.elevation)
                movie.add(_blend(frame, layer))
                progress(1)
