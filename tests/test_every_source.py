"""One path for every input: the source is chosen by content, and every command and output
works on iSpy (.ig) files as on NanoAOD, through the same stages."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import awkward as ak
import pytest
import uproot
from PIL import Image
from typer.testing import CliRunner

from ispyrender.cli import app
from ispyrender.config.loader import load_style
from ispyrender.errors import InputError
from ispyrender.physics import EventBuilder
from ispyrender.physics.quantities import leading_masses
from ispyrender.sources import open_source
from ispyrender.sources.ispy import IspySource
from ispyrender.sources.nanoaod import Dataset

SMALL = ["canvas.width=240", "canvas.height=136", "canvas.anti_aliasing=none"]
SMALL_ARGS = [arg for item in SMALL for arg in ("--set", item)]


def cli(*args: object):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def ig(shared_data: Path) -> Path:
    return shared_data / "ig" / "Hto4l_120-130GeV.ig"


# ---- choosing the source ----------------------------------------------------------------------


def test_the_source_is_chosen_by_content_not_by_name(ig: Path, shared_data: Path, tmp_path):
    disguised = tmp_path / "events.root"
    shutil.copy(ig, disguised)
    with open_source([str(disguised)]) as source:
        assert isinstance(source, IspySource) and len(source) == 11
    root_named_ig = tmp_path / "dimuon.ig"
    shutil.copy(shared_data / "nanoaod" / "nano_dimuon.root", root_named_ig)
    with open_source([str(root_named_ig)]) as source:
        assert isinstance(source, Dataset) and len(source) == 40


def test_a_zip_that_is_not_ispy_and_mixed_inputs_are_one_line_errors(ig, shared_data, tmp_path):
    other = tmp_path / "photos.ig"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("cat.jpg", b"meow")
    with pytest.raises(InputError, match="zip archive but not an iSpy file"):
        open_source([str(other)])
    with pytest.raises(InputError, match="mixing iSpy and NanoAOD inputs"):
        open_source([str(ig), str(shared_data / "nanoaod" / "nano_dimuon.root")])


def test_ispy_ids_come_from_the_event_headers(ig: Path) -> None:
    with IspySource([str(ig)]) as source:
        ids = source.ids()
        assert ids.lumi is not None and not ids.synthetic
        # The same ids as a full parse of each event gives.
        for i in (0, 5, 10):
            ev = source.event(i)
            assert (ids.run[i], ids.lumi[i], ids.event[i]) == (ev.run, ev.lumi, ev.event)


def test_four_lepton_mass_of_the_higgs_candidates(ig: Path) -> None:
    """The file holds H -> 4l candidates selected at 120 < m(4l) < 130 GeV: every event with
    exactly four leptons must give that mass from the drawn objects' four-vectors."""
    style = load_style("publication")
    checked = 0
    with IspySource([str(ig)]) as source:
        for physics in EventBuilder(source, style).events(range(len(source))):
            n = physics.counts.get("muons", 0) + physics.counts.get("electrons", 0)
            if n != 4:
                continue
            masses = {m.name: m.value for m in leading_masses(physics)}
            assert 120.0 < masses["four_lepton"] < 130.0, (physics.event, masses)
            checked += 1
    assert checked == 10


# ---- every command and format on the iSpy file ----------------------------------------------


def test_ispy_to_phoenix_gltf_obj_and_html(ig: Path, tmp_path: Path) -> None:
    import pygltflib

    for fmt in ("phoenix", "glb", "obj", "html"):
        result = cli("render", ig, "--events", "1", "-f", fmt, "-o", tmp_path / fmt, "-q")
        assert result.exit_code == 0, result.stderr
    (phoenix,) = (tmp_path / "phoenix").glob("*.json")
    event = next(iter(json.loads(phoenix.read_text()).values()))
    assert len(event["Tracks"]["Muon"]) == 4 and event["Jets"]
    (glb,) = (tmp_path / "glb").glob("*.glb")
    names = {node.name for node in pygltflib.GLTF2().load(str(glb)).nodes}
    assert {"Muon", "EcalRecHits", "MuonChambers", "detector", "tracker"} <= names
    (obj,) = (tmp_path / "obj").glob("*.obj")
    assert obj.with_suffix(".mtl").exists() and "o EcalRecHits" in obj.read_text()
    (page,) = (tmp_path / "html").glob("*.html")
    assert "Run 199319" in page.read_text()


def test_ispy_figure_projects_rec_hits_and_chambers(ig: Path, tmp_path: Path) -> None:
    panels = "figure.panels=[{view: rho_phi}, {view: rho_z}, {view: lego}]"
    result = cli(
        "figure", ig, "--ids", "199319:970:1203594102", "-f", "png,svg", "-o", tmp_path,
        "--set", panels, "--set", "figure.columns=3", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    svg = (tmp_path / "199319_970_1203594102.svg").read_text()
    style = load_style("paper")
    # Rec hits and chambers are drawn in their style colours.
    for key in ("ecal_hits", "hcal_hits", "muon_chambers"):
        assert getattr(style.collections, key).color.lower() in svg.lower(), key
    # The paper preset's page: 7 x 2.8 inches at 300 dpi.
    assert Image.open(tmp_path / "199319_970_1203594102.png").size == (2100, 840)


def test_ispy_movie_gallery_and_inspect(ig: Path, tmp_path: Path) -> None:
    result = cli(
        "animate", ig, "--events", "0", "-f", "gif", "--frames", "3", "-o", tmp_path / "mov",
        *SMALL_ARGS, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (movie,) = (tmp_path / "mov").glob("*.gif")
    assert Image.open(movie).n_frames == 3

    result = cli("gallery", ig, "-n", "2", "-o", tmp_path / "site", *SMALL_ARGS, "-q")
    assert result.exit_code == 0, result.stderr
    pages = sorted((tmp_path / "site" / "events").glob("*.html"))
    # The four-lepton candidate, labelled by its channel (4μ, 4e or 2e2μ).
    assert len(pages) == 2 and any(f"m({c})" in pages[1].read_text() for c in ("4μ", "4e", "2e2μ"))

    result = cli("inspect", ig, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["num_events"] == 11 and report["files"][0]["storage"] == "iSpy"
    assert report["collections"]["Tracks"]["max"] > 50


def test_ids_with_lumi_ids_file_and_skip_existing_on_ispy(ig: Path, tmp_path: Path) -> None:
    ids = tmp_path / "picked.txt"
    ids.write_text("# two H->4l candidates\n199319:970:1203594102\n201707:503:635670564\n")
    one_panel = ("--set", "figure.panels=[{view: rho_phi}]", "--set", "figure.columns=1")
    args = ("figure", ig, "--ids-file", ids, "-o", tmp_path / "f", *one_panel, "-q")
    assert cli(*args).exit_code == 0
    names = sorted(p.name for p in (tmp_path / "f").glob("*.png"))
    assert names == ["199319_970_1203594102.png", "201707_503_635670564.png"]
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "f").glob("*.png")}
    assert cli(*args).exit_code == 2  # they exist
    assert cli(*args, "--skip-existing").exit_code == 0
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "f").glob("*.png")} == before
    wrong_lumi = cli("render", ig, "--ids", "199319:971:1203594102", "-o", tmp_path / "r")
    assert wrong_lumi.exit_code == 2 and "not found" in wrong_lumi.stderr


def test_where_on_ispy_is_one_clean_error(ig: Path, tmp_path: Path) -> None:
    for command in ("render", "figure", "animate", "gallery"):
        result = cli(command, ig, "--where", "nMuon >= 2", "-o", tmp_path / command)
        assert result.exit_code == 2
        assert "--where reads NanoAOD branches, and iSpy files have none" in result.stderr
        assert not (tmp_path / command).exists()


# ---- NanoAOD without event ids -----------------------------------------------------------------


def test_nanoaod_without_run_and_event_is_named_by_entry(tmp_path: Path) -> None:
    path = tmp_path / "muons_only.root"
    muons = ak.zip(
        {
            "pt": [[40.0, 35.0], [25.0]],
            "eta": [[0.3, -1.1], [2.0]],
            "phi": [[0.5, -2.5], [1.0]],
            "charge": [[1, -1], [1]],
        }
    )
    with uproot.recreate(path) as f:
        # mktree + extend writes NanoAOD names (nMuon, Muon_pt, ...), and no run or event.
        f.mktree("Events", {"Muon": muons.type.content})
        f["Events"].extend({"Muon": muons})
    # Not -q: that would silence the warning checked here.
    result = cli("render", path, "-o", tmp_path / "out", *SMALL_ARGS)
    assert result.exit_code == 0, result.stderr
    assert "no run/event branches" in result.stderr
    names = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert names == ["muons_only_0.png", "muons_only_1.png"]
    assert Image.open(tmp_path / "out" / "muons_only_1.png").text["ispyrender.entry"] == "1"
