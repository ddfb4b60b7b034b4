"""``ispyrender animate``: a movie per event (turntable, collision) or one reel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ispyrender.cli.common import (
    EventsOpt,
    IdsFileOpt,
    IdsOpt,
    InputsArg,
    MaxEventsOpt,
    OverwriteOpt,
    SetOpt,
    SkipExistingOpt,
    StyleOpt,
    WhereOpt,
    check_output_flags,
    escape,
    load,
    run,
    selection,
    stderr,
    warner,
)


def animate(
    inputs: InputsArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    style: StyleOpt = "outreach",
    set_: SetOpt = None,
    kind: Annotated[
        str | None, typer.Option(help="turntable, collision, or reel (one movie of all events).")
    ] = None,
    format_: Annotated[
        str | None, typer.Option("--format", "-f", help="mp4, webm or gif (animation.format).")
    ] = None,
    frames: Annotated[int | None, typer.Option(help="Frames per movie (animation.frames).")] = None,
    fps: Annotated[int | None, typer.Option(help="Frames per second (animation.fps).")] = None,
    events: EventsOpt = None,
    ids: IdsOpt = None,
    ids_file: IdsFileOpt = None,
    where: WhereOpt = None,
    max_events: MaxEventsOpt = None,
    overwrite: OverwriteOpt = False,
    skip_existing: SkipExistingOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line.")] = False,
) -> None:
    """Make one movie per event: a turntable, or tracks growing out of the collision."""

    def body() -> None:
        from ispyrender.jobs.animate import animate_events
        from ispyrender.sources import open_source

        check_output_flags(overwrite, skip_existing)
        overrides = list(set_ or [])
        for key, value in (("kind", kind), ("format", format_), ("frames", frames), ("fps", fps)):
            if value is not None:
                overrides.append(f"animation.{key}={value}")
        the_style = load(style, overrides)
        chosen = selection(events, ids, ids_file, where, max_events)
        console = stderr()
        with open_source(inputs) as source:
            entries = chosen.resolve(source)
            written = animate_events(
                source,
                entries,
                the_style,
                out,
                overwrite=overwrite,
                skip_existing=skip_existing,
                warn=warner(console, quiet),
            )
        if not quiet:
            console.print(f"wrote {len(written)} movie(s) to {escape(out)}")

    run(body)
