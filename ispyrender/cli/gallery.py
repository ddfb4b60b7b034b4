"""``ispyrender gallery``: a static web gallery of the selected events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ispyrender.cli import common as c


@c.event_command
def gallery(
    shared: c.Shared,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the site.")] = Path(
        "gallery_site"
    ),
    style: c.StyleOpt = "outreach",
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
) -> None:
    """A static web gallery: thumbnails with filters, a page per event with a 3D view."""
    from ispyrender.jobs.gallery import GalleryOptions, build_gallery, parse_size

    options = GalleryOptions(
        out=out,
        thumb_size=parse_size(thumb_size),
        overwrite=overwrite,
        animate=animate,
        models=models,
    )
    # 1280x720 unless the user says otherwise: big enough to read, light enough for a site.
    # ... and every event framed alike, so that the thumbnails compare.
    the_style = shared.style(
        style, ["canvas.width=1280", "canvas.height=720", "camera.focus=series"], base="outreach"
    )
    index, selected = shared.over_events(
        lambda source, entries, progress: build_gallery(
            source, entries, the_style, options, warn=shared.warn(), progress=progress
        )
    )
    if not shared.quiet:
        shared.console().print(f"wrote a gallery of {selected} event(s): {c.escape(index)}")
