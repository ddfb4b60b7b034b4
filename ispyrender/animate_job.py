"""The animate job: one movie per selected event (turntable or collision), frames streamed.

reading -> objects -> scene (motion.grow_scene per frame for collisions) -> Renderer.orbit per
frame -> labels -> video.MovieWriter. iSpy (.ig) files enter at the scene, as in ig_job.py;
both kinds of input then share one movie loop (_write_movies).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ispyrender.errors import OutputError
from ispyrender.reading import Dataset
from ispyrender.scene import Scene
from ispyrender.style import Style

if TYPE_CHECKING:
    from ispyrender.ig import IgFile


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


@dataclass(frozen=True)
class MovieEvent:
    """What a movie needs of one event, whichever the input format."""

    index: int
    run: int
    lumi: int | None
    event: int
    is_simulation: bool
    scene: Scene


def _check_targets(targets: Iterable[Path], overwrite: bool) -> None:
    if not overwrite:
        existing = [p for p in targets if p.exists()]
        if existing:
            raise OutputError(f"{existing[0]} already exists: pass --overwrite to replace it")


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
    """Movies of the selected NanoAOD entries (one each, or one reel)."""
    from ispyrender.event_scene import build_scene
    from ispyrender.objects import branch_plan, build_event
    from ispyrender.pipeline import RenderOptions, plan_targets
    from ispyrender.video import check_format

    check_format(style.animation.format)
    suffix = f".{style.animation.format}"
    png_targets = plan_targets(dataset, entries, style, RenderOptions(out=out, overwrite=True))
    targets = {i: p.with_suffix(suffix) for i, p in png_targets.items()}
    plan = branch_plan(style, dataset.available_branches())
    for message in plan.warnings:
        warn(message)

    def events() -> Iterator[MovieEvent]:
        for record in dataset.iter_events(list(entries), plan.branches):
            scene = build_scene(build_event(record, style, plan), style)
            yield MovieEvent(
                record.index, record.run, record.lumi, record.event, record.is_simulation, scene
            )

    return _write_movies(events(), targets, style, out, overwrite=overwrite, progress=progress)


def animate_ig(
    events: IgFile,
    selected: Sequence[int],
    style: Style,
    out: Path,
    *,
    overwrite: bool = False,
    progress: Callable[[Path], None] = lambda path: None,
) -> list[Path]:
    """Movies of the selected iSpy events: their stored tracks, hits and chambers grow and
    turn the same way as NanoAOD's (Hto4l in a collision movie is the classic)."""
    from ispyrender.ig_scene import build_ig_scene
    from ispyrender.outputs import check_template, file_name
    from ispyrender.video import check_format

    check_format(style.animation.format)
    template = style.output.name_template
    check_template(template, ".png")
    loaded = {i: events.event(i) for i in selected}
    targets: dict[int, Path] = {}
    for i, ev in loaded.items():
        fields = {
            "run": ev.run,
            "lumi": ev.lumi,
            "event": ev.event,
            "index": i,
            "entry": i,
            "source": ev.source.rsplit("/", 1)[-1].removesuffix(".ig"),
        }
        targets[i] = out / file_name(template, fields, f".{style.animation.format}")
    if len(set(targets.values())) < len(targets):
        raise OutputError(
            "two selected events would get the same movie name: add {index} to "
            "output.name_template (--set output.name_template='{run}_{event}_{index}.png')"
        )

    def scenes() -> Iterator[MovieEvent]:
        for i, ev in loaded.items():
            scene, _ = build_ig_scene(ev, style)
            yield MovieEvent(i, ev.run, ev.lumi, ev.event, False, scene)

    return _write_movies(scenes(), targets, style, out, overwrite=overwrite, progress=progress)


def _write_movies(
    events: Iterable[MovieEvent],
    targets: dict[int, Path],
    style: Style,
    out: Path,
    *,
    overwrite: bool,
    progress: Callable[[Path], None],
) -> list[Path]:
    """The movie loop shared by every input format: names checked before anything is made."""
    from ispyrender.geometry import build_detector
    from ispyrender.motion import frame_scene, frame_states
    from ispyrender.outputs import prepare_folder
    from ispyrender.render import Renderer, check_headless, configure_headless
    from ispyrender.video import MovieWriter

    animation = style.animation
    style, scale = movie_style(style)
    configure_headless()
    check_headless()
    reel = out / f"reel.{animation.format}"
    # A reel is one file: only its own name matters, not the per-event ones.
    _check_targets([reel] if animation.kind == "reel" else targets.values(), overwrite)
    prepare_folder(out)
    states = frame_states(animation)
    written = []
    with Renderer(style, build_detector(style.detector), scale=scale) as renderer:
        if animation.kind == "reel":
            _reel(events, style, renderer, states, reel)
            progress(reel)
            return [reel]
        for item in events:
            layer = _label_layer(item, renderer.size, style)
            target = targets[item.index]
            with MovieWriter(target, animation.format, animation.fps, renderer.size) as movie:
                shown = None
                for state in states:
                    # Actors are rebuilt only when the content changes, not for camera moves.
                    if (state.growth, state.beams, state.show) != shown:
                        renderer.set_scene(frame_scene(item.scene, state))
                        renderer.show_detector(state.show is None or "detector" in state.show)
                        shown = (state.growth, state.beams, state.show)
                    frame = renderer.orbit(
                        animation.axis, state.azimuth, state.zoom, state.elevation
                    )
                    movie.add(_blend(frame, layer))
            written.append(target)
            progress(target)
    return written


def _label_layer(item: MovieEvent, size: tuple[int, int], style: Style) -> np.ndarray:
    """The experiment label, run/event line and legend on a transparent layer, drawn once per
    movie and blended into every frame."""
    from ispyrender.labels import label_block
    from ispyrender.overlay import draw_labels

    block = label_block(
        run=item.run,
        lumi=item.lumi,
        event=item.event,
        is_simulation=item.is_simulation,
        legend=item.scene.legend,
        style=style,
    )
    return draw_labels(np.zeros((size[1], size[0], 4), dtype=np.uint8), block, style)


def _reel(events: Iterable[MovieEvent], style: Style, renderer, states, target: Path) -> None:  # type: ignore[no-untyped-def]
    """One movie through every selected event: a title card, then a turn around the event."""
    from ispyrender.labels import event_info, experiment_qualifier
    from ispyrender.overlay import title_card
    from ispyrender.video import MovieWriter

    animation = style.animation
    card_frames = round(animation.title_seconds * animation.fps) if animation.title_card else 0
    with MovieWriter(target, animation.format, animation.fps, renderer.size) as movie:
        for item in events:
            if card_frames:
                card = title_card(
                    renderer.size,
                    [
                        f"{style.labels.experiment} "
                        f"{experiment_qualifier(item.is_simulation, style)}".strip(),
                        event_info(item.run, item.lumi, item.event),
                    ],
                    style,
                )
                for _ in range(card_frames):
                    movie.add(card)
            layer = _label_layer(item, renderer.size, style)
            renderer.set_scene(item.scene)
            for state in states:
                frame = renderer.orbit(animation.axis, state.azimuth, state.zoom, state.elevation)
                movie.add(_blend(frame, layer))
