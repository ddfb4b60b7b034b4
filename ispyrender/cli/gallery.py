"""``ispyrender gallery``: a static web gallery of the selected events."""

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
    QuietOpt,
    SetOpt,
    StyleOpt,
    WhereOpt,
    escape,
    load,
    over_selection,
    run,
    selection,
    stderr,
    warner,
)


def gallery(
    inputs: InputsArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the site.")] = Path(
        "gallery_site"
    ),
    style: StyleOpt = "outreach",
    set_: SetOpt = None,
    events: EventsOpt = None,
    ids: IdsOpt = None,
    ids_file: IdsFileOpt = None,
    where: WhereOpt = None,
    max_events: MaxEventsOpt = None,
    thumb_size: Annotated[
        str, typer.Option("--thumb-size", help="Thumbnail box, WIDTHxHEIGHT.")
    ] = "320x180",
    animate: Annotated[
        bool, typer.Option(help="Add a turntable movie (webm) to every event page.")
    ] = False,
    models: Annotated[
        bool, typer.Option(help="Add the three.js page with the detector to every event page.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing gallery.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """A static web gallery: thumbnails with filters, a page per event with a 3D view."""

    def body() -> None:
        from ispyrender.jobs.gallery import GalleryOptions, build_gallery, parse_size

        options = GalleryOptions(
            out=out,
            thumb_size=parse_size(thumb_size),
            overwrite=overwrite,
            animate=animate,
            models=models,
        )
        # 1280x720 unless the user says otherwise: big enough to read, light enough for a site.
        the_style = load(style, ["canvas.width=1280", "canvas.height=720", *(set_ or [])])
        chosen = selection(events, ids, ids_file, where, max_events)
        console = stderr()
        index, selected = over_selection(
            inputs,
            chosen,
            quiet,
            lambda source, entries, progress: build_gallery(
                source, entries, the_style, options, warn=warner(console, quiet), progress=progress
            ),
        )
        if not quiet:
            console.print(f"wrote a gallery of {selected} event(s): {escape(index)}")

    run(body)
