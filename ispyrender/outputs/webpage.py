"""A standalone interactive HTML page per event: the event's GLB and a three.js viewer inlined.

The page must open offline from file:// (outreach laptops, e-mail attachments), so nothing is
fetched: the viewer (three.js + GLTFLoader + OrbitControls, bundled once into
``web/viewer.min.js`` by ``web/build.sh``) is inlined as a classic script and the model as base64
text that the viewer decodes itself. Browsers refuse fetch() of local files and ES-module
imports from file://, which rules out both a side-car .glb and an import map of files.

Pages that travel together (a gallery's) can instead share one copy of the viewer as a plain
``<script src>``, which file:// allows: ``viewer_url`` names it, and :func:`viewer_files` gives
the files to put there.
"""

from __future__ import annotations

import base64
import html
from functools import cache
from importlib import resources

from ispyrender import __version__
from ispyrender.config.style import Style, parse_color
from ispyrender.outputs import jsontext
from ispyrender.scene.labels import LabelBlock


@cache
def viewer_script() -> str:
    """The bundled viewer, read once per process (640 KB). It holds no "</" (tests check), so
    it can be inlined as it is: escaping inside code rather than strings would break it."""
    return resources.files("ispyrender").joinpath("web/viewer.min.js").read_text("utf-8")


def viewer_files() -> dict[str, bytes]:
    """The viewer as separate files, for pages that share it: the script and three.js's
    licence, which must travel with it."""
    web = resources.files("ispyrender").joinpath("web")
    return {name: web.joinpath(name).read_bytes() for name in ("viewer.min.js", "three-LICENSE")}


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def script_json(value: object) -> str:
    """JSON to put inside a <script> element (this page's, and the gallery's pages). Only
    "</" and "<!--" can end or bend the element early, and "<" appears only inside JSON
    strings, where "\\u003c" means the same and is valid JSON ("<\\!--" is not). ASCII, so
    that text from file names that are not UTF-8 (lone surrogates) can be written."""
    text = jsontext.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c")


def event_page(glb: bytes, block: LabelBlock, style: Style, viewer_url: str | None = None) -> bytes:
    """The HTML page showing the model ``glb`` with the label block as HTML text. The viewer
    is inlined (the page stands alone) unless ``viewer_url`` names a shared copy of it."""
    background = _hex(parse_color(style.canvas.background))
    text_color = _hex(parse_color(style.labels.color))
    title = " ".join([f"{block.experiment} event display", *block.info])
    model = base64.b64encode(glb).decode("ascii")
    config = {
        "background": background,
        "generator": f"ispyrender {__version__}",
        "label": f"3D model of {title}: drag to turn, wheel to zoom, arrows to pan",
    }
    script = (
        f"<script>{viewer_script()}</script>"
        if viewer_url is None
        else f'<script src="{html.escape(viewer_url)}"></script>'
    )
    info = "".join(f"<div class=info>{html.escape(line)}</div>" for line in block.info)
    legend = "".join(
        f'<div class=entry><span class=swatch style="background:{_hex(e.color)}"></span>'
        f"{html.escape(e.label)} ({e.count})</div>"
        for e in block.legend
    )
    labels = ""
    if style.labels.show:
        labels = (
            f"<div id=labels><div class=experiment><b>{html.escape(block.experiment)}</b> "
            f"<i>{html.escape(block.qualifier)}</i></div>{info}"
            f"<div id=legend>{legend}</div></div>"
        )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ispyrender {html.escape(__version__)}">
<title>{html.escape(title)}</title>
<style>
html, body {{ margin: 0; height: 100%; overflow: hidden; background: {background};
  color: {text_color}; font-family: "Helvetica Neue", Helvetica, Arial, sans-serif; }}
#viewer {{ position: absolute; inset: 0; }}
#labels {{ position: absolute; left: 16px; top: 12px; pointer-events: none; }}
.experiment {{ font-size: 28px; }}
.info {{ font-size: 15px; margin-top: 2px; }}
#legend {{ margin-top: 10px; font-size: 14px; }}
.swatch {{ display: inline-block; width: 12px; height: 12px; margin-right: 6px; }}
#parts {{ position: absolute; right: 12px; top: 12px; font-size: 12px; display: flex;
  flex-direction: column; opacity: 0.85; }}
#status {{ position: absolute; left: 16px; bottom: 12px; font-size: 14px; }}
#help {{ position: absolute; right: 12px; bottom: 12px; font-size: 12px; opacity: 0.7; }}
.visually-hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }}
canvas:focus-visible {{ outline: 2px solid {text_color}; outline-offset: -2px; }}
</style>
</head>
<body>
<main>
<h1 class="visually-hidden">{html.escape(title)}</h1>
<div id="viewer"></div>
{labels}
<details id="parts"><summary>Parts</summary></details>
<div id="status" role="status"></div>
<div id="help">drag: rotate &middot; right-drag: pan &middot; wheel: zoom &middot;
keyboard (click or Tab to the view): arrows pan, Shift+arrows rotate</div>
</main>
<script type="application/json" id="event-config">{script_json(config)}</script>
<script type="application/octet-stream" id="event-glb">{model}</script>
{script}
</body>
</html>
"""
    return page.encode("utf-8")
