"""``ispyrender animate``: a movie per event (turntable, collision) or one reel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ispyrender.cli import common as c
from ispyrender.outputs.registry import format_help


@c.event_command
def animate(
    shared: c.Shared,
    out: c.OutOpt = Path("out"),
    style: c.StyleOpt = "outreach",
    kind: Annotated[
        str | None, typer.Option(help="turntable, collision, or reel (one movie of all events).")
    ] = None,
    format_: Annotated[
        str | None,
        typer.Option("--format", "-f", help=f"{format_help('movie')} (animation.format)"),
    ] = None,
    frames: Annotated[int | None, typer.Option(help="Frames per movie (animation.frames).")] = None,
    fps: Annotated[int | None, typer.Option(help="Frames per second (animation.fps).")] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            min=0.01, max=3600.0, help="Seconds per movie: sets the frames (duration x fps)."
        ),
    ] = None,
    overwrite: c.OverwriteOpt = False,
    skip_existing: c.SkipExistingOpt = False,
) -> None:
    """Make one movie per event: a turntable, or tracks growing out of the collision."""
    from ispyrender.jobs.animate import animate_events, frames_per_event

    c.check_output_flags(overwrite, skip_existing)
    options = [
        f"animation.{key}={value}"
        for key, value in (("kind", kind), ("format", format_), ("frames", frames), ("fps", fps))
        if value is not None
    ]
    if duration is not None and frames is not None:
        from ispyrender.errors import UsageError

        raise UsageError("--duration and --frames both set the movie's length: pick one")
    the_style = shared.style(style, flags=options, base="outreach")
    if duration is not None:
        # The frames the duration takes at the movie's fps (--fps, the style's, or the default).
        count = max(1, round(duration * the_style.animation.fps))
        frames_flag = f"animation.frames={count}"
        the_style = shared.style(style, flags=[*options, frames_flag], base="outreach")
    written, _ = shared.over_events(
        lambda source, entries, progress: animate_events(
            source,
            entries,
            the_style,
            out,
            overwrite=overwrite,
            skip_existing=skip_existing,
            warn=shared.warn(),
            progress=progress,
        ),
        # A bar of frames, with time left: one movie can take minutes.
        steps=lambda events: events * frames_per_event(the_style.animation),
        unit="frames",
    )
    if not shared.quiet:
        shared.console().print(f"wrote {len(written)} movie(s) to {c.escape(out)}")
