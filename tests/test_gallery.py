"""The gallery site: files, escaping of hostile text, and the pages in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from chromium import Browser, axe_violations
from node_clients import npm_package

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
        "--models",
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


def test_thumbnails_are_drawn_for_their_size_without_labels(site: Path) -> None:
    """A thumbnail is the event drawn for 320x180 without the labels (unreadable there; the
    card writes them), not the full picture shrunk: its top-left corner, where the full
    picture has "CMS" and the event line, matches the picture drawn without labels."""
    import numpy as np
    from PIL import Image

    from ispyrender import api

    stem = sorted(p.stem for p in (site / "thumbs").iterdir())[0]
    with Image.open(site / "thumbs" / f"{stem}.jpg") as im:
        thumb = np.asarray(im.convert("RGB"), dtype=float)
    with Image.open(site / "images" / f"{stem}.png") as im:
        shrunk = np.asarray(im.convert("RGB").resize((320, 180), Image.Resampling.LANCZOS))
    events = api.open(None)
    (event,) = [e for e in events if "_".join(map(str, e.id)) == stem]
    bare = api.render(
        event,
        "outreach",
        canvas__width=640,
        canvas__height=360,
        labels__show=False,
        camera__focus="series",  # the gallery's camera
    ).array
    bare_small = np.asarray(Image.fromarray(bare[..., :3]).resize((320, 180), Image.LANCZOS))
    corner = (slice(0, 45), slice(0, 110))
    unlabelled = np.abs(thumb[corner] - bare_small[corner]).mean()
    labelled = np.abs(thumb[corner] - shrunk[corner]).mean()
    assert unlabelled < 8 and labelled > 2 * unlabelled, (unlabelled, labelled)


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
    assert done.returncode != 0 and "did not write there (thesis.tex)" in done.stderr
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_overwrite_never_removes_what_the_user_put_in_a_gallery(site: Path, tmp_path: Path) -> None:
    """A gallery with an index.html that also holds the user's files (a thesis beside it, a
    figure in images/) is not replaced: only a folder that holds nothing but our site is."""
    from ispyrender.sources.sample import sample_path

    for extra in ("thesis.tex", "figs/plot.pdf", "images/mine.png"):
        target = tmp_path / f"copy-{extra.replace('/', '-')}"
        shutil.copytree(site, target)
        (target / extra).parent.mkdir(exist_ok=True)
        (target / extra).write_text("precious")
        before = sorted(str(p.relative_to(target)) for p in target.rglob("*"))
        done = _gallery(
            str(sample_path()), "--out", str(target), "--overwrite", "-n", "1", "-q", cwd=tmp_path
        )
        assert done.returncode != 0 and extra in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == before


def test_out_dot_is_refused_before_rendering(tmp_path: Path) -> None:
    from ispyrender.sources.sample import sample_path

    for out in (".", str(tmp_path), ".."):
        done = _gallery(str(sample_path()), "--out", out, "--overwrite", "-n", "1", cwd=tmp_path)
        assert done.returncode != 0 and "current folder" in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_killed_builds_folder_is_removed_by_the_next_build(tmp_path: Path) -> None:
    """A build killed with SIGKILL leaves its hidden .NAME.*.irbuild folder: the next build of
    that gallery removes it (a build still running holds a lock on its folder and is kept)."""
    import signal

    from ispyrender.sources.sample import sample_path

    command = ["gallery", str(sample_path()), "--out", "site", "-n", "40", "-q"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ispyrender", *command],
        cwd=tmp_path,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(tmp_path.glob(".site.*.irbuild/images/*.png")):
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (left,) = tmp_path.glob(".site.*.irbuild")
    done = _gallery(str(sample_path()), "--out", "site", "-n", "1", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert not left.exists()


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
    # Every colour the viewer is given is a CSS colour (the canvas ignores anything else).
    view = browser.js("JSON.parse(document.getElementById('event-3d').textContent)")
    colours = [t["color"] for t in view["tracks"]] + [j["color"] for j in view["jets"]]
    colours += [p["color"] for p in view["photons"]]
    assert colours and all(re.fullmatch("#[0-9a-f]{6}", c) for c in colours), colours
    rows = browser.js("document.querySelectorAll('table.objects tbody tr').length")
    assert rows > 0
    assert browser.errors() == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(SHOTS / "event.png")


def _wait_ready(browser: Browser) -> str:
    deadline = time.monotonic() + 30
    state = ""
    while time.monotonic() < deadline and not state:
        state = browser.js(
            "document.body.dataset.ready || document.getElementById('status').textContent"
        )
        time.sleep(0.1)
    return str(state)


def test_model_pages_share_one_viewer_and_draw(site: Path, browser: Browser) -> None:
    """A gallery's three.js pages load one shared viewer script instead of carrying 640 KB
    each; a page from `render --format html` still stands alone (tests/test_exports.py)."""
    viewer = site / "assets" / "viewer.min.js"
    assert viewer.stat().st_size > 500_000 and (site / "assets" / "three-LICENSE").is_file()
    models = sorted((site / "models").glob("*.html"))
    assert len(models) == 4
    for page in models:
        text = page.read_text()
        assert text.count('<script src="../assets/viewer.min.js"></script>') == 1
        assert "three.js authors" not in text  # the bundle's banner: not inlined
    browser.open(models[0])
    assert _wait_ready(browser) == "1", browser.errors()
    assert browser.errors() == []
    assert any(url.endswith("/assets/viewer.min.js") for url in browser.requests())
    browser.screenshot(SHOTS / "model.png")


def test_pages_pass_axe_core(site: Path, browser: Browser) -> None:
    """Landmarks, names, alt text, contrast...: axe-core (the engine of Lighthouse's and the
    browsers' accessibility audits) finds no violation on any kind of page."""
    axe = (npm_package("tools") / "node_modules" / "axe-core" / "axe.min.js").read_text()
    pages = [
        site / "index.html",
        sorted((site / "events").glob("*.html"))[0],
        sorted((site / "models").glob("*.html"))[0],
    ]
    for page in pages:
        browser.open(page)
        if page.parent.name == "models":
            assert _wait_ready(browser) == "1"  # the parts list is built once the model is in
        assert axe_violations(browser, axe) == [], page.name


def _press(browser: Browser, key: str, code: int, shift: bool = False) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        browser.call(
            "Input.dispatchKeyEvent",
            session=True,
            type=kind,
            key=key,
            code=key,
            windowsVirtualKeyCode=code,
            modifiers=8 if shift else 0,
        )


def test_keyboard_reaches_and_turns_the_3d_views(site: Path, browser: Browser) -> None:
    browser.open(sorted((site / "events").glob("*.html"))[0])
    for _ in range(40):  # Tab through the links until the 3D view has the focus
        _press(browser, "Tab", 9)
        if browser.js("document.activeElement.id") == "view3d":
            break
    assert browser.js("document.activeElement.id") == "view3d"
    yaw = browser.js("window.ispyView3d.state.yaw")
    _press(browser, "ArrowRight", 39)
    assert browser.js("window.ispyView3d.state.yaw") == pytest.approx(yaw + 0.1)
    # The three.js page: its canvas takes the focus and OrbitControls' keys move the camera.
    browser.open(sorted((site / "models").glob("*.html"))[0])
    assert _wait_ready(browser) == "1"
    for _ in range(10):
        _press(browser, "Tab", 9)
        if browser.js("document.activeElement.tagName") == "CANVAS":
            break
    assert browser.js("document.activeElement.tagName") == "CANVAS"
    before = browser.js("document.querySelector('canvas').toDataURL()")
    _press(browser, "ArrowLeft", 37, shift=True)
    browser.js("new Promise(r => requestAnimationFrame(() => r(0)))")
    assert browser.js("document.querySelector('canvas').toDataURL()") != before
    assert browser.errors() == []


def test_hostile_file_names_make_links_to_those_files(tmp_path: Path, browser: Browser) -> None:
    """A source name with URL syntax in it ("javascript:", "#", "?", "%", "<!--") gives links
    that open that very file, and the index's data still parses (filters and sorting work)."""
    from ispyrender.sources.sample import sample_path

    hostile = tmp_path / "javascript:alert(1)#?%<!--x.root"
    shutil.copy(sample_path(), hostile)
    done = _gallery(
        str(hostile),
        "--out",
        str(tmp_path / "site"),
        "-n",
        "2",
        "-q",
        "--set",
        "output.name_template={source}_{event}.png",
        "--set",
        "canvas.width=320",
        "--set",
        "canvas.height=180",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    browser.open(site / "index.html")
    assert browser.errors() == []
    assert browser.js("Object.keys(window.ispyGallery.events).length") == 2
    links = browser.js("[...document.querySelectorAll('#grid a')].map(a => a.href)")
    images = browser.js("[...document.querySelectorAll('#grid img')].map(i => i.src)")
    for url in links + images:
        assert url.startswith("file://"), url
        assert Path(unquote(url.removeprefix("file://"))).is_file(), url
    # The "next" link of the first event page leads to the second page.
    browser.open(Path(unquote(links[0].removeprefix("file://"))))
    nxt = browser.js("document.querySelector('a[rel=next]').href")
    assert nxt.startswith("file://") and Path(unquote(nxt.removeprefix("file://"))).is_file()
    assert browser.js("document.getElementById('picture').naturalWidth") == 320
    assert browser.errors() == []


def test_input_name_that_is_not_utf8_makes_a_working_gallery(tmp_path: Path) -> None:
    """A file name with bytes that are not UTF-8 (os.fsdecode's surrogates): the pages are
    written, shown as \\xNN, and every link names the file by its own bytes."""
    import os
    from urllib.parse import unquote_to_bytes

    from ispyrender.sources.sample import sample_path

    name = os.fsdecode(os.fsencode(tmp_path) + b"/ev\xff\xfe.root")
    shutil.copy(sample_path(), name)
    done = _gallery(
        name,
        "--out",
        "site",
        "-n",
        "2",
        "-q",
        "--set",
        "output.name_template={source}_{event}.png",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    index = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert "ev\\xff\\xfe.root" in index  # the source, readable
    links = re.findall(r'(?:href|src)="((?:events|thumbs)/[^"]+)"', index)
    assert len(links) == 4
    for link in links:
        path = os.fsencode(tmp_path / "site") + b"/" + unquote_to_bytes(link)
        assert os.path.isfile(path), link


def test_overwrite_edge_cases_never_lose_a_folder(site: Path, tmp_path: Path) -> None:
    """A link as --out is refused (renaming would replace the link, not the folder); an
    empty folder or a link of the user's inside a gallery counts as theirs; a gallery left as
    ".NAME.*.irold" by a build killed between its two renames is put back, then replaced."""
    from ispyrender.sources.sample import sample_path

    args = [str(sample_path()), "-n", "1", "-q", "--overwrite"]
    real = tmp_path / "real"
    shutil.copytree(site, real)
    (tmp_path / "link").symlink_to(real)
    done = _gallery(*args, "--out", "link", cwd=tmp_path)
    assert done.returncode != 0 and "is a link" in done.stderr, done.stderr
    for extra in ("mine/", "images/shortcut"):
        target = tmp_path / f"with-{extra.strip('/').replace('/', '-')}"
        shutil.copytree(site, target)
        if extra.endswith("/"):
            (target / extra).mkdir()
        else:
            (target / extra).symlink_to(real / "index.html")
        done = _gallery(*args, "--out", str(target), cwd=tmp_path)
        assert done.returncode != 0 and extra in done.stderr, done.stderr
        assert (target / extra.rstrip("/")).is_symlink() or (target / extra).is_dir()
    swapped = tmp_path / ".back.a1b2c3d4.irold"
    shutil.copytree(site, swapped)
    done = _gallery(*args, "--out", "back", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not swapped.exists() and len(list((tmp_path / "back" / "events").iterdir())) == 1
