"""Batch rendering: --jobs, --scheduler (Dask), --keep-going, manifest.json, interruption.

Pictures are tiny (160x90, no anti-aliasing) so that the whole file stays well under a minute;
worker start-up (a fresh interpreter importing pyvista) dominates.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ispyrender.cli import app
from ispyrender.sources.sample import sample_path

TINY = ["canvas.width=160", "canvas.height=90", "canvas.anti_aliasing=none"]
TINY_ARGS = [arg for item in TINY for arg in ("--set", item)]


def cli(*args: object):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.stdout + result.stderr
    return result


def pngs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*"))


@pytest.fixture(scope="module", params=["sample", "ispy"])
def batch_input(request: pytest.FixtureRequest) -> list[str]:
    """The selection a batch renders: six sample events, or six events of the iSpy file."""
    if request.param == "sample":
        return ["-n", "6"]
    data = request.getfixturevalue("shared_data")
    return [str(data / "ig" / "Hto4l_120-130GeV.ig"), "-n", "6"]


@pytest.fixture(scope="module")
def one_job(tmp_path_factory: pytest.TempPathFactory, batch_input: list[str]) -> Path:
    out = tmp_path_factory.mktemp("batch") / "j1"
    result = cli("render", *batch_input, *TINY_ARGS, "--jobs", "1", "-q", "-o", out)
    assert result.exit_code == 0, result.stderr
    return out


def test_two_processes_write_the_same_bytes_as_one(
    one_job: Path, batch_input: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "j2"
    result = cli("render", *batch_input, *TINY_ARGS, "--jobs", "2", "-q", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert len(pngs(one_job)) == 6
    assert pngs(out) == pngs(one_job)
    assert hidden(out) == []


def test_dask_cluster_writes_the_same_bytes_as_one_process(
    one_job: Path, batch_input: list[str], tmp_path: Path
) -> None:
    from distributed import LocalCluster

    out = tmp_path / "dask"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = cli(
            "render", *batch_input, *TINY_ARGS, "--scheduler", cluster.scheduler_address, "-q",
            "-o", out,
        )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert pngs(out) == pngs(one_job)
    manifest = json.loads((out / "manifest.json").read_text())
    # Listed in input order (entry), one per picture.
    assert sorted(e["output"] for e in manifest["events"]) == sorted(pngs(one_job))
    assert [e["entry"] for e in manifest["events"]] == sorted(
        e["entry"] for e in manifest["events"]
    )


def test_a_relative_input_reaches_dask_workers_started_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduler and worker started in another folder (as on a login node or a batch
    system) get the input as an absolute path: 'events.root' relative to the client's folder
    means nothing in theirs."""
    import shutil

    elsewhere, here = tmp_path / "cluster", tmp_path / "analysis"
    elsewhere.mkdir()
    here.mkdir()
    shutil.copy(sample_path(), here / "events.root")
    start = (
        "import time\n"
        "from distributed import LocalCluster\n"
        "c = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,"
        " dashboard_address=None)\n"
        "print(c.scheduler_address, flush=True)\n"
        "time.sleep(300)\n"
    )
    cluster = subprocess.Popen(
        [sys.executable, "-c", start],
        cwd=elsewhere,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its workers go with it
    )
    try:
        assert cluster.stdout is not None
        address = cluster.stdout.readline().strip()
        assert address.startswith("tcp://"), address
        monkeypatch.chdir(here)
        result = cli(
            "render", "events.root", "-n", "2", *TINY_ARGS, "--scheduler", address, "-q",
            "-o", "out",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        assert len(pngs(here / "out")) == 2
        assert not (elsewhere / "out").exists()
    finally:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(30)


@pytest.mark.parametrize("batch_input", ["sample"], indirect=True)
def test_manifest_lists_every_event(one_job: Path) -> None:
    manifest = json.loads((one_job / "manifest.json").read_text())
    assert manifest["version"]
    assert manifest["style"]["name"] == "publication"
    assert len(manifest["style"]["digest"]) == 16
    assert manifest["inputs"] == [str(sample_path())]
    assert manifest["failed_inputs"] == []
    events = manifest["events"]
    assert [e["index"] for e in events] == list(range(6))
    first = events[0]
    assert (first["run"], first["lumi"], first["event"], first["entry"]) == (1, 1, 1001, 0)
    assert first["output"] == "1_1_1001.png"
    assert first["input"] == str(sample_path())
    assert first["counts"]["muons"] == 2
    # The first sample event is a Z to two muons.
    assert 80 < first["masses"]["dimuon"] < 100
    assert all("error" not in e for e in events)
    assert any("dielectron" in e["masses"] for e in events)


@pytest.mark.parametrize("batch_input", ["ispy"], indirect=True)
def test_manifest_of_an_ispy_batch(one_job: Path) -> None:
    events = json.loads((one_job / "manifest.json").read_text())["events"]
    assert len(events) == 6 and all(e["lumi"] is not None for e in events)
    # H -> 4l candidates: the four-lepton mass of each event with four leptons.
    four = [e for e in events if e["counts"].get("muons", 0) + e["counts"].get("electrons", 0) == 4]
    assert four and all(120 < e["masses"]["four_lepton"] < 130 for e in four)


def test_failing_event_does_not_stop_the_batch(tmp_path: Path, monkeypatch) -> None:
    import ispyrender.scene.event

    real = ispyrender.scene.event.build_scene

    def build_scene(physics, style):  # type: ignore[no-untyped-def]
        if physics.index == 2:
            raise ValueError("a broken event")
        return real(physics, style)

    monkeypatch.setattr(ispyrender.scene.event, "build_scene", build_scene)
    out = tmp_path / "out"
    result = cli("render", "-n", "4", *TINY_ARGS, "--keep-going", "-q", "-o", out)
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 1 of 4 events failed: entry 2 (1:1:1003): ValueError")
    assert sorted(pngs(out)) == ["1_1_1001.png", "1_1_1002.png", "1_1_1004.png"]
    events = json.loads((out / "manifest.json").read_text())["events"]
    assert [("error" in e) for e in events] == [False, False, True, False]
    assert events[2]["output"] == "1_1_1003.png" and events[2]["event"] == 1003


def test_broken_input_is_reported_and_the_others_rendered(tmp_path: Path) -> None:
    good = tmp_path / "good.root"
    good.write_bytes(sample_path().read_bytes())
    broken = tmp_path / "broken.root"
    data = sample_path().read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # cut short in transfer
    out = tmp_path / "out"
    result = cli("render", broken, good, "-n", "3", *TINY_ARGS, "--keep-going", "-o", out)
    assert result.exit_code == 1
    assert "skipping unreadable input" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "1 input(s) could not be read" in last and "truncated" in last
    assert len(pngs(out)) == 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"] == [str(good)]
    assert [f["input"] for f in manifest["failed_inputs"]] == [str(broken)]
    assert "truncated" in manifest["failed_inputs"][0]["error"]


def test_skip_existing_resumes_and_merges_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("render", "-n", "3", *TINY_ARGS, "--keep-going", "-q", "-o", out).exit_code == 0
    (out / "1_1_1002.png").unlink()
    kept = (out / "1_1_1001.png").stat().st_mtime_ns
    result = cli("render", "-n", "5", *TINY_ARGS, "--keep-going", "--skip-existing", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "wrote 3 file(s)" in result.stderr and "kept 2 existing" in result.stderr
    assert (out / "1_1_1001.png").stat().st_mtime_ns == kept
    events = json.loads((out / "manifest.json").read_text())["events"]
    assert [e["event"] for e in events] == [1001, 1002, 1003, 1004, 1005]
    # The kept events keep their full records from the first run.
    assert events[0]["counts"]["muons"] == 2 and "dimuon" in events[0]["masses"]


def test_sigterm_stops_workers_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["render", "--set", "canvas.width=320", "--set", "canvas.height=180", "--jobs", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ispyrender", *args, "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 40
    while not list(out.glob("*.png")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stderr  # 128 + SIGTERM, as a shell reports it
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert hidden(out) == []
    # The manifest lists what was done, marked as interrupted (a resume writes the whole one).
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["interrupted"] is True
    written = {p.name for p in out.glob("*.png")}
    assert {e["output"] for e in manifest["events"]} >= written


def _children(parent: int) -> list[tuple[int, bytes]]:
    """(pid, command line) of the processes whose parent is ``parent``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent:
            found.append((int(stat.parent.name), cmdline))
    return found


def _spawned_workers(parent: int) -> list[int]:
    """pids of the worker processes ``parent`` started: the children of its multiprocessing
    fork server (not the server itself, nor the resource tracker)."""
    servers = [pid for pid, cmd in _children(parent) if b"forkserver" in cmd]
    return [pid for server in servers for pid, _ in _children(server)]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_worker_fails_its_chunk_and_the_rest_is_written(tmp_path: Path) -> None:
    # A worker killed by the kernel (e.g. for memory) loses its chunk only: a new worker takes
    # the next chunks, and the batch ends with a one-line error instead of hanging.
    out = tmp_path / "out"
    args = [*TINY_ARGS, "--jobs", "2", "--keep-going", "-o", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ispyrender", "render", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    victims: list[int] = []
    while not victims and time.monotonic() < deadline:
        victims = _spawned_workers(proc.pid)
        time.sleep(0.01)
    assert victims, "no worker process appeared"
    # Killed as soon as it is forked, long before its first chunk is done.
    os.kill(victims[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    assert "the worker process died (killed by signal 9" in stderr
    events = json.loads((out / "manifest.json").read_text())["events"]
    failed = [e for e in events if e.get("error")]
    # The sample's 20 events go out in chunks of 4: one chunk lost, the rest written.
    assert len(failed) == 4 and all("died" in e["error"] for e in failed)
    assert len(pngs(out)) == 16 and hidden(out) == []


def test_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    start = time.monotonic()
    result = cli("render", "-n", "2", "--scheduler", "tcp://127.0.0.1:9", "-o", out)
    assert time.monotonic() - start < 20
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0]
    assert not out.exists()


def test_more_jobs_than_cores_are_capped_with_a_warning(tmp_path: Path) -> None:
    """--jobs 64 on this machine starts as many workers as it has cores (each is a renderer
    of a few hundred MB), and says so."""
    cores = len(os.sched_getaffinity(0))
    out = tmp_path / "out"
    small = ["--set", "canvas.width=160", "--set", "canvas.height=90"]
    result = cli("render", "-n", "4", "--jobs", "64", *small, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert f"--jobs 64 is more than the {cores} cores" in result.stderr
    assert len(pngs(out)) == 4


@pytest.mark.parametrize("fmt", ["phoenix", "glb", "obj", "html"])
def test_every_event_format_runs_as_a_batch(fmt: str, shared_data: Path, tmp_path: Path) -> None:
    """--jobs and --keep-going take every event format (a cluster exports Phoenix or GLB of
    many events): the same files as one process without a batch, and a manifest."""
    inputs = [str(shared_data / "ig" / "Hto4l_120-130GeV.ig"), "-n", "3", "-f", fmt, "-q"]
    plain = tmp_path / "plain"
    assert cli("render", *inputs, "-o", plain).exit_code == 0
    for flags in (["--jobs", "2"], ["--keep-going"]):
        out = tmp_path / flags[0].strip("-")
        result = cli("render", *inputs, *flags, "-o", out)
        assert result.exit_code == 0, result.stderr
        made = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "manifest.json"}
        assert made == {p.name: p.read_bytes() for p in plain.iterdir()}
        assert len(made) == 3 * (2 if fmt == "obj" else 1)
        manifest = json.loads((out / "manifest.json").read_text())
        assert sorted(e["output"] for e in manifest["events"]) == sorted(
            p.name for p in plain.iterdir() if p.suffix != ".mtl"
        )


def _dask_cli(*args: object, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "ispyrender", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )
    return done, time.monotonic() - start


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines  # no asyncio noise
    return lines[0]


def test_a_scheduler_that_accepts_and_never_answers_is_one_line(tmp_path: Path) -> None:
    """The connection is accepted; the handshake never comes. It used to hang forever."""
    from remote_servers import silent_server

    with silent_server() as host:
        done, seconds = _dask_cli(
            "render", "-n", "2", "--scheduler", f"tcp://{host}", "-o", tmp_path / "out", env={}
        )
    line = _one_line(done)
    assert f"no answer from the Dask scheduler at 'tcp://{host}'" in line, line
    assert seconds < 30
    assert not (tmp_path / "out").exists()


def _processes(*commands: list[str], cwd: Path) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            c, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a worker's own processes go with it
        )
        for c in commands
    ]  # fmt: skip


def _dask(*args: str) -> list[str]:
    return [sys.executable, "-m", "distributed.cli." + args[0], *args[1:]]


def test_a_cluster_without_workers_or_with_a_stuck_one_is_one_line(tmp_path: Path) -> None:
    """A real `dask scheduler` with no worker, then with a worker whose processes are
    stopped (SIGSTOP) while it holds the tasks: each a line within ISPYRENDER_DASK_TIMEOUT."""
    from remote_servers import free_port

    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    env = {"ISPYRENDER_DASK_TIMEOUT": "4"}
    (scheduler,) = _processes(
        _dask("dask_scheduler", "--port", port, "--dashboard-address", ":0"), cwd=tmp_path
    )
    workers: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            done, seconds = _dask_cli(
                "render", "-n", "2", *TINY_ARGS, "--scheduler", address, "-o", tmp_path / "a",
                env=env,
            )  # fmt: skip
            if "cannot reach" not in done.stderr or time.monotonic() > deadline:
                break  # the scheduler is up
            time.sleep(0.5)
        line = _one_line(done)
        assert f"the Dask scheduler at '{address}' has no worker after 4 s" in line, line
        assert seconds < 30
        workers = _processes(
            _dask("dask_worker", address, "--nworkers", "1", "--nthreads", "1",
                  "--no-dashboard"),
            cwd=tmp_path,
        )  # fmt: skip
        done, _ = _dask_cli(
            "render", "-n", "2", *TINY_ARGS, "--scheduler", address, "-q", "-o", tmp_path / "b",
            env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr  # the worker draws
        os.killpg(workers[0].pid, signal.SIGSTOP)
        done, seconds = _dask_cli(
            "render", "-n", "2", *TINY_ARGS, "--scheduler", address, "-o", tmp_path / "c",
            env=env,
        )  # fmt: skip
        line = _one_line(done)
        assert f"no result from the Dask cluster at '{address}' for 4 s" in line, line
        assert seconds < 40
    finally:
        for proc in [*workers, scheduler]:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
