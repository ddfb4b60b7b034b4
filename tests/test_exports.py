"""HTML event pages: written by `render --format html`, self-contained (nothing fetched, so they
open from file://), and drawn by a real browser: headless Chromium, WebGL through SwiftShader,
driven over the DevTools protocol to collect console errors and take a screenshot."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from chromium import CHROMIUM, Browser, axe_violations
from node_clients import npm_package
from PIL import Image

from ispyrender.config.loader import load_style
from ispyrender.outputs.webpage import event_page, viewer_script
from ispyrender.scene.labels import label_block
from ispyrender.scene.primitives import LegendEntry


def _render(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ispyrender", "render", "--quiet", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "pages"
    done = _render(out.parent, "--out", str(out), "--events", "0,1", "--format", "html")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def _open(browser: Browser, page: Path) -> tuple[str, np.ndarray]:
    """Load ``page``, wait until the viewer says it drew (or failed), return state and pixels."""
    browser.navigate(page)
    state = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = browser.call(
            "Runtime.evaluate",
            session=True,
            expression="(document.body && document.body.dataset.ready) || "
            "(document.getElementById('status') || {}).textContent || ''",
            returnByValue=True,
        )
        state = got["result"].get("value") or ""
        if state:
            break
        time.sleep(0.2)
    return state, browser.screenshot()


def test_page_draws_the_event_in_chromium(pages, browser, tmp_path):
    page = next(iter(sorted(pages.glob("*.html"))))
    state, image = _open(browser, page)
    assert state == "1", f"viewer did not finish: {state!r}; errors: {browser.errors()}"
    assert browser.errors() == []
    # three.js kept every node name as written (it strips "/" and "." from names): the parts
    # list shows the detector's parts under "detector", and the event's collections.
    parts = browser.js("[...document.querySelectorAll('#parts label')].map(l => l.textContent)")
    names = [p.strip() for p in parts]
    assert names[0] == "detector" and {"ecal_barrel", "muon_barrel", "Muon", "PV"} <= set(names)
    axe = (npm_package("tools") / "node_modules" / "axe-core" / "axe.min.js").read_text()
    assert axe_violations(browser, axe) == []
    # Only the page itself is loaded: no CDN, no side files.
    assert browser.requests() == [page.as_uri()]
    Image.fromarray(image).save(tmp_path / "page.png")  # for a person to look at on failure
    assert image.shape[:2] == (600, 800)
    # The canvas area (right of the labels, above the help line) holds a picture, not a
    # blank background: many distinct colours and clearly non-zero variance.
    canvas = image[150:560, 200:780].reshape(-1, 3)
    assert canvas.std(axis=0).max() > 10
    assert len(np.unique(canvas, axis=0)) > 500
    # The muons (red tubes about a pixel wide, blended into the grey detector) show as
    # clearly red pixels: the page draws the event, not only the detector.
    rgb = canvas.astype(int)
    red = (rgb[:, 0] - rgb[:, 1] > 40) & (rgb[:, 0] - rgb[:, 2] > 40)
    assert red.sum() > 50


def test_broken_model_is_a_console_error(browser, tmp_path):
    style = load_style("publication")
    block = label_block(run=1, lumi=2, event=3, is_simulation=False, legend=[], style=style)
    page = tmp_path / "broken.html"
    page.write_bytes(event_page(b"not a glb", block, style))
    state, _ = _open(browser, page)
    assert "cannot read the event model" in state
    assert any("cannot read the event model" in e for e in browser.errors())


def test_page_is_self_contained_and_escapes_text(tmp_path):
    style = load_style("outreach")
    legend = [LegendEntry("<b>Muons</b>", (1.0, 0.0, 0.0), 2)]
    block = label_block(run=7, lumi=None, event=9, is_simulation=True, legend=legend, style=style)
    glb = _render_one_glb(tmp_path)
    text = event_page(glb, block, style).decode()
    assert "&lt;b&gt;Muons&lt;/b&gt; (2)" in text
    assert "Run 7, Event 9" in text and "<i>Simulation</i>" in text
    # Nothing to fetch: the page around the bundled viewer (three.js has loaders that the
    # viewer never calls) names no external script, stylesheet or URL.
    assert "</" not in viewer_script() and text.count(viewer_script()) == 1
    shell = text.replace(viewer_script(), "")
    assert not re.search(r"""(src|href)\s*=|https?://|import\s|fetch\(""", shell)
    # The embedded model is the GLB, byte for byte.
    found = re.search(r'id="event-glb">([^<]*)<', text)
    assert found and base64.b64decode(found.group(1)) == glb


def _render_one_glb(tmp_path: Path) -> bytes:
    out = tmp_path / "glb"
    done = _render(tmp_path, "--out", str(out), "--events", "0", "--format", "glb")
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("*.glb")
    gltf = pygltflib.GLTF2().load(str(path))
    assert any(n.name == "Muon" for n in gltf.nodes)
    return path.read_bytes()


def test_html_names_follow_the_template_and_existing_files_are_refused(pages, tmp_path):
    names = sorted(p.name for p in pages.iterdir())
    assert names == ["1_1_1001.html", "1_1_1002.html"]
    done = _render(tmp_path, "--out", str(pages), "--events", "0", "--format", "html")
    assert done.returncode != 0
    assert "already exist" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_unknown_format_names_html(tmp_path):
    done = _render(tmp_path, "--out", str(tmp_path / "x"), "--format", "vrml")
    assert done.returncode != 0 and "html" in done.stderr
    assert not (tmp_path / "x").exists()


def test_chromium_is_installed_by_ci():
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert re.search(r"for pkg in [^;]*\bchromium\b", ci)
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
