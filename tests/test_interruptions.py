"""Interrupted runs lose nothing and leave nothing behind.

Batch and single-process runs are stopped with SIGINT, SIGTERM or SIGKILL at seeded random
moments; then the same command is run again with --skip-existing. Afterwards the output folder
must hold byte for byte what an uninterrupted run writes (every PNG, and the manifest of a
batch), no temporary file, and no process of the stopped run may be left (workers die with
their parent, even when the parent is killed with SIGKILL)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EVENTS = ["-n", "20", "--set", "canvas.width=800", "--set", "canvas.height=450"]
#: (signal, --jobs or None for a single-process run) for each trial; the moments are seeded.
TRIALS = [
    (signal.SIGINT, None),
    (signal.SIGTERM, None),
    (signal.SIGKILL, None),
    (signal.SIGINT, 2),
    (signal.SIGTERM, 2),
    (signal.SIGKILL, 2),
    (signal.SIGKILL, 1),
]


def _command(out: Path, jobs: int | None, *extra: str) -> list[str]:
    batch = [] if jobs is None else ["--jobs", str(jobs)]
    command = ["render", "--quiet", "--out", str(out), *EVENTS, *batch, *extra]
    return [sys.executable, "-m", "ispyrender", *command]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str | None, dict[str, bytes]]:
    """What a run that nobody stops writes: single-process (no manifest) and batch."""
    made = {}
    for jobs in (None, 2):
        out = tmp_path_factory.mktemp("whole") / "out"
        subprocess.run(_command(out, jobs), check=True, capture_output=True, timeout=600)
        made[jobs] = _files(out)
    assert "manifest.json" in made[2] and "manifest.json" not in made[None]
    assert len(made[None]) == 20
    return made


def _descendants(pid: int) -> set[int]:
    """Processes whose parent chain leads to ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {c for c, p in parents.items() if p in frontier} - found
        found |= children
        frontier = children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stop_half_way(out: Path, jobs: int | None, sig: signal.Signals, delay: float):  # type: ignore[no-untyped-def]
    """Start the run, wait for its first picture and ``delay`` more seconds, send ``sig``;
    return the process, what it printed, and its processes at that moment."""
    proc = subprocess.Popen(
        _command(out, jobs), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("*.png")):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.02)
    time.sleep(delay)
    family = _descendants(proc.pid)
    proc.send_signal(sig)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the run did not stop within 60 s of {sig.name}")
    return proc, proc.stderr.read() if proc.stderr else "", family


@pytest.mark.parametrize(("sig", "jobs"), TRIALS, ids=lambda v: str(getattr(v, "name", v)))
def test_stop_then_resume_gives_what_an_uninterrupted_run_gives(tmp_path, uninterrupted, sig, jobs):
    out = tmp_path / "out"
    rng = random.Random(f"{sig.name}-{jobs}")
    # A random moment after the first picture; shorter again when the run beat the signal.
    delay = rng.uniform(0.0, 0.8)
    for _ in range(4):
        shutil.rmtree(out, ignore_errors=True)
        proc, stderr, family = _stop_half_way(out, jobs, sig, delay)
        if len(list(out.glob("*.png"))) < 20:
            break
        delay /= 3
    if sig != signal.SIGKILL:
        # The shell's codes: 130 for Ctrl-C (SIGINT), 143 for SIGTERM.
        assert proc.returncode == (143 if sig == signal.SIGTERM else 130), stderr
        assert "Traceback" not in stderr, stderr
        assert "interrupted" in stderr, stderr
        # Nothing partial: only complete PNGs (and, for a batch, the manifest so far).
        assert all(name.endswith(".png") or name == "manifest.json" for name in _files(out)), (
            sorted(_files(out))
        )
        if jobs is not None and (out / "manifest.json").exists():
            assert '"interrupted": true' in (out / "manifest.json").read_text()
    # No process of the stopped run is left, workers included.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in family):
        time.sleep(0.1)
    assert not [p for p in family if _alive(p)], "processes outlived the stopped run"

    made = len(list(out.glob("*.png")))
    assert 0 < made < 20, f"the run was not stopped half-way ({made} of 20 pictures)"
    done = subprocess.run(
        _command(out, jobs, "--skip-existing"), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    got = _files(out)
    expected = uninterrupted[None if jobs is None else 2]
    assert sorted(got) == sorted(expected)  # no temporary left, nothing missing
    different = [name for name in expected if got[name] != expected[name]]
    assert different == [], different


def test_stale_temporaries_of_a_killed_run_are_removed_and_live_ones_kept(tmp_path):
    """Temporaries are held (locked) by the process writing them: the next run removes those
    that nobody holds and never touches a file that is not one of its temporaries."""
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".1_1_1001.png.abcd1234.irtmp", out / ".x.mp4.k2j4l6m8.irtmp"]
    stale.append(out / ".ispyrender-probe.a1b2c3d4.irtmp")
    for path in stale:
        path.write_bytes(b"left behind")
    (out / ".site.q1w2e3r4.irbuild" / "images").mkdir(parents=True)
    stale.append(out / ".site.q1w2e3r4.irbuild")
    live = out / ".1_1_1002.png.efgh5678.irtmp"
    live.write_bytes(b"being written")
    # The user's own files, some with names close to ours; a FIFO with our name is not opened
    # for reading (that would wait for a writer).
    mine = [out / ".thesis.tex.tmp", out / "notes.tmp", out / ".hidden"]
    mine += [out / ".notes.20240101.tmp", out / ".holiday.tmp.mp4", out / ".x.abcdefgh.IRTMP"]
    for path in mine:
        path.write_bytes(b"the user's")
    (out / ".site.old-20240315").mkdir()
    os.mkfifo(out / ".pipe.abcdefgh.irtmp")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running writer holds it
    try:
        small = ["--events", "0", "--set", "canvas.width=160", "--set", "canvas.height=90"]
        done = subprocess.run(
            [sys.executable, "-m", "ispyrender", "render", "--quiet", "--out", str(out), *small],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        os.close(fd)
    assert done.returncode == 0, done.stderr
    assert not any(p.exists() for p in stale)
    assert live.exists() and all(p.read_bytes() == b"the user's" for p in mine)
    assert (out / ".site.old-20240315").is_dir() and (out / ".pipe.abcdefgh.irtmp").exists()


def test_a_stop_signal_waits_for_the_file_and_its_record() -> None:
    """Within interrupts.held() (a batch writing an event's file and its manifest record) a
    stop signal is held and raised when the block ends, not between the two: a SIGTERM there
    once left a picture the interrupted run's manifest did not list."""
    from ispyrender import interrupts

    done = []
    with pytest.raises(KeyboardInterrupt), interrupts.held():
        interrupts.stop(KeyboardInterrupt())  # as the signal handler calls it
        done.append("file")
        done.append("record")
    assert done == ["file", "record"]
    with pytest.raises(KeyboardInterrupt):
        interrupts.stop(KeyboardInterrupt())  # outside a held block: at once
