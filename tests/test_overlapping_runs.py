"""Runs that overlap lose nothing: an output folder belongs to one run at a time, and a
folder's manifest accumulates what every batch into it made.

Real processes throughout: a run is started and, while it holds its folder, a second one is
started into the same folder (refused at once, naming the first), into another folder (runs as
usual), or the first is killed (the kernel drops its lock; the folder is free again)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ispyrender.outputs.files import read_png_text
from ispyrender.outputs.lock import LOCK_NAME

SMALL = ["--set", "canvas.width=480", "--set", "canvas.height=270"]
TINY = ["--set", "canvas.width=160", "--set", "canvas.height=90"]


def _command(*args: object) -> list[str]:
    return [sys.executable, "-m", "ispyrender", *(str(a) for a in args)]


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(*args), capture_output=True, text=True, timeout=300)


def _start(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def _refusal(done: subprocess.CompletedProcess[str], holder: int, what: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {what} ") and "Traceback" not in done.stderr
    assert f"in use by another run, process {holder} (" in lines[0], lines[0]
    assert "wait for it to end, or choose another --out" in lines[0]


def _styles(folder: Path) -> dict[str, str]:
    return {p.name: read_png_text(p)["ispyrender.style"] for p in sorted(folder.glob("*.png"))}


@pytest.mark.parametrize("batch", [[], ["--jobs", "2"]], ids=["one process", "batch"])
def test_a_second_run_into_a_busy_folder_is_refused_and_nothing_is_lost(
    tmp_path: Path, batch: list[str]
) -> None:
    out, other = tmp_path / "out", tmp_path / "other"
    first = _start("render", "-n", "20", *SMALL, *batch, "-q", "--out", out)
    try:
        _wait_for(out / LOCK_NAME, first)
        second = _run(
            "render", "-n", "20", *SMALL, "--style", "outreach", "--overwrite", "-q",
            "--out", out,
        )  # fmt: skip
        _refusal(second, first.pid, "output folder")
        # Into another folder at the same time: as usual.
        beside = _run("render", "-n", "2", *TINY, "-q", "--out", other)
        assert beside.returncode == 0, beside.stderr
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    # Every picture is the first run's, and the lock went with it.
    assert set(_styles(out).values()) == {"publication"} and len(_styles(out)) == 20
    assert not (out / LOCK_NAME).exists() and not (other / LOCK_NAME).exists()
    again = _run(
        "render", "-n", "2", *TINY, "--style", "outreach", "--overwrite", "-q", "--out", out
    )
    assert again.returncode == 0, again.stderr


def test_two_galleries_into_one_folder_one_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = _start("gallery", "-n", "6", *SMALL, "-q", "--out", site)
    try:
        _wait_for(tmp_path / ".site-ispyrender.lock", first)
        second = _run("gallery", "-n", "3", *SMALL, "--overwrite", "-q", "--out", site)
        _refusal(second, first.pid, "gallery")
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert len(list((site / "images").glob("*.png"))) == 6
    assert not (tmp_path / ".site-ispyrender.lock").exists()


def test_a_killed_run_leaves_its_folder_free(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = _start("render", "-n", "20", *SMALL, "-q", "--out", out)
    _wait_for(out / LOCK_NAME, first)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    done = _run("render", "-n", "20", *TINY, "--skip-existing", "-q", "--out", out)
    assert done.returncode == 0, done.stderr
    assert len(list(out.glob("*.png"))) == 20 and not (out / LOCK_NAME).exists()


def test_a_refused_run_leaves_no_folder_behind(tmp_path: Path) -> None:
    """The lock is taken before the plan is checked: a run the plan refuses (two events, one
    name) gives back the folders the lock made."""
    out = tmp_path / "new" / "deeper"
    same_name = ["--set", "output.name_template=same.png"]
    done = _run("render", "-n", "2", *TINY, *same_name, "-q", "--out", out)
    assert done.returncode == 2 and "same.png" in done.stderr, done.stderr
    assert not (tmp_path / "new").exists()


def test_batches_into_one_folder_accumulate_in_its_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"

    def batch(*args: object) -> dict:  # type: ignore[type-arg]
        done = _run("render", *args, *TINY, "--jobs", "1", "-q", "--out", out)
        assert done.returncode == 0, done.stderr
        return json.loads((out / "manifest.json").read_text())  # type: ignore[no-any-return]

    batch("--events", "0:5")
    manifest = batch("--events", "5:10")
    # The second batch lists the first's events too (it used to replace them).
    assert [e["entry"] for e in manifest["events"]] == list(range(10))
    assert len(manifest["runs"]) == 1  # the same inputs and style: one run
    assert {e["made_by"] for e in manifest["events"]} == {0}
    assert {e["run"] for e in manifest["events"]} == {1}  # the events' own run number
    manifest = batch("--events", "3:6", "--style", "outreach", "--overwrite")
    assert [r["style"]["name"] for r in manifest["runs"]] == ["publication", "outreach"]
    made_by = {e["entry"]: e["made_by"] for e in manifest["events"]}
    assert made_by == {i: 1 if 3 <= i < 6 else 0 for i in range(10)}
    # A file taken away since is no longer listed by the next batch.
    gone = next(e["output"] for e in manifest["events"] if e["entry"] == 8)
    (out / gone).unlink()
    manifest = batch("--events", "0:1", "--overwrite")
    assert [e["entry"] for e in manifest["events"]] == [0, 1, 2, 3, 4, 5, 6, 7, 9]


def test_what_the_memory_cannot_hold_is_refused_before_it_is_tried() -> None:
    """A size the machine's free memory cannot hold is one line saying what fits; the
    estimate is the one measured here (a 7680x4320 PNG peaked at 2.8 GB)."""
    from ispyrender.errors import OutputError
    from ispyrender.jobs.memory import available_bytes, check_fits, needed_bytes

    assert 2.6e9 < needed_bytes(7680, 4320, "picture") < 3.3e9
    check_fits(7680, 4320, "picture", available=4 * 1024**3)  # fits
    with pytest.raises(OutputError) as refused:
        check_fits(7680, 4320, "movie", available=2 * 1024**3)
    message = str(refused.value)
    assert message.startswith("a 7680x4320 movie needs about 4.8 GB of memory, and this machine")
    assert "has 2.1 GB free: make it smaller (at most about " in message
    size = message.split("at most about ")[1].split(":")[0]
    w, h = (int(v) for v in size.split("x"))
    assert needed_bytes(w, h, "movie") <= 2 * 1024**3 < needed_bytes(w + 16, h + 9, "movie")
    assert available_bytes() is None or available_bytes() > 0  # read from /proc/meminfo
