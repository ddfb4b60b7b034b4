"""The default figure in EPS, PDF and SVG, opened by the programs people open them with:
Ghostscript (EPS), qpdf and poppler (PDF), librsvg and headless Chromium (SVG). Each raster is
compared with the figure's own PNG at the same size, overall and in the header, where the
text is: each line of text there must start and end where the PNG's does, which a font of
other widths (a client's substitute for a font it cannot use) misses by 17 to 31 pixels.

The rasters are written to tests/output/vector/ for a person to look at."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from chromium import Browser
from figure_cases import DIMUON
from PIL import Image

from ispyrender.config.loader import load_style
from ispyrender.figures.layout import layout
from ispyrender.jobs.figure import FORMATS, FigureOptions, figure_events
from ispyrender.sources.nanoaod import Dataset
from ispyrender.sources.sample import sample_path

OUT = Path(__file__).parent / "output" / "vector"
# The figure's pixels per inch at --scale 1 (the paper preset's page, 7 x 2.8 in: 300): a
# raster of the PNG's size.
DPI = round(load_style("paper").figure_page()[2])

# Measured on the default figure (the paper page, 7 x 2.8 in at 300 dpi, 2100x840), the mean
# of the largest channel difference per pixel: librsvg 0.89 and Chromium 0.82 (1.29 with the
# embedded font), Ghostscript 2.04 (1.47 with outlines) and poppler 2.6 (Type 3 glyphs placed
# on whole pixels); in the header's 200 rows 1.3, 2.3, 4.7 (3.4) and 5.2. The PNG's glyphs are
# unhinted, as the clients'. Chromium with a substitute font gave 1.49 and 5.1 at 100 dpi;
# Ghostscript with the old Type 42 font drew nothing.
MEAN = 1.4
HEADER_MEAN = 2.6
GS_MEAN, GS_HEADER_MEAN = 2.3, 5.2
POPPLER_MEAN, POPPLER_HEADER_MEAN = 2.9, 5.8
#: How far (pixels at 300 dpi) a line of text may start or end from the PNG's: measured 0-4;
#: the substitute font ended 'CMS Simulation' 17 and the run line 31 pixels late at 100 dpi.
INK_SLACK = 5
GAP = 3


def _need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: apt-get install {package} (.ci/run does)")
    return path


def _figure(out: Path, formats: tuple[str, ...], *overrides: str) -> dict[str, Path]:
    """The figure `ispyrender figure` writes by default (paper style, the sample's first
    event, --scale 1) in ``formats``."""
    style = load_style("paper", list(overrides))
    with Dataset([str(sample_path())]) as dataset:
        summary = figure_events(dataset, [DIMUON], style, FigureOptions(out, formats))
    return {p.suffix[1:]: p for p in summary.paths}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _figure(tmp_path_factory.mktemp("default"), FORMATS)


@pytest.fixture(scope="module")
def png(files: dict[str, Path]) -> np.ndarray:
    return np.asarray(Image.open(files["png"]).convert("RGB"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, png: np.ndarray) -> Iterator[Browser]:
    height, width = png.shape[:2]
    chrome = Browser(tmp_path_factory.mktemp("profile"), width, height)
    yield chrome
    chrome.close()


def _header_rows(png: np.ndarray) -> int:
    """Pixel rows of the figure's header (the label, the masses, the energy scale)."""
    return round(layout(load_style("paper")).header[3] * png.shape[0])


def _text_lines(image: np.ndarray, rows: int) -> list[tuple[int, int, int, int]]:
    """The box (x0, y0, x1, y1) of each line of text in each third of the header: left, 'CMS
    Simulation' over the run line; middle, the masses; right, the energy scale. A line is a
    run of rows with dark pixels, gaps of up to GAP rows included (the tail of a comma)."""
    boxes = []
    third = image.shape[1] // 3
    for i in range(3):
        ink = image[:rows, i * third : (i + 1) * third].mean(axis=-1) < 128
        inked = np.flatnonzero(ink.any(axis=1))
        for run in np.split(inked, np.flatnonzero(np.diff(inked) > GAP) + 1):
            if run.size:
                xs = np.flatnonzero(ink[run].any(axis=0)) + i * third
                boxes.append((int(xs[0]), int(run[0]), int(xs[-1]), int(run[-1])))
    return boxes


def _compare(
    raster: np.ndarray,
    png: np.ndarray,
    name: str,
    mean: float = MEAN,
    header_mean: float = HEADER_MEAN,
) -> None:
    """``raster`` (a client's drawing of the figure) against the PNG: same size, close
    overall and in the header, and the same text extents."""
    OUT.mkdir(parents=True, exist_ok=True)
    Image.fromarray(raster).save(OUT / f"{name}.png")
    assert raster.shape == png.shape, name
    diff = np.abs(raster.astype(int) - png.astype(int)).max(axis=-1)
    rows = _header_rows(png)
    assert diff.mean() < mean, (name, diff.mean())
    assert diff[:rows].mean() < header_mean, (name, diff[:rows].mean())
    expected, found = _text_lines(png, rows), _text_lines(raster, rows)
    assert len(expected) == 4, expected  # the PNG's header: two lines, one and one
    assert len(found) == len(expected), (name, "lines of text", expected, found)
    for want, got in zip(expected, found, strict=True):
        assert max(abs(a - b) for a, b in zip(want, got, strict=True)) <= INK_SLACK, (
            name,
            want,
            got,
        )


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _ghostscript(eps: Path, target: Path) -> np.ndarray:
    gs = _need("gs", "ghostscript")
    result = subprocess.run(
        [gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=png16m", f"-r{DPI}",
         "-dEPSCrop", "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4",
         f"-sOutputFile={target}", str(eps)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    # Ghostscript 10 stopped at '/invalidfont in definefont' on the Type 42 font.
    assert result.returncode == 0 and not result.stdout + result.stderr, result.stdout[-2000:]
    return _rgb(target)


def test_eps_renders_in_ghostscript(
    files: dict[str, Path], png: np.ndarray, tmp_path: Path
) -> None:
    assert files["eps"].read_bytes().startswith(b"%!PS-Adobe-3.0 EPSF-3.0")
    raster = _ghostscript(files["eps"], tmp_path / "eps.png")
    _compare(raster, png, "eps_ghostscript", GS_MEAN, GS_HEADER_MEAN)


def _pdffonts(pdf: Path) -> list[list[str]]:
    """pdffonts' rows (name, type..., emb, sub, uni, id), after it says nothing on stderr."""
    result = subprocess.run(
        [_need("pdffonts", "poppler-utils"), str(pdf)], capture_output=True, text=True
    )
    # poppler's 'Syntax Warning: Mismatch between font type and embedded font file' went here.
    assert result.returncode == 0 and not result.stderr, result.stderr
    return [line.split() for line in result.stdout.splitlines()[2:]]


def test_pdf_is_clean_with_embedded_searchable_fonts(
    files: dict[str, Path], png: np.ndarray, tmp_path: Path
) -> None:
    pdf = files["pdf"]
    check = subprocess.run([_need("qpdf", "qpdf"), "--check", str(pdf)], capture_output=True)
    out = (check.stdout + check.stderr).decode()
    assert check.returncode == 0 and "No syntax or stream encoding errors" in out, out
    assert "WARNING" not in out.upper(), out
    fonts = _pdffonts(pdf)
    assert fonts and {f[0].split("+")[-1] for f in fonts} >= {
        "TeXGyreHeros-Regular",
        "TeXGyreHeros-Bold",
        "TeXGyreHeros-Italic",
    }
    # emb, sub, uni: every font embedded (a subset) with a map back to Unicode.
    assert all(f[-5:-2] == ["yes", "yes", "yes"] for f in fonts), fonts
    text = subprocess.run(
        [_need("pdftotext", "poppler-utils"), str(pdf), "-"], capture_output=True, text=True
    ).stdout
    for words in ("CMS Simulation", "m(μ +μ −) = 89.3 GeV", "Run 1, Lumi section 1, Event 1001"):
        assert words in text, (words, text)  # the mass is mathtext
    height, width = png.shape[:2]  # at -r 100 poppler rounds 760.0 rows up to 761
    subprocess.run(
        ["pdftoppm", "-scale-to-x", str(width), "-scale-to-y", str(height), "-png",
         "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True, capture_output=True,
    )  # fmt: skip
    raster = _rgb(tmp_path / "page.png")
    _compare(raster, png, "pdf_poppler", POPPLER_MEAN, POPPLER_HEADER_MEAN)


def test_svg_renders_in_librsvg(files: dict[str, Path], png: np.ndarray, tmp_path: Path) -> None:
    height, width = png.shape[:2]
    result = subprocess.run(
        [_need("rsvg-convert", "librsvg2-bin"), "-w", str(width), "-h", str(height),
         "-b", "white", "-o", str(tmp_path / "svg.png"), str(files["svg"])],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0 and not result.stderr, result.stderr
    _compare(_rgb(tmp_path / "svg.png"), png, "svg_librsvg")


def _chromium(browser: Browser, svg: Path, png: np.ndarray, name: str) -> None:
    """The SVG opened in Chromium and drawn at the PNG's size."""
    height, width = png.shape[:2]
    browser.open(svg)
    browser.js(
        f"document.documentElement.setAttribute('width', '{width}');"
        f"document.documentElement.setAttribute('height', '{height}')"
    )
    browser.js("document.fonts.ready.then(() => true)")
    assert browser.errors() == []
    _compare(browser.screenshot(), png, name)


def test_svg_text_is_outlines_and_renders_in_chromium(
    files: dict[str, Path], png: np.ndarray, browser: Browser
) -> None:
    svg = files["svg"].read_text()
    # No <text>: librsvg and Inkscape would draw it in a system font (they ignore @font-face).
    assert "<text" not in svg and "<!-- CMS -->" in svg and "<!-- Simulation -->" in svg
    _chromium(browser, files["svg"], png, "svg_chromium")


def test_svg_with_embedded_font_renders_in_chromium(
    tmp_path: Path, png: np.ndarray, browser: Browser
) -> None:
    """output.vector_text: embed keeps <text> (editable) with the fonts as @font-face; a
    browser draws it as the PNG."""
    svg = _figure(tmp_path, ("svg",), "output.vector_text=embed")["svg"]
    text = svg.read_text()
    assert ">CMS</text>" in text and ">Simulation</text>" in text
    assert text.count("@font-face") >= 3 and "src: url(data:font/woff;base64," in text
    _chromium(browser, svg, png, "svg_embed_chromium")
    faces = browser.js("Array.from(document.fonts).map(f => f.family + ':' + f.status)")
    assert len(faces) >= 3 and all(f.endswith(":loaded") for f in faces), faces


def test_outlines_leave_no_font(tmp_path: Path, png: np.ndarray) -> None:
    """output.vector_text: outlines draws every text as paths: no font in the PDF, and the
    EPS still renders as the PNG."""
    paths = _figure(tmp_path, ("pdf", "eps"), "output.vector_text=outlines")
    assert _pdffonts(paths["pdf"]) == []
    assert b"TeXGyreHeros" not in paths["eps"].read_bytes()
    raster = _ghostscript(paths["eps"], tmp_path / "eps.png")
    _compare(raster, png, "eps_outlines_ghostscript", GS_MEAN, GS_HEADER_MEAN)
