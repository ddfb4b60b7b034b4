"""A full disk: every command that writes ends in one line naming the file and what to do, no
traceback, no hang (the movie encoder once waited forever for a frame it had already taken),
and no temporary or half-written file left.

The disk is a small tmpfs that the test mounts (CI runs as root; so does this machine's
session). Each command is given a size that runs out part-way through its output."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()

    def mounted(size: str) -> Path:
        subprocess.run(["umount", str(mount)], capture_output=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.fail(f"cannot mount a tmpfs (the test needs root): {done.stderr.strip()}")
        return mount

    yield mounted  # type: ignore[misc]
    subprocess.run(["umount", str(mount)], capture_output=True)


CASES = [
    ("render", "3m", ["render", "-n", "20"]),
    ("batch", "3m", ["render", "-n", "20", "--jobs", "2"]),
    ("html", "3m", ["render", "-n", "5", "--format", "html"]),
    ("figure-eps", "3m", ["figure", "-n", "3", "--format", "eps"]),
    ("gallery", "3m", ["gallery", "-n", "20"]),
    ("mp4", "400k", ["animate", "-n", "1", "--format", "mp4"]),
    ("gif", "400k", ["animate", "-n", "1", "--format", "gif"]),
]


@pytest.mark.parametrize(("name", "size", "command"), CASES, ids=[c[0] for c in CASES])
def test_a_full_disk_is_one_line_and_leaves_nothing_partial(small_disk, name, size, command):
    disk = small_disk(size)
    out = disk / "out"
    done = subprocess.run(
        [sys.executable, "-m", "ispyrender", *command, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], done.stderr[-2000:]
    assert "free some space" in errors[0]
    # Complete files only: no temporary, and every picture that is there reads whole.
    left = [p for p in disk.rglob("*") if p.name.startswith(".")]
    assert left == [], left
    for png in disk.rglob("*.png"):
        from PIL import Image

        with Image.open(png) as image:
            image.load()
