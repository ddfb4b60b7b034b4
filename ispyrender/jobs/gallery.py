"""A static web gallery of many events: thumbnails, filters, one page per event with a 3D view.

reading -> objects -> scene -> render (one PNG per event, thumbnail downscaled from it with
Pillow) -> site. The site must work from file:// (a folder on a laptop, an e-mail attachment,
a web server without any backend), so nothing is fetched: each page carries its data as a JSON
``<script>`` block, the scripts and the style sheet are plain files copied from
``ispyrender/gallery_assets``, and the 3D view is a small self-written 2D-canvas projection
(no WebGL, no CDN).

The whole site is built in a temporary folder beside ``--out`` and renamed into place at the
end, so an error or Ctrl-C leaves the previous gallery (or nothing) behind, never half a site.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ispyrender import __version__
from ispyrender.config.collections import BY_KEY
from ispyrender.config.style import Style, parse_color
from ispyrender.errors import OutputError, SelectionError
from ispyrender.outputs import jsontext
from ispyrender.outputs.files import (
    hold,
    printable,
    remove_stale_temporaries,
    umask,
    write_error,
)
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.sources.base import EventSource

#: Files of ispyrender/gallery_assets copied into every site (the templates stay behind).
ASSETS = ("gallery.css", "gallery.js", "viewer3d.js")

#: Object kinds in the table, the order they are listed in, and their names on the page.
KIND_NAMES = {key: BY_KEY[key].singular for key in ("muons", "electrons", "photons", "jets")}

#: Tracks and points kept per event for the 3D view: PF candidates can be thousands of curves,
#: and a page that a laptop browser redraws on every mouse move must stay light.
MAX_TRACKS_3D = 1500
MAX_POINTS_PER_TRACK = 24


@dataclass
class GalleryOptions:
    out: Path
    thumb_size: tuple[int, int] = (320, 180)
    overwrite: bool = False
    animate: bool = False  # embed a turntable movie per event (ispyrender.jobs.animate)
    models: bool = False  # link the three.js page per event (render --format html)


def parse_size(text: str) -> tuple[int, int]:
    """'320x180' -> (320, 180), or a one-line error."""
    parts = text.lower().split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise SelectionError(f"--thumb-size {text!r} is not WIDTHxHEIGHT, e.g. 320x180") from None
    if not (16 <= width <= 1920 and 16 <= height <= 1080):
        raise SelectionError(f"--thumb-size {text!r}: each side must be 16 to 1920x1080")
    return width, height


# ---- what the pages show about one event ---------------------------------------------------


def event_summary(physics: Any) -> dict[str, Any]:
    """Counts, object table, MET and masses of one event (the drawn objects only, so that the
    numbers on the page are those of the picture)."""
    from ispyrender.physics.quantities import event_objects, leading_masses

    objects = event_objects(physics)
    rows = []
    for kind, name in KIND_NAMES.items():
        found = objects.get(kind)
        if found is None:
            continue
        for i in range(len(found)):
            charge = float(found.charge[i])
            rows.append(
                {
                    "type": name,
                    "pt": round(float(found.pt[i]), 2),
                    "eta": round(float(found.eta[i]), 3),
                    "phi": round(float(found.phi[i]), 3),
                    "charge": None if math.isnan(charge) else round(charge),
                }
            )
    counts = {kind: len(objects[kind]) if kind in objects else 0 for kind in KIND_NAMES}
    met = None if physics.met is None else round(float(physics.met.pt), 2)
    if physics.met is not None:
        rows.append(
            {
                "type": "MET",
                "pt": met,
                "eta": None,
                "phi": round(float(physics.met.phi), 3),
                "charge": None,
            }
        )
    # The leading pair the filter works on: leptons first, else photons, else jets.
    masses: list[dict[str, Any]] = [
        {"name": m.name, "label": m.label, "value": round(m.value, 2), "kind": m.kind}
        for m in leading_masses(physics)
    ]
    pair = None
    for kinds in (("muons", "electrons", "leptons"), ("photons",), ("jets",)):
        pair = next((m for m in masses if m["kind"] in kinds and m["name"] != "four_lepton"), None)
        if pair is not None:
            break
    return {
        "counts": counts,
        "n_objects": sum(counts.values()),
        "met": met,
        "objects": rows,
        "masses": masses,
        "mass": None if pair is None else pair["value"],
        "mass_label": None if pair is None else pair["label"],
    }


def _hex(color: Any) -> str:
    rgb = parse_color(color) if isinstance(color, str) else color
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb[:3])


def view3d_data(physics: Any, scene: Any, style: Style) -> dict[str, Any]:
    """What the canvas viewer draws, in metres and GeV: the Phoenix export's tracks (the same
    curves as the PNG), jets, photons and MET, thinned so the page stays light."""
    from ispyrender.outputs.phoenix import event_dict

    event = event_dict(physics, scene, style)
    tracks = []
    for group, items in event.get("Tracks", {}).items():
        for item in items:
            pts = np.asarray(item["pos"], dtype=float) / 1000.0
            if len(pts) > MAX_POINTS_PER_TRACK:
                keep = np.unique(np.linspace(0, len(pts) - 1, MAX_POINTS_PER_TRACK).astype(int))
                pts = pts[keep]
            tracks.append(
                {
                    "group": group,
                    "color": "#" + item["color"][2:],  # Phoenix's tracks: "0xrrggbb"
                    "width": float(item["linewidth"]),
                    "points": np.round(pts, 3).tolist(),
                }
            )
    # Leptons (thick lines, listed first by the scene) survive the cut; soft PF candidates go.
    tracks.sort(key=lambda t: -t["width"])
    dropped = max(0, len(tracks) - MAX_TRACKS_3D)
    tracks = tracks[:MAX_TRACKS_3D]
    jets = [
        {
            "eta": round(j["eta"], 3),
            "phi": round(j["phi"], 3),
            "energy": round(j["energy"] / 1000.0, 2),
            "radius": j["coneR"],
            "color": j["color"],  # CSS "#rrggbb" in the export already
        }
        for items in event.get("Jets", {}).values()
        for j in items
    ]
    photons = [
        {
            "eta": round(p["eta"], 3),
            "phi": round(p["phi"], 3),
            "energy": round(p["energy"] / 1000.0, 2),
            "color": p["color"],
        }
        for items in event.get("CaloClusters", {}).values()
        for p in items
    ]
    met = None
    if physics.met is not None:
        met = {
            "pt": round(float(physics.met.pt), 2),
            "phi": round(float(physics.met.phi), 3),
            "color": _hex(style.collections.met.color),
        }
    return {
        "background": _hex(style.canvas.background),
        "foreground": _hex(style.labels.color),
        "tracks": tracks,
        "dropped_tracks": dropped,
        "jets": jets,
        "photons": photons,
        "met": met,
    }


# ---- the site --------------------------------------------------------------------------------


def _script_json(value: Any) -> Any:
    """The JSON of a page's <script> block, marked safe for the templates."""
    from markupsafe import Markup

    from ispyrender.outputs.webpage import script_json

    return Markup(script_json(value))


def _environment() -> Any:
    import jinja2

    def load(name: str) -> str:
        return resources.files("ispyrender").joinpath(f"gallery_assets/{name}").read_text("utf-8")

    # autoescape everywhere: file names, style labels and branch-derived text reach the page.
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["script_json"] = _script_json
    env.filters["num"] = lambda v, digits=1: "–" if v is None else f"{v:.{digits}f}"
    return env


#: The list of every file a gallery holds, written last into the site: --overwrite replaces a
#: folder only when everything in it is on that list, so nothing of the user's is removed.
SITE_FILES = ".ispyrender-gallery.json"


def _foreign_files(out: Path) -> list[str]:
    """What in ``out`` this program did not write there (everything, when it has no list):
    files, links and folders that hold none of its files."""
    try:
        listed = set(json.loads((out / SITE_FILES).read_text("utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        listed = set()
    listed.add(SITE_FILES)
    ours = {str(Path(f).parent) for f in listed} | {
        str(parent) for f in listed for parent in Path(f).parents
    }
    foreign = []
    for path in out.rglob("*"):
        name = str(path.relative_to(out))
        if path.is_symlink() or not path.is_dir():
            if name not in listed or path.is_symlink():
                foreign.append(name)
        elif name not in ours:
            foreign.append(name + "/")  # a folder of the user's (empty, or holding links)
    return sorted(foreign)


def _refuse_foreign(out: Path) -> None:
    foreign = _foreign_files(out)
    if foreign:
        # --overwrite replaces the whole folder: only one that holds nothing but our site.
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise OutputError(
            f"{out} holds files that ispyrender did not write there ({shown}): --overwrite "
            "replaces only a gallery it made; move them or choose another --out"
        )


def _check_target(out: Path, overwrite: bool) -> None:
    here = Path.cwd().resolve()
    target = out.resolve()
    if here == target or target in here.parents:
        raise OutputError(
            f"--out {out} is the current folder or holds it, which a gallery cannot replace: "
            "choose a new folder, e.g. --out gallery_site"
        )
    if out.is_symlink():
        # The site is renamed into place: a link would be replaced, not the folder it names.
        raise OutputError(f"--out {out} is a link: give the folder it points to, {target}")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file: choose a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise OutputError(f"{out} already exists: pass --overwrite to replace the gallery")
        _refuse_foreign(out)


def _restore_swapped_out(out: Path) -> None:
    """A build killed between its two renames left the previous gallery as ".NAME.*.irold"
    and no NAME: put it back before anything is cleaned up."""
    if out.exists() or out.is_symlink():
        return
    for old in sorted(out.parent.glob(f".{glob.escape(out.name)}.*.irold")):
        with contextlib.suppress(OSError):
            old.rename(out)
            return


def _swap_into_place(built: Path, out: Path) -> None:
    """Rename the finished site onto ``out``; an old gallery goes only once the new one is in,
    and only if it still holds nothing but what this program wrote."""
    old = None
    if out.exists():
        _refuse_foreign(out)  # again: files may have been added while the events rendered
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".irold"))
        old.rmdir()
        out.rename(old)
    try:
        built.rename(out)
    except BaseException:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def thumbnail_style(style: Style, size: tuple[int, int]) -> Style:
    """The style a gallery's thumbnails are drawn with: the picture's look at twice the
    thumbnail's size, without labels (the card writes run, event, objects and masses)."""
    canvas = style.canvas.model_copy(update={"width": 2 * size[0], "height": 2 * size[1]})
    labels = style.labels.model_copy(update={"show": False})
    return style.model_copy(update={"canvas": canvas, "labels": labels})


def build_gallery(
    source: EventSource,
    entries: Sequence[int],
    style: Style,
    options: GalleryOptions,
    *,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[Any], None] = lambda result: None,
) -> Path:
    """Render ``entries`` and write the site to ``options.out``; returns the index page."""
    from ispyrender.outputs.lock import FolderLock

    if not entries:
        raise SelectionError("no events selected: nothing to put in the gallery")
    # On a file beside the site, which is replaced as a whole: a second build of the same
    # gallery at once is refused before either checks or writes anything.
    with FolderLock(options.out, beside=True):
        return _build(source, entries, style, options, warn, progress)


def _build(
    source: EventSource,
    entries: Sequence[int],
    style: Style,
    options: GalleryOptions,
    warn: Callable[[str], None],
    progress: Callable[[Any], None],
) -> Path:
    from PIL import Image

    from ispyrender.jobs.runner import EventRun
    from ispyrender.outputs.files import encode_png
    from ispyrender.outputs.products import EventProducts
    from ispyrender.outputs.targets import event_metadata
    from ispyrender.rendering.renderer import check_headless

    out = options.out
    _check_target(out, options.overwrite)
    check_headless()
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        # What a killed build of this gallery left beside it (held folders are live builds).
        _restore_swapped_out(out)
        remove_stale_temporaries(parent, prefix=f".{out.name}.")
        work = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.", suffix=".irbuild"))
        held = hold(work)
    except OSError as exc:
        raise OutputError(
            f"cannot write beside {out} ({exc.strerror}): choose another --out"
        ) from None
    try:
        # Names follow output.name_template, so a gallery image has the name `render` gives it.
        run = EventRun(
            source,
            entries,
            style,
            work / "images",
            [".png"],
            gl=True,
            masses="labels",
            overwrite=True,
            lock=False,  # a folder of this build's own; the site's lock is held
            size=(style.canvas.width, style.canvas.height, "picture"),
            warn=warn,
        )
        style = run.style
        for folder in ("thumbs", "events", "assets"):
            (work / folder).mkdir()
        env = _environment()
        event_template = env.get_template("event.html.j2")
        cards: list[dict[str, Any]] = []
        pages: list[tuple[dict[str, Any], dict[str, Any]]] = []
        small = thumbnail_style(style, options.thumb_size)
        with EventProducts("png", style) as products, EventProducts("png", small) as thumbs:
            for physics, scene in run.scenes():
                stem = run.path(physics.index).stem
                image = products.image(physics, scene)
                (work / "images" / f"{stem}.png").write_bytes(
                    encode_png(image, event_metadata(physics, style), style.output.png_compression)
                )
                # Drawn for its size (twice over, then halved: smooth edges), without the
                # labels, which no one could read there: the card says them as text.
                thumb = Image.fromarray(np.ascontiguousarray(thumbs.image(physics, scene)[..., :3]))
                thumb.thumbnail(options.thumb_size, Image.Resampling.LANCZOS)
                thumb.save(work / "thumbs" / f"{stem}.jpg", quality=88)
                card = _card(physics, stem, thumb.size)
                cards.append(card)
                pages.append((card, view3d_data(physics, scene, style)))
                progress(card)
        run.close()
        if options.animate:
            _link(cards, "movie", "movies", _movies(source, entries, style, work))
        if options.models:
            _link(cards, "model", "models", _models(source, entries, style, work))
        for i, (card, view) in enumerate(pages):
            previous = cards[i - 1]["href"] if i > 0 else None
            following = cards[i + 1]["href"] if i + 1 < len(cards) else None
            page = event_template.render(
                card=card,
                view=view,
                style=style,
                previous=previous,
                following=following,
                version=__version__,
            )
            (work / "events" / f"{card['stem']}.html").write_text(page, "utf-8")
        index = env.get_template("index.html.j2").render(
            cards=cards, style=style, version=__version__, sources=_sources(source)
        )
        (work / "index.html").write_text(index, "utf-8")
        for name in ASSETS:
            data = resources.files("ispyrender").joinpath(f"gallery_assets/{name}").read_bytes()
            (work / "assets" / name).write_bytes(data)
        files = sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file())
        (work / SITE_FILES).write_text(jsontext.dumps({"files": files}, indent=0) + "\n", "utf-8")
        work.chmod(0o777 & ~umask())  # mkdtemp makes it private; a site is meant to be read
        _swap_into_place(work, out)
    except OSError as exc:  # a full disk, a quota: nothing of the new site is kept
        shutil.rmtree(work, ignore_errors=True)
        raise write_error(Path(exc.filename or out), exc) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        os.close(held)
    return out / "index.html"


def _sources(source: EventSource) -> list[str]:
    return [printable(Path(path).name if "://" not in path else path) for path in source.paths]


def href(name: str) -> str:
    """A file name as a relative URL: every character that means something in a URL ("#",
    "?", "%", ":" of a scheme such as "javascript:") percent-encoded, so that a link always
    names that file. HTML escaping of the attribute is the templates' job."""
    # The name's own bytes (a name that is not UTF-8 keeps its bytes), percent-encoded.
    return quote(os.fsencode(name), safe="")


def _card(physics: PhysicsEvent, stem: str, thumb: tuple[int, int]) -> dict[str, Any]:
    source = physics.source
    card: dict[str, Any] = {
        "stem": stem,
        "page": f"events/{href(stem + '.html')}",  # from the index
        "thumb": f"thumbs/{href(stem + '.jpg')}",  # from the index
        "image": f"../images/{href(stem + '.png')}",  # from the event page
        "href": href(stem + ".html"),  # from another event page
        "index": physics.index,
        "entry": physics.entry,
        "run": physics.run,
        "lumi": physics.lumi,
        "event": physics.event,
        "source": printable(Path(source).name if "://" not in source else source),
        "simulation": bool(physics.is_simulation),
        "thumb_width": thumb[0],
        "thumb_height": thumb[1],
        "movie": None,
        "model": None,
    }
    card.update(event_summary(physics))
    return card


def _movies(source: EventSource, entries: Sequence[int], style: Style, work: Path) -> list[Path]:
    """A turntable per event, made by the animate job (webm: every browser plays it)."""
    from ispyrender.jobs.animate import animate_events

    animation = style.animation.model_copy(update={"format": "webm", "kind": "turntable"})
    movie_style = style.model_copy(update={"animation": animation})
    # The branch warnings were printed once for the pictures already.
    return animate_events(source, entries, movie_style, work / "movies", overwrite=True)


def _models(source: EventSource, entries: Sequence[int], style: Style, work: Path) -> list[Path]:
    """The three.js page per event (render --format html), linked from the event page. The
    pages share one copy of the viewer in assets/ instead of carrying 640 KB each."""
    from ispyrender.jobs.render import RenderOptions, render_events
    from ispyrender.outputs.webpage import viewer_files

    for name, data in viewer_files().items():
        (work / "assets" / name).write_bytes(data)
    options = RenderOptions(
        out=work / "models", format="html", overwrite=True, viewer_url="../assets/viewer.min.js"
    )
    summary = render_events(source, entries, style, options)
    return [r.path for r in summary.written if r.path is not None]


def _link(cards: list[dict[str, Any]], key: str, folder: str, paths: list[Path]) -> None:
    """Each card's ``key``: the link to its file among ``paths`` (in ``folder``), by stem."""
    by_stem = {p.stem: p for p in paths}
    for card in cards:
        if card["stem"] in by_stem:
            card[key] = f"../{folder}/{href(by_stem[card['stem']].name)}"
