"""The figure job end to end: a three-panel figure as image regression, the same figure as
SVG (XML with text outlines and vector paths), PDF (rasterised close to the PNG) and EPS,
transparency, tiling past the GL's limit, and one-line errors that leave nothing behind."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from figure_cases import DIMUON, update_option
from image_compare import check_image
from PIL import Image
from typer.testing import CliRunner

from ispyrender.cli import app
from ispyrender.config.loader import load_style
from ispyrender.errors import OutputError
from ispyrender.figures.layout import panel_sizes, qualifier
from ispyrender.jobs.figure import FigureOptions, figure_events, parse_formats
from ispyrender.rendering.panels import PanelRenderers, unpremultiply
from ispyrender.sources.nanoaod import Dataset
from ispyrender.sources.sample import sample_path

SVG = "{http://www.w3.org/2000/svg}"
SCALE = 0.3  # the paper preset (7 x 2.8 inches at 300 dpi) at 90 dpi: 630x252, the same layout


@pytest.fixture
def update(request: pytest.FixtureRequest) -> bool:
    return update_option(request)


@pytest.fixture(scope="module")
def paper_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The paper preset's figure of the sample's Z -> mu mu event in all four formats."""
    out = tmp_path_factory.mktemp("paper")
    style = load_style("paper")
    options = FigureOptions(out=out, formats=("png", "svg", "pdf", "eps"), scale=SCALE)
    warnings: list[str] = []
    with Dataset([str(sample_path())]) as dataset:
        summary = figure_events(dataset, [DIMUON], style, options, warn=warnings.append)
    assert any("3D panel is embedded as a raster" in w for w in warnings)
    return {p.suffix[1:]: p for p in summary.paths}


def test_three_panel_image(paper_files: dict[str, Path], update: bool) -> None:
    image = np.asarray(Image.open(paper_files["png"]).convert("RGB"))
    assert image.shape == (252, 630, 3)
    check_image("figure_paper_three_panels", image, update)


def test_svg_is_xml_with_text_and_track_paths(paper_files: dict[str, Path]) -> None:
    svg = paper_files["svg"].read_text()
    root = ET.fromstring(svg)
    # Text as glyph outlines (output.vector_text: auto; tests/test_vector_clients.py says
    # why), each text a group of glyph uses after a comment that says what it reads.
    assert not list(root.iter(f"{SVG}text"))
    texts = re.findall(r"<!-- (.*?) -->", svg)
    assert "CMS" in texts and "Simulation" in texts
    assert any(t.startswith("Run 1, Lumi section 1, Event") for t in texts)
    glyphs = [u.get("{http://www.w3.org/1999/xlink}href", "") for u in root.iter(f"{SVG}use")]
    assert any(g.startswith("#TeXGyreHeros-Bold-") for g in glyphs)
    muon = load_style("paper").collections.muons.color.lower()
    track_paths = [
        p for p in root.iter(f"{SVG}path") if f"stroke: {muon}" in (p.get("style") or "")
    ]
    # The muons of the rho-phi and rho-z panels: vector paths with many points (helices).
    assert len(track_paths) >= 2
    # Curves, not single segments (matplotlib simplifies straight runs of a helix).
    assert max(p.get("d", "").count("L") for p in track_paths) > 3
    # The 3D panel is one embedded raster.
    assert len(list(root.iter(f"{SVG}image"))) == 1


def test_pdf_rasterises_close_to_the_png(paper_files: dict[str, Path], tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm not found: install poppler-utils (.ci/run does)")
    png = np.asarray(Image.open(paper_files["png"]).convert("RGB")).astype(int)
    # The page is 7 x 2.8 inches; 90 dpi gives the PNG's 630 x 252 pixels.
    subprocess.run(
        ["pdftoppm", "-r", "90", "-png", "-singlefile", str(paper_files["pdf"]),
         str(tmp_path / "page")],
        check=True, capture_output=True,
    )  # fmt: skip
    page = np.asarray(Image.open(tmp_path / "page.png").convert("RGB")).astype(int)
    assert page.shape == png.shape
    diff = np.abs(page - png).max(axis=-1)
    # Two rasterisers (Agg, poppler's Splash) differ only at anti-aliased edges: the mean
    # grows with the number of edges (790 muon chambers and 72 HCAL wedges outlined: 4.2 at
    # 30 dpi), while differences over a quarter of the range stay rare.
    assert diff.mean() < 5.5  # 5.2 on the paper page (its outlines are in points)
    assert (diff > 64).mean() < 0.025  # 0.022 on the paper page at 90 dpi
    text = subprocess.run(
        ["pdftotext", str(paper_files["pdf"]), "-"], capture_output=True, text=True
    ).stdout
    # The opposite-sign pair, its charges as superscripts ("m(μ+μ−)" in pdftotext's words).
    assert "CMS" in text and "Simulation" in text and "m(μ" in text and "−)" in text


def test_eps_is_postscript_with_embedded_fonts(paper_files: dict[str, Path]) -> None:
    head = paper_files["eps"].read_bytes()
    assert head.startswith(b"%!PS-Adobe-3.0 EPSF-3.0")
    assert b"%%BoundingBox:" in head
    assert b"TeXGyreHeros" in head  # text written with the font, not as outlines


def test_png_is_labelled_with_the_event(paper_files: dict[str, Path]) -> None:
    from ispyrender.outputs.files import read_png_text

    text = read_png_text(paper_files["png"])
    assert text["ispyrender.style"] == "paper"
    assert text["ispyrender.event"] == paper_files["png"].stem.split("_")[-1]


def test_transparent_png_has_partial_alpha_without_halo(tmp_path: Path) -> None:
    style = load_style("paper", ["canvas.transparent=true"])
    with Dataset([str(sample_path())]) as dataset:
        summary = figure_events(dataset, [DIMUON], style, FigureOptions(tmp_path, scale=SCALE))
    image = np.asarray(Image.open(summary.paths[0]))
    assert image.shape[2] == 4
    alpha = image[..., 3]
    assert alpha[0, 0] == 0 and (alpha == 0).mean() > 0.4
    edges = (alpha > 0) & (alpha < 255)
    assert edges.mean() > 0.005  # anti-aliased edges keep partial alpha
    # No white fringe: where alpha is partial in the 3D panel the colour is not the
    # (white) background the style names.
    left = image[:, : image.shape[1] // 3]
    partial = left[(left[..., 3] > 0) & (left[..., 3] < 128)]
    assert partial[..., :3].min(axis=1).mean() < 235


def test_unpremultiply() -> None:
    pixel = np.array([[[128, 64, 0, 128], [0, 0, 0, 0], [10, 20, 30, 255]]], dtype=np.uint8)
    out = unpremultiply(pixel)
    assert out[0, 0].tolist() == [255, 127, 0, 128]  # 64 / (128 / 255) = 127.5, to even
    assert out[0, 1].tolist() == [0, 0, 0, 0]
    assert out[0, 2].tolist() == [10, 20, 30, 255]


def test_tiles_stitch_to_the_requested_size() -> None:
    """With a pretend GL limit of 80 pixels the 3D panel is rendered in tiles and stitched:
    the same picture, at exactly the panel's size. (VTK's tiling shows bands of noise where a
    window under about 100 pixels is tiled four times or more; real limits are thousands of
    pixels.)"""
    from figure_cases import sample_event

    style = load_style("paper")
    _, scene = sample_event(DIMUON)
    whole = PanelRenderers(style, panel_sizes(style, SCALE), tile_limit=4096)
    tiled = PanelRenderers(style, panel_sizes(style, SCALE), tile_limit=80)
    try:
        ((_renderer, magnification),) = tiled.renderers.values()
        assert magnification >= 3
        a = next(iter(whole.draw(scene).values())).astype(int)
        b = next(iter(tiled.draw(scene).values())).astype(int)
    finally:
        whole.close()
        tiled.close()
    assert a.shape == b.shape
    # Lines are thinner in tiles (their width stays in window pixels); the rest agrees.
    assert np.abs(a - b).mean() < 6.0


def test_energy_and_label_modes() -> None:
    style = load_style("paper", ["labels.data_text=Open Data"])
    assert qualifier(style, False) == "Open Data" and qualifier(style, True) == "Simulation"
    # An explicit mode sets the words of collision data; simulation stays "Simulation", as
    # mplhep writes "CMS Simulation Preliminary": a simulated event never reads as data.
    preliminary = load_style("paper", ["figure.label_mode=preliminary"])
    assert qualifier(preliminary, False) == "Preliminary"
    assert qualifier(preliminary, True) == "Simulation Preliminary"
    cms = load_style("paper", ["figure.label_mode=cms"])
    assert qualifier(cms, False) == "" and qualifier(cms, True) == "Simulation"


def _composed(path: Path, *overrides: str) -> tuple[Any, Any]:
    """The paper figure of the file's first event, composed without its 3D raster (the
    layout and every text are the same)."""
    import matplotlib

    from ispyrender.figures.layout import FigureContent, compose, rc_params
    from ispyrender.physics import EventBuilder
    from ispyrender.physics.quantities import masses
    from ispyrender.scene.event import build_scene
    from ispyrender.sources import open_source

    style = load_style("paper", list(overrides))
    with open_source([str(path)]) as source:
        physics = next(iter(EventBuilder(source, style).events([0])))
    scene = build_scene(physics, style)
    content = FigureContent(physics, scene, {}, masses(physics, style.figure.masses))
    with matplotlib.rc_context(rc_params()):  # type: ignore[arg-type]
        fig = compose(content, style)
        fig.canvas.draw()
    return fig, physics


def _boxes(fig: Any) -> list[tuple[str, Any]]:
    renderer = fig.canvas.get_renderer()
    texts = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.texts if t.get_text()]
    texts += [("legend", legend.get_window_extent(renderer)) for legend in fig.legends]
    return texts


@pytest.mark.parametrize("table", ["none", "right"])
def test_figure_texts_never_overlap(shared_data: Path, table: str) -> None:
    fig, _ = _composed(shared_data / "nanoaod" / "nano_dimuon.root", f"figure.table={table}")
    boxes = _boxes(fig)
    texts = [t for t, _ in boxes]
    assert "2018 (13 TeV)" in texts and "3D" in texts
    assert any(t.startswith("Energy scale (") for t in texts)
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            # Table cells share a row's baseline but not its columns: a true overlap has area.
            inter_w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            inter_h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            assert inter_w <= 0.5 or inter_h <= 0.5, (a, b)
    # The panel titles sit below the whole header, the run line included.
    run_line = next(box for t, box in boxes if t.startswith("Run 315267"))
    title = next(box for t, box in boxes if t == "3D")
    assert title.y1 < run_line.y0


def test_simulation_figure_says_simulation_without_energy(shared_data: Path) -> None:
    fig, physics = _composed(shared_data / "nanoaod" / "nano_dy.root")
    texts = [t for t, _ in _boxes(fig)]
    assert physics.is_simulation
    assert "Simulation" in texts
    assert not any("TeV)" in t for t in texts)


def test_table_says_what_cleaning_removed(shared_data: Path) -> None:
    fig, physics = _composed(shared_data / "nanoaod" / "nano_dimuon.root", "figure.table=right")
    texts = " ".join(t for t, _ in _boxes(fig))
    removed = sum(n for by in physics.removed.values() for n in by.values())
    if removed:
        assert "Not drawn, same object as a lepton or photon:" in texts
    else:
        assert "Not drawn" not in texts


def test_projections_end_at_their_panel(shared_data: Path) -> None:
    """Everything drawn in a projection is clipped to its panel, so a forward muon stops at
    the panel's edge, short of the object table."""
    fig, _ = _composed(shared_data / "nanoaod" / "nano_dimuon.root", "figure.table=right")
    renderer = fig.canvas.get_renderer()
    table_left = min(t.get_window_extent(renderer).x0 for t in fig.texts if t.get_text() == "$q$")
    for ax in fig.axes[1:]:  # the rho-phi and rho-z panels
        box = ax.get_window_extent(renderer)
        assert box.x1 < table_left - 10
        for artist in (*ax.collections, *ax.patches):
            # matplotlib keeps a rectangular clip (the axes' box) as a clip box.
            clip = artist.get_clip_box() or artist.get_clip_path()
            assert artist.get_clip_on() and clip is not None
            if artist.get_clip_box() is not None:
                assert artist.get_clip_box().x1 <= box.x1 + 1


def test_existing_files_are_refused(tmp_path: Path) -> None:
    style = load_style("paper", ["figure.panels=[{view: rho_phi}]"])
    with Dataset([str(sample_path())]) as dataset:
        figure_events(dataset, [1], style, FigureOptions(tmp_path, ("svg",), scale=0.3))
        with pytest.raises(OutputError, match="already exist"):
            figure_events(dataset, [1], style, FigureOptions(tmp_path, ("svg",), scale=0.3))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "figure.panels=[{view: xy}]"],
         "figure.panels[0].view = 'xy': must be one of '3d', 'rho_phi', 'rho_z', 'lego'"),
        (["--scale", "5"], "10500x4200 is larger than 7680x4320"),
        (["--format", "png,gif"], "gif is not a figure format; allowed: png, svg, pdf, eps"),
        (["--set", "figure.rows=1", "--set", "figure.columns=2"],
         "3 panels do not fit in rows x columns = 1 x 2"),
        (["--set", "figure.masses=[{collection: photons}]",
          "--set", "collections.photons.show=false"],
         "figure.masses[0].collection = 'photons': collections.photons.show is false"),
        (["--set", "canvas.transparent=true", "--format", "eps"], "EPS has no transparency"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "figures"
    result = CliRunner().invoke(app, ["figure", "--out", str(out), "-n", "1", *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_parse_formats() -> None:
    assert parse_formats("PNG, pdf,png") == ("png", "pdf")


def test_legend_rows_are_filled_row_by_row() -> None:
    from ispyrender.figures.layout import _row_major

    # matplotlib fills a legend column by column: 7 entries in 4 columns come out as
    # "a b c d / e f g" in this order.
    assert _row_major(list("abcdefg"), 4) == list("aebfcgd")
    assert _row_major(list("abcd"), 4) == list("abcd")


def test_a_lego_legend_lists_what_the_lego_draws(shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import subprocess
    import sys

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    ig = shared_data / "ig" / "Hto4l_120-130GeV.ig"
    subprocess.run(
        [sys.executable, "-m", "ispyrender", "figure", str(ig), "--style", "lego", "-f", "pdf",
         "-n", "1", "-q", "-o", str(tmp_path)],
        check=True,
    )  # fmt: skip
    (pdf,) = tmp_path.glob("*.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Muons (2)" in text and "ECAL hits" in text
    # The lego draws no tracks, vertices or chambers: the legend does not list them.
    assert "Tracks" not in text and "Muon chambers" not in text and "vertex" not in text


def test_a_paper_figure_is_sized_in_inches_with_its_dpi(tmp_path: Path) -> None:
    """As matplotlib's figsize and dpi: the paper preset is a two-column paper's text width
    (7 x 2.8 inches at 300 dpi, text in points on that page); a one-column figure is two
    settings away. It used to be a 19.2-inch page whatever the journal."""
    fig, _ = _composed(sample_path())
    assert tuple(fig.get_size_inches()) == (7.0, 2.8) and fig.dpi == 300
    sizes = {t.get_text(): t.get_fontsize() for t in fig.texts}
    assert sizes["CMS"] == pytest.approx(26 * 0.5 * 1.3)  # 16.9 pt
    assert 7.5 <= sizes["Run 1, Lumi section 1, Event 1001"] <= 9.0  # a paper's figure text
    out = tmp_path / "one_column"
    panels = "figure.panels=[{view: 3d}, {view: rho_phi}]"
    column = ["--set", "figure.size=[3.4, 2.6]", "--set", "figure.dpi=600",
              "--set", "figure.columns=2", "--set", panels]  # fmt: skip
    result = CliRunner().invoke(
        app, ["figure", "-n", "1", "--out", str(out), "--format", "png,pdf", "-q", *column]
    )
    assert result.exit_code == 0, result.output
    (png,) = out.glob("*.png")
    assert Image.open(png).size == (2040, 1560)
    info = subprocess.run(
        ["pdfinfo", str(next(out.glob("*.pdf")))], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"Page size:\s+244\.8 x 187\.2 pts", info), info
