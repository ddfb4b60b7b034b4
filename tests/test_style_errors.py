"""A style with several mistakes reports all of them at once: the count first, then one mistake a
line with its file and line (or its --set), in the file's order; the command exits non-zero,
without a traceback, before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ispyrender.config.loader import load_style
from ispyrender.config.messages import StyleErrors

#: Three different mistakes in three sections: an unknown key, a wrong type, a value out of range.
THREE_MISTAKES = """\
canvas:
  width: 800
  hieght: 600
labels:
  show: sometimes
collections:
  muons:
    line_width: -2
"""


@pytest.fixture
def bad_style(tmp_path: Path) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(THREE_MISTAKES, encoding="utf-8")
    return path


def test_every_mistake_is_reported_with_its_line(bad_style: Path) -> None:
    with pytest.raises(StyleErrors) as info:
        load_style(str(bad_style))
    lines = str(info.value).splitlines()
    assert lines[:3] == [
        "3 style errors:",
        f"  {bad_style} line 3: canvas.hieght: unknown key (did you mean 'height'?); allowed: "
        "width, height, background, transparent, anti_aliasing",
        f"  {bad_style} line 5: labels.show: expected true or false, got 'sometimes'",
    ]
    assert lines[3].startswith(
        f"  {bad_style} line 8: collections.muons.line_width = -2: must be greater than 0 "
        "(allowed: above 0"
    )
    assert len(lines) == 4
    assert [p.line for p in info.value.problems] == [3, 5, 8]


def test_overrides_add_their_mistakes_after_the_file(bad_style: Path) -> None:
    with pytest.raises(StyleErrors) as info:
        load_style(str(bad_style), ["camera.zoom=0", "labels.colour=red"])
    lines = str(info.value).splitlines()
    assert lines[0] == "5 style errors:"
    assert lines[4].startswith("  --set camera.zoom=0: camera.zoom = 0: must be greater than 0")
    assert lines[5].startswith("  --set labels.colour=red: labels.colour: unknown key")


def test_an_override_can_fix_one_of_them(bad_style: Path) -> None:
    with pytest.raises(StyleErrors) as info:
        load_style(str(bad_style), ["collections.muons.line_width=2"])
    assert str(info.value).splitlines()[0] == "2 style errors:"


def test_the_command_lists_them_and_exits_non_zero(bad_style: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "COLUMNS": "60"}  # a narrow terminal must not wrap the lines
    proc = subprocess.run(
        [sys.executable, "-m", "ispyrender", "render", "--style", str(bad_style), "-o", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert lines[0] == "error: 3 style errors:"
    assert [line.split(": ")[0] for line in lines[1:]] == [
        f"  {bad_style} line 3",
        f"  {bad_style} line 5",
        f"  {bad_style} line 8",
    ]
    assert not out.exists()


def test_a_movie_over_the_size_limit_is_refused_by_the_style() -> None:
    """15360x8640 (an 8K canvas at animation.scale 2) needed gigabytes and ended in the
    encoder's malloc error with an empty folder; now the style refuses it, saying what fits,
    before any command makes anything."""
    from ispyrender.errors import StyleError

    big = ["canvas.width=7680", "canvas.height=4320"]
    with pytest.raises(StyleError) as caught:
        load_style("outreach", [*big, "animation.scale=2"])
    (line,) = str(caught.value).splitlines()
    assert "15360x8640" in line and "use animation.scale 1 or less" in line
    assert not line.startswith("style error in the style: :")
    assert load_style("outreach", [*big, "animation.scale=1"]).animation.scale == 1


def test_a_style_file_without_base_starts_from_the_commands_preset(tmp_path: Path) -> None:
    """A file without 'base:' under `figure` starts from paper (its panels and masses), not
    publication's single 1920x1080 panel, and the command says so once."""
    mine = tmp_path / "mine.yaml"
    mine.write_text("canvas: {width: 800, height: 400}\n")
    figure = load_style(str(mine), [], default_base="paper")
    assert figure.implicit_base == "paper"
    assert figure.figure == load_style("paper").figure and figure.canvas.width == 800
    assert load_style(str(mine)).implicit_base == "publication"
    assert load_style("paper").implicit_base is None  # a preset is what it says
    out = tmp_path / "figs"
    done = subprocess.run(
        [sys.executable, "-m", "ispyrender", "figure", "-n", "2", "--style", str(mine),
         "--out", str(out)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "has no 'base:'" in line]
    assert len(said) == 1 and "paper preset" in said[0]
