"""The animate job: one movie per selected event (turntable or collision), frames streamed.

reading -> objects -> scene (motion.grow_scene per frame for collisions) -> Renderer.orbit per
frame -> labels -> video.MovieWriter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ispyrender.errors import OutputError
from ispyrender.reading import Dataset
from ispyrender.style import Style


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


def animate_events(
    dataset: Dataset,
    entries: Sequence[int],
    style: Style,
    out: Path,
    *,
    overwrite: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[Path], None] = lambda path: None,
) -> list[Path]:
    from ispyrender.event_scene import build_scene
    from ispyrender.geometry import build_detector
    from ispyrender.labels import label_block
    from ispyrender.motion import frame_scene, frame_states
    from ispyrender.objects import branch_plan, build_event
    from ispyrender.outputs import prepare_folder
    from ispyrender.overlay import draw_labels
    from ispyrender.pipeline import RenderOptions, plan_targets
    from ispyrender.render import Renderer, check_headless, configure_headless
    from ispyrender.video import MovieWriter, check_format

    animation = style.animation
    check_format(animation.format)
    style, scale = movie_style(style)
    configure_headless()
    check_headless()
    suffix = f".{animation.format}"
    png_targets = plan_targets(dataset, entries, style, RenderOptions(out=out, overwrite=True))
    targets = {i: p.with_suffix(suffix) for i, p in png_targets.items()}
    if not overwrite:
        existing = [p for p in targets.values() if p.exists()]
        if existing:
            raise OutputError(f"{existing[0]} already exists: pass --overwrite to replace it")
    prepare_folder(out)
    plan = branch_plan(style, dataset.available_branches())
    for message in plan.warnings:
        warn(message)
    states = frame_states(animation)
    written = []
    renderer = Renderer(style, build_detector(style.detector), scale=scale)
    if animation.kind == "reel":
        target = out / f"reel.{animation.format}"
        if target.exists() and not overwrite:
            raise OutputError(f"{target} already exists: pass --overwrite to replace it")
    try:
        if animation.kind == "reel":
            _reel(dataset, entries, style, plan, renderer, states, target)
            progress(target)
            return [target]
        for record in dataset.iter_events(list(entries), plan.branches):
            scene = build_scene(build_event(record, style, plan), style)
            blank = np.zeros((renderer.size[1], renderer.size[0], 4), dtype=np.uint8)
            block = label_block(
                run=record.run,
                lumi=record.lumi,
                event=record.event,
                is_simulation=record.is_simulation,
                legend=scene.legend,
                style=style,
            )
            layer = draw_labels(blank, block, style)
            target = targets[record.index]
            with MovieWriter(target, animation.format, animation.fps, renderer.size) as movie:
                shown = None
                for state in states:
                    # Actors are rebuilt only when the content changes, not for camera moves.
                    if (state.growth, state.beams, state.show) != shown:
                        renderer.set_scene(frame_scene(scene, state))
                        renderer.show_detector(state.show is None or "detector" in state.show)
                        shown = (state.growth, state.beams, state.show)
                    frame = renderer.orbit(
                        animation.axis, state.azimuth, state.zoom, state.elevation
                    )
                    movie.add(_blend(frame, layer))
            written.append(target)
            progress(target)
    finally:
        renderer.close()
    return written


def _reel(dataset, entries, style, plan, renderer, states, target):  # type: ignore[no-untyped-def]
    """One movie through every selected event: a title card, then a turn around the event."""
    from ispyrender.event_scene import build_scene
    from ispyrender.labels import event_info, experiment_qualifier, label_block
    from ispyrender.objects import build_event
    from ispyrender.overlay import draw_labels, title_card
    from ispyrender.video import MovieWriter

    animation = style.animation
    card_frames = round(animation.title_seconds * animation.fps) if animation.title_card else 0
    with MovieWriter(target, animation.format, animation.fps, renderer.size) as movie:
        for record in dataset.iter_events(list(entries), plan.branches):
            scene = build_scene(build_event(record, style, plan), style)
            if card_frames:
                card = title_card(
                    renderer.size,
                    [
                        f"{style.labels.experiment} "
                        f"{experiment_qualifier(record.is_simulation, style)}".strip(),
                        event_info(record.run, record.lumi, record.event),
                    ],
                    style,
                )
                for _ in range(card_frames):
                    movie.add(card)
            blank = np.zeros((renderer.size[1], renderer.size[0], 4), dtype=np.uint8)
            block = label_block(
                run=record.run,
                lumi=record.lumi,
                event=record.event,
                is_simulation=record.is_simulation,
                legend=scene.legend,
                style=style,
            )
            layer = draw_labels(blank, block, style)
            renderer.set_scene(scene)
            for state in states:
                frame = renderer.orbit(animation.axis, state.azimuth, state.zoom, state.elevation)
                movie.add(_blend(frame, layer))
