"""The gallery site: files, escaping of hostile text, and the pages in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chromium import Browser

HOSTILE = "<script>alert(1)</script>"


def _gallery(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ispyrender", "gallery", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Four events of the built-in sample (simulation), in a file with a hostile name, with a
    hostile experiment label."""
    from ispyrender.sources.sample import sample_path

    work = tmp_path_factory.mktemp("gallery")
    hostile_file = work / "evil<img src=x onerror=alert(2)>.root"
    shutil.copy(sample_path(), hostile_file)
    done = _gallery(
        str(hostile_file),
        "--out",
        str(work / "site"),
        "-n",
        "4",
        "-q",
        "--set",
        "canvas.width=640",
        "--set",
        "canvas.height=360",
        "--set",
        f"labels.experiment={HOSTILE}",
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    return work / "site"


def test_site_files(site: Path) -> None:
    pages = sorted((site / "events").glob("*.html"))
    assert len(pages) == 4
    for page in pages:
        assert (site / "images" / f"{page.stem}.png").is_file()
        assert (site / "thumbs" / f"{page.stem}.jpg").is_file()
    for name in ("gallery.css", "gallery.js", "viewer3d.js"):
        assert (site / "assets" / name).is_file()
    from PIL import Image

    with Image.open(next((site / "thumbs").iterdir())) as thumb:
        assert thumb.size == (320, 180)
    with Image.open(next((site / "images").iterdir())) as full:
        assert full.size == (640, 360)
    # No leftovers of the build folder beside the site.
    assert [p.name for p in site.parent.iterdir() if p.name.startswith(".site")] == []


def test_hostile_text_is_escaped(site: Path) -> None:
    for page in [site / "index.html", *(site / "events").glob("*.html")]:
        text = page.read_text("utf-8")
        assert HOSTILE not in text, page
        # JSON blocks cannot end early: the only "</script>" are the real element ends, and
        # inside them "<img" is text, not markup. Everywhere else it must be escaped.
        json_block = r'<script type="application/json"[^>]*>(.*?)</script>'
        for block in re.findall(json_block, text, re.S):
            json.loads(block)
        markup = re.sub(json_block, "", text, flags=re.S)
        assert "<img src=x" not in markup, page
        assert "<script>alert" not in markup, page
    event_page = next((site / "events").glob("*.html")).read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in event_page
    index = (site / "index.html").read_text("utf-8")
    assert "evil&lt;img src=x onerror=alert(2)&gt;.root" in index


def test_existing_site_is_refused_and_overwrite_replaces_it(site: Path, tmp_path: Path) -> None:
    from ispyrender.sources.sample import sample_path

    target = tmp_path / "copy"
    shutil.copytree(site, target)
    done = _gallery(str(sample_path()), "--out", str(target), "-n", "1", "-q", cwd=tmp_path)
    assert done.returncode != 0
    assert "--overwrite" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert len(list((target / "events").iterdir())) == 4  # untouched
    done = _gallery(
        str(sample_path()),
        "--out",
        str(target),
        "-n",
        "1",
        "-q",
        "--overwrite",
        "--set",
        "canvas.width=320",
        "--set",
        "canvas.height=180",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert len(list((target / "events").iterdir())) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]


def test_bad_thumb_size_and_foreign_folder_are_one_line_errors(tmp_path: Path) -> None:
    from ispyrender.sources.sample import sample_path

    done = _gallery(str(sample_path()), "--out", "s", "--thumb-size", "big", cwd=tmp_path)
    assert done.returncode != 0 and "--thumb-size" in done.stderr
    assert not (tmp_path / "s").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    done = _gallery(
        str(sample_path()), "--out", "mine", "--overwrite", "-n", "1", "-q", cwd=tmp_path
    )
    assert done.returncode != 0 and "does not look like a gallery" in done.stderr
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


# ---- in a browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"), 1280, 900)
    yield b
    b.close()


SHOTS = Path(__file__).parent / "output" / "gallery"


def test_index_in_chromium(site: Path, browser: Browser) -> None:
    browser.open(site / "index.html")
    # Lazy images load when near the view; eager makes them all load now, as scrolling would.
    loaded = browser.js(
        """new Promise(done => {
          const imgs = [...document.querySelectorAll('#grid img')];
          imgs.forEach(i => { i.loading = 'eager'; });
          Promise.all(imgs.map(i => i.decode().catch(() => null)))
            .then(() => done(imgs.map(i => i.naturalWidth)));
        })"""
    )
    assert len(loaded) == 4 and all(w > 0 for w in loaded), loaded
    assert browser.errors() == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = browser.screenshot(SHOTS / "index.png")
    assert shot.std() > 5  # not a blank page

    data = browser.js("JSON.parse(document.getElementById('gallery-data').textContent)")
    most = max(e["counts"]["muons"] for e in data)
    expected = sorted(e["index"] for e in data if e["counts"]["muons"] >= most)
    shown = browser.js(
        f"""(() => {{
          const box = document.getElementById('min-muons');
          box.value = '{most}';
          box.dispatchEvent(new Event('input', {{bubbles: true}}));
          return [...document.querySelectorAll('.card')].filter(c => !c.hidden)
            .map(c => Number(c.dataset.index)).sort((a, b) => a - b);
        }})()"""
    )
    assert shown == expected
    assert browser.js("document.getElementById('shown').textContent").startswith(
        f"{len(expected)} of 4"
    )
    # Sorting by event number puts the cards in that order.
    order = browser.js(
        """(() => {
          const s = document.getElementById('sort'); s.value = 'event';
          document.getElementById('reset-filters').click();
          s.value = 'event'; s.dispatchEvent(new Event('change', {bubbles: true}));
          return [...document.querySelectorAll('.card')].map(c => Number(c.dataset.index));
        })()"""
    )
    by_event = [e["index"] for e in sorted(data, key=lambda e: e["event"])]
    assert order == by_event
    assert browser.errors() == []


def test_event_page_in_chromium(site: Path, browser: Browser) -> None:
    page = sorted((site / "events").glob("*.html"))[0]
    browser.open(page)
    assert browser.js("document.getElementById('picture').naturalWidth") == 640
    segments = int(browser.js("document.getElementById('view3d').dataset.segments"))
    assert segments > 50
    # The canvas is drawn: many distinct colours, not one background fill.
    colours = browser.js(
        """(() => {
          const c = document.getElementById('view3d');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const seen = new Set();
          for (let i = 0; i < d.length; i += 4 * 7) seen.add(d[i] << 16 | d[i+1] << 8 | d[i+2]);
          return seen.size;
        })()"""
    )
    assert colours > 20
    # Turning the event changes the picture.
    before = browser.js("document.getElementById('view3d').toDataURL()")
    browser.js("window.ispyView3d.setView('transverse'); window.ispyView3d.render(); 0")
    assert browser.js("document.getElementById('view3d').toDataURL()") != before
    browser.js("window.ispyView3d.setView('3d'); window.ispyView3d.render(); 0")
    rows = browser.js("document.querySelectorAll('table.objects tbody tr').length")
    assert rows > 0
    assert browser.errors() == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(SHOTS / "event.png")
