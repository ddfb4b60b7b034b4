"""The command line end to end: render, inspect, sample, styles, and every bad input.

Bad inputs run in real subprocesses (several at once, to keep the suite fast): the point is what
a user sees, one line on stderr, a non-zero exit code, no traceback, and nothing left in the
output folder. The happy paths mostly run in-process through typer's CliRunner.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from ispyrender import __version__
from ispyrender.cli import app
from ispyrender.config.loader import load_style
from ispyrender.outputs.files import read_png_text

#: Small, fast pictures: 320x180 without anti-aliasing.
SMALL = ["canvas.width=320", "canvas.height=180", "canvas.anti_aliasing=none"]
SMALL_ARGS = [arg for item in SMALL for arg in ("--set", item)]


def cli(*args: object) -> object:
    """Run the CLI in-process; the result has exit_code, stdout and stderr."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.stdout + result.stderr
    return result


def run_subprocess(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "60"}  # a narrow terminal must not wrap the error line
    return subprocess.run(
        [sys.executable, "-m", "ispyrender", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def files_in(folder: Path) -> list[str]:
    """Every entry below ``folder`` (hidden and temporary files included)."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# ---- render: the happy paths ---------------------------------------------------------------


def test_render_default_sample_in_a_subprocess(tmp_path):
    out = tmp_path / "out"
    proc = run_subprocess(["render", "-n", "2", "--scale", "0.25", "-o", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "wrote 2 file(s)" in proc.stderr
    assert files_in(out) == ["1_1_1001.png", "1_1_1002.png"]
    first, second = (pixels(out / name) for name in files_in(out))
    assert first.shape == (270, 480, 3)  # 1920x1080 scaled by 0.25
    # Two events, two pictures (a reused renderer once returned the first picture again).
    assert not np.array_equal(first, second)

    text = read_png_text(out / "1_1_1002.png")
    assert text["ispyrender.run"] == "1"
    assert text["ispyrender.lumi"] == "1"
    assert text["ispyrender.event"] == "1002"
    assert text["ispyrender.entry"] == "1"
    assert text["ispyrender.input"].endswith(".root")
    assert Path(text["ispyrender.input"]).is_file()
    assert text["ispyrender.style"] == "publication"
    assert text["ispyrender.style_digest"] == load_style("publication").digest()
    assert text["ispyrender.version"] == __version__
    assert text["Software"] == f"ispyrender {__version__}"


def test_render_set_style_and_name_template(tmp_path):
    out = tmp_path / "out"
    sets = [*SMALL, "canvas.width=200", "output.name_template=ev{event}_{index}.png"]
    result = cli(
        "render", "--events", "4", "--style", "outreach", *[a for s in sets for a in ("--set", s)],
        "-o", out, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert files_in(out) == ["ev1005_4.png"]
    image = pixels(out / "ev1005_4.png")
    assert image.shape == (180, 200, 3)
    # The outreach look: a dark picture (background #0b0f1a and the dimmed detector).
    assert image.mean() < 60
    text = read_png_text(out / "ev1005_4.png")
    assert text["ispyrender.style"] == "outreach"
    assert text["ispyrender.style_digest"] == load_style("outreach", sets).digest()
    assert text["ispyrender.event"] == "1005"


def phoenix_names(out: Path) -> list[str]:
    return [name for name in files_in(out) if name.endswith(".json")]


def test_render_events(tmp_path):
    out = tmp_path / "out"
    result = cli("render", "--events", "3,5:7", "--format", "phoenix", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert files_in(out) == ["1_1_1004.json", "1_1_1006.json", "1_1_1007.json"]


def test_render_ids_and_ids_file(tmp_path):
    out = tmp_path / "out"
    # Entry 11 is in lumi 2; RUN:EVENT without the lumi also finds it.
    result = cli("render", "--ids", "1:1:1003,1:1012", "-f", "phoenix", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert files_in(out) == ["1_1_1003.json", "1_2_1012.json"]

    ids = tmp_path / "ids.txt"
    ids.write_text("# wanted\n1:2:1015\n\n1:1:1001\n")
    out2 = tmp_path / "out2"
    result = cli("render", "--ids-file", ids, "-f", "phoenix", "-o", out2)
    assert result.exit_code == 0, result.stderr
    assert files_in(out2) == ["1_1_1001.json", "1_2_1015.json"]


def test_render_max_events(tmp_path):
    out = tmp_path / "out"
    result = cli("render", "--max-events", "3", "--events", "10:", "-f", "phoenix", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert files_in(out) == ["1_2_1011.json", "1_2_1012.json", "1_2_1013.json"]


def test_render_phoenix_format(tmp_path):
    out = tmp_path / "out"
    result = cli("render", "-n", "1", "--format", "phoenix", "-o", out)
    assert result.exit_code == 0, result.stderr
    data = json.loads((out / "1_1_1001.json").read_text())
    assert list(data) == ["Run 1 Event 1001"]
    event = data["Run 1 Event 1001"]
    assert event["run number"] == 1
    assert event["event number"] == 1001
    assert event["units"] == "length: mm, energy: MeV"
    assert "Muon" in event["Tracks"]  # the first sample event is Z -> mumu


def test_existing_files_are_refused_then_overwritten_or_kept(tmp_path):
    out = tmp_path / "out"
    assert cli("render", "-n", "2", *SMALL_ARGS, "-o", out, "-q").exit_code == 0
    before = {name: (out / name).read_bytes() for name in files_in(out)}
    assert list(before) == ["1_1_1001.png", "1_1_1002.png"]

    refused = cli("render", "-n", "2", *SMALL_ARGS, "-o", out)
    assert refused.exit_code == 2
    assert refused.stderr.count("\n") == 1
    assert "already exist" in refused.stderr and "--overwrite" in refused.stderr
    assert {name: (out / name).read_bytes() for name in files_in(out)} == before

    # --overwrite replaces them: a different style leaves a different digest in the file.
    result = cli("render", "-n", "2", *SMALL_ARGS, "--set", "canvas.background=black",
                 "--overwrite", "-o", out, "-q")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert files_in(out) == list(before)
    digest = load_style("publication", [*SMALL, "canvas.background=black"]).digest()
    assert read_png_text(out / "1_1_1002.png")["ispyrender.style_digest"] == digest

    # --skip-existing keeps what is there and renders the rest.
    (out / "1_1_1001.png").write_bytes(b"kept")
    result = cli("render", "-n", "3", *SMALL_ARGS, "--skip-existing", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "kept 2 existing" in result.stderr
    assert (out / "1_1_1001.png").read_bytes() == b"kept"
    assert files_in(out) == ["1_1_1001.png", "1_1_1002.png", "1_1_1003.png"]
    assert read_png_text(out / "1_1_1003.png")["ispyrender.event"] == "1003"


# ---- an interrupted render ---------------------------------------------------------------


def test_interrupted_render_leaves_no_temporary_files(tmp_path, monkeypatch):
    """Ctrl-C while the third event is built: the finished pictures stay, nothing else."""
    import ispyrender.scene.event

    real = ispyrender.scene.event.build_scene
    calls = []

    def build_scene(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ispyrender.scene.event, "build_scene", build_scene)
    out = tmp_path / "out"
    result = cli("render", "-n", "5", *SMALL_ARGS, "-o", out)
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    # Writes still queued behind the renderer are cancelled, so one or both finished events
    # may be there; never a third, and never a temporary file.
    assert files_in(out) in (["1_1_1001.png"], ["1_1_1001.png", "1_1_1002.png"])
    for name in files_in(out):
        with Image.open(out / name) as im:
            im.verify()


def test_interrupted_write_leaves_no_temporary_files(tmp_path, monkeypatch):
    """Ctrl-C half-way through writing a file: its temporary file is removed."""
    real = Path.write_bytes

    def half_write(self, data):
        if self.name.endswith(".irtmp"):
            real(self, data[: len(data) // 2])
            raise KeyboardInterrupt
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", half_write)
    out = tmp_path / "out"
    result = cli("render", "-n", "2", *SMALL_ARGS, "-o", out)
    assert result.exit_code == 130
    assert files_in(out) == []


def test_failing_render_through_the_api_leaves_no_temporary_files(tmp_path, monkeypatch):
    import ispyrender.outputs.files
    from ispyrender.jobs.render import RenderOptions, render_events
    from ispyrender.sources.nanoaod import Dataset
    from ispyrender.sources.sample import sample_path

    real = ispyrender.outputs.files.encode_png
    calls = []

    def encode_png(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(ispyrender.outputs.files, "encode_png", encode_png)
    out = tmp_path / "out"
    with Dataset([str(sample_path())]) as dataset, pytest.raises(RuntimeError, match="fire"):
        render_events(dataset, [0, 1, 2, 3], load_style("publication", SMALL), RenderOptions(out))
    # Encoding runs in a thread while the next events render (up to two behind), so the
    # failure surfaces up to two events later; what matters is that every file left is
    # complete and none is temporary.
    left = files_in(out)
    assert "1_1_1002.png" not in left
    assert left and set(left) <= {"1_1_1001.png", "1_1_1003.png", "1_1_1004.png"}
    for name in left:
        with Image.open(out / name) as im:
            im.verify()


# ---- bad inputs: one line, an exit code, no traceback, no files -------------------------------


@dataclass(frozen=True)
class Bad:
    name: str
    args: Callable[[Path, Path], list[str]]  # (fixture folder, output folder) -> arguments
    says: str  # text the one line must contain
    out: Callable[[Path], Path] | None = None  # where --out points, when not <case>/out


def _ntuple(path: Path, tree: str, branches: dict[str, np.ndarray]) -> Path:
    import uproot

    with uproot.recreate(path) as file:
        file.mktree(tree, {k: v.dtype for k, v in branches.items()})
        file[tree].extend(branches)
    return path


def make_fixtures(folder: Path, shared: Path) -> None:
    (folder / "a_directory").mkdir()
    (folder / "not_root.root").write_text("run,event\n1,2\n")
    whole = (shared / "nanoaod" / "nano_dimuon.root").read_bytes()
    (folder / "truncated.root").write_bytes(whole[: len(whole) // 2])
    _ntuple(folder / "no_events.root", "ntuple", {"x": np.arange(5.0)})
    _ntuple(folder / "plain.root", "Events", {"x": np.arange(5.0), "y": np.ones(5)})
    (folder / "bad_yaml.yaml").write_text("canvas:\n  width: [320, 240\n")
    (folder / "unknown_key.yaml").write_text("canvas:\n  widht: 320\n")
    (folder / "a_file").write_text("not a folder\n")


def _folder_where_a_file_goes(o: Path) -> list[str]:
    (o / "1_1_1001.png").mkdir(parents=True, exist_ok=True)
    return ["-n", "1", "--skip-existing", "-o", str(o)]


BAD = [
    Bad("missing", lambda f, o: [str(f / "nope.root"), "-o", str(o)], "does not exist"),
    Bad("folder-as-output", lambda f, o: _folder_where_a_file_goes(o), "is a folder where"),
    Bad("camera", lambda f, o: ["--camera", "orbit", "-o", str(o)], "use event, series, detector"),
    Bad("directory", lambda f, o: [str(f / "a_directory"), "-o", str(o)], "is a directory"),
    Bad("not-root", lambda f, o: [str(f / "not_root.root"), "-o", str(o)], "not a ROOT file"),
    Bad("truncated", lambda f, o: [str(f / "truncated.root"), "-o", str(o)], "truncated"),
    Bad("no-events-tree", lambda f, o: [str(f / "no_events.root"), "-o", str(o)], "no 'Events'"),
    Bad("plain-ntuple", lambda f, o: [str(f / "plain.root"), "-o", str(o)], "not NanoAOD"),
    Bad("brackets-in-path", lambda f, o: [str(f / "[/x].root"), "-o", str(o)], "[/x].root"),
    Bad(
        "where-matches-nothing",
        lambda f, o: ["--where", "nMuon > 50", "-o", str(o)],
        "matches no events",
    ),
    Bad("empty-range", lambda f, o: ["--events", "5:5", "-o", str(o)], "matches no events"),
    Bad("out-of-range", lambda f, o: ["--events", "3,999", "-o", str(o)], "out of range: 999"),
    Bad("ids-not-found", lambda f, o: ["--ids", "1:1:999999", "-o", str(o)], "1:1:999999"),
    Bad(
        "ids-file-missing",
        lambda f, o: ["--ids-file", str(f / "no.txt"), "-o", str(o)],
        "does not exist",
    ),
    Bad(
        "invalid-yaml",
        lambda f, o: ["--style", str(f / "bad_yaml.yaml"), "-o", str(o)],
        "invalid YAML",
    ),
    Bad(
        "unknown-key-in-file",
        lambda f, o: ["--style", str(f / "unknown_key.yaml"), "-o", str(o)],
        "canvas.widht: unknown key (did you mean 'width'?)",
    ),
    Bad("unknown-key-set", lambda f, o: ["--set", "canvas.widht=3", "-o", str(o)], "unknown key"),
    Bad("unknown-preset", lambda f, o: ["--style", "outreech", "-o", str(o)], "'outreach'"),
    Bad(
        "bad-colour",
        lambda f, o: ["--set", "collections.muons.color=notacolor", "-o", str(o)],
        "'notacolor' is not a color",
    ),
    Bad("bad-format", lambda f, o: ["--format", "gif", "-o", str(o)], "'gif'"),
    Bad(
        "bad-template",
        lambda f, o: ["--set", "output.name_template={foo}.png", "-o", str(o)],
        "{foo}",
    ),
    Bad("out-is-a-file", lambda f, o: ["-o", str(o)], "is a file", out=lambda f: f / "a_file"),
    Bad(
        "out-under-a-file",
        lambda f, o: ["-o", str(o)],
        "cannot write to output folder",
        out=lambda f: f / "a_file" / "sub",
    ),
    Bad(
        "out-in-proc",
        lambda f, o: ["-o", str(o)],
        "cannot write to output folder",
        out=lambda f: Path("/proc/ispyrender-test") / f.name / "out",
    ),
]


#: The cases also run as real processes: one of each kind of problem (input, selection,
#: style, output). Every case runs in-process too; a subprocess costs about a second.
IN_SUBPROCESS = (
    "missing",
    "not-root",
    "truncated",
    "plain-ntuple",
    "brackets-in-path",
    "out-of-range",
    "invalid-yaml",
    "bad-colour",
    "out-under-a-file",
    "out-in-proc",
)


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory, shared_data) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    make_fixtures(folder, shared_data)
    return folder


def check_bad_run(case: Bad, code: int, stdout: str, stderr: str, out: Path, work: Path) -> None:
    assert "Traceback" not in stdout + stderr, stderr
    assert code == 2, (code, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert case.says in lines[0]
    assert stdout == ""
    # Nothing in the output folder (not even a probe or temporary file), and nothing in the
    # working directory either (no ./out made by mistake).
    if case.name == "out-is-a-file":
        assert out.read_text() == "not a folder\n"
    elif case.name == "folder-as-output":
        assert files_in(out) == ["1_1_1001.png"]  # the user's folder, untouched
    else:
        assert files_in(out) == []
    users = ["out", "out/1_1_1001.png"] if case.name == "folder-as-output" else None
    assert files_in(work) in ([], ["out"], users)


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_bad_input_gives_one_line_and_no_files(case: Bad, bad_folder, monkeypatch):
    work = bad_folder / "in-process" / case.name
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    out = case.out(bad_folder) if case.out else work / "out"
    result = CliRunner().invoke(app, ["render", *case.args(bad_folder, out)])
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    check_bad_run(case, result.exit_code, result.stdout, result.stderr, out, work)


@pytest.fixture(scope="module")
def bad_runs(bad_folder) -> dict[str, tuple[subprocess.CompletedProcess[str], Path, Path]]:
    """The IN_SUBPROCESS cases, each as `python -m ispyrender render ...`, two at a time."""

    def one(case: Bad) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
        work = bad_folder / "subprocess" / case.name
        work.mkdir(parents=True)
        out = case.out(bad_folder) if case.out else work / "out"
        return run_subprocess(["render", *case.args(bad_folder, out)], work), out, work

    cases = [c for c in BAD if c.name in IN_SUBPROCESS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([c.name for c in cases], pool.map(one, cases), strict=True))


@pytest.mark.parametrize("name", IN_SUBPROCESS)
def test_bad_input_in_a_subprocess(name: str, bad_runs):
    case = next(c for c in BAD if c.name == name)
    proc, out, work = bad_runs[name]
    check_bad_run(case, proc.returncode, proc.stdout, proc.stderr, out, work)


def test_existing_file_refusal_in_a_subprocess(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "1_1_1002.png").write_bytes(b"mine")
    proc = run_subprocess(["render", "-n", "2", "-o", str(out)], tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: {out / '1_1_1002.png'} already exist: pass --overwrite to replace them or "
        "--skip-existing to keep them and render the rest"
    ]
    assert files_in(out) == ["1_1_1002.png"]
    assert (out / "1_1_1002.png").read_bytes() == b"mine"


# ---- inspect, sample, styles -----------------------------------------------------------------


def test_inspect_text_and_json(shared_data):
    result = cli("inspect")
    assert result.exit_code == 0, result.stderr
    assert "20 events, simulation" in result.stdout
    assert "Muon" in result.stdout

    dimuon = shared_data / "nanoaod" / "nano_dimuon.root"
    result = cli("inspect", dimuon, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["num_events"] == 40
    assert report["is_simulation"] is False
    assert report["run_range"] == [315267, 315267]
    assert report["files"][0]["path"] == str(dimuon)
    assert report["collections"]["Muon"]["max"] >= 2


def test_inspect_names_the_period_and_missing_collections_once(shared_data):
    dimuon = shared_data / "nanoaod" / "nano_dimuon.root"
    result = cli("inspect", dimuon)
    assert result.exit_code == 0, result.stderr
    assert "runs 315267 to 315267: 2018 (13 TeV)" in result.stdout
    assert result.stdout.count("PFCands: absent") == 1
    report = json.loads(cli("inspect", dimuon, "--json").stdout)
    assert report["period"] == "2018 (13 TeV)"
    simulation = json.loads(
        cli("inspect", shared_data / "nanoaod" / "nano_dy.root", "--json").stdout
    )
    assert simulation["period"] is None


def test_inspect_bad_input():
    result = cli("inspect", "/nonexistent/file.root")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: input file '/nonexistent/file.root' does not exist; check the path"
    ]


def test_sample_writes_the_built_in_sample(tmp_path):
    from ispyrender.sources.nanoaod import Dataset

    target = tmp_path / "sub" / "sample.root"
    result = cli("sample", "-o", target)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"wrote {target}"
    assert files_in(target.parent) == ["sample.root"]  # no temporary file left
    with Dataset([str(target)]) as dataset:
        assert dataset.num_entries == 20
        _, _, events = dataset.event_ids()
        assert list(events[:3]) == [1001, 1002, 1003]
    # An existing file is the user's: kept, unless --overwrite.
    target.write_bytes(b"my own data")
    result = cli("sample", "-o", target)
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == f"error: {target} already exists: pass --overwrite to replace it"
    )
    assert target.read_bytes() == b"my own data"
    result = cli("sample", "-o", target, "--overwrite")
    assert result.exit_code == 0 and target.read_bytes()[:4] == b"root"
    result = cli("sample", "-o", tmp_path)
    assert result.exit_code == 2 and "is a folder" in result.stderr


def test_styles_list_and_show():
    result = cli("styles")
    assert result.exit_code == 0
    names = result.stdout.split()
    assert {"publication", "outreach", "transverse"} <= set(names)
    assert names == sorted(names)

    result = cli("styles", "--show", "outreach", "--set", "canvas.width=640")
    assert result.exit_code == 0, result.stderr
    shown = yaml.safe_load(result.stdout)
    assert shown["name"] == "outreach"
    assert shown["canvas"]["background"] == "#0b0f1a"
    assert shown["canvas"]["width"] == 640
    # What is shown is a complete style: it loads back to the same settings.
    from ispyrender.config.style import Style

    assert (
        Style.model_validate(shown).digest()
        == load_style("outreach", ["canvas.width=640"]).digest()
    )

    result = cli("styles", "--show", "nosuch")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "neither a style file nor a preset" in result.stderr


def test_warnings_only_for_what_was_asked_and_quiet_silences_them(tmp_path):
    """The built-in sample has no PF candidates: a default render says nothing about them
    (`inspect` does); a style that asks for them is warned once; -q silences warnings."""
    plain = cli("render", "--events", "0", *SMALL_ARGS, "-o", tmp_path / "a")
    assert plain.exit_code == 0 and "PFCands" not in plain.stderr
    asked = [*SMALL_ARGS, "--set", "collections.pfcands.show=true"]
    loud = cli("render", "--events", "0", *asked, "-o", tmp_path / "b")
    assert loud.exit_code == 0 and loud.stderr.count("PFCands") == 1, loud.stderr
    quiet = cli("render", "--events", "0", *asked, "-q", "-o", tmp_path / "c")
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr


def test_python_warnings_are_the_programs_own_and_quiet_under_q(capsys) -> None:  # type: ignore[no-untyped-def]
    """numpy's RuntimeWarnings and matplotlib's logged "findfont" lines used to reach stderr
    with source lines, even under -q. Now: one line each, said once at the end; with -q,
    nothing."""
    import logging

    import numpy as np

    from ispyrender.cli.common import run

    def body() -> int:
        for _ in range(3):
            np.float64(1.0) / np.float64(0.0)
        logging.getLogger("matplotlib.font_manager").warning("findfont: Font family 'X' not found.")
        return 7

    assert run(body, quiet=True) == 7
    assert capsys.readouterr().err == ""
    assert run(body) == 7
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "warning: RuntimeWarning: divide by zero encountered in scalar divide",
        "warning: findfont: Font family 'X' not found.",
    ]


def test_batch_workers_print_no_python_warnings() -> None:
    """A -j worker's stderr is the user's terminal: its Python warnings stay out of it."""
    code = (
        "import numpy as np, logging\n"
        "from ispyrender.jobs.batch.worker import init_worker\n"
        "init_worker(None)\n"
        "np.float64(1.0) / np.float64(0.0)\n"
        "logging.getLogger('matplotlib.font_manager').warning('findfont: X')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""
