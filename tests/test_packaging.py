"""What a user installs: the wheel holds every module of the checkout, --version answers, and
every error of the package is a ValueError for Python users."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ispyrender
from ispyrender import errors

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_every_module_and_preset(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT),
         "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("ispyrender-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "ispyrender").rglob("*.py")}
    presets = {f"ispyrender/configs/{p.name}" for p in (ROOT / "configs").glob("*.yaml")}
    selections = {
        f"ispyrender/configs/selections/{p.name}"
        for p in (ROOT / "configs/selections").glob("*.yaml")
    }
    assert modules and presets and selections
    assert modules - names == set()
    assert presets - names == set()
    assert selections - names == set()


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ispyrender", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"ispyrender {ispyrender.__version__}"


@pytest.mark.parametrize(
    "error",
    [
        errors.IspyError,
        errors.UsageError,
        errors.InputError,
        errors.SelectionError,
        errors.StyleError,
        errors.OutputError,
        errors.RenderingError,
    ],
)
def test_every_package_error_is_a_value_error(error: type[Exception]) -> None:
    assert issubclass(error, ValueError)
    with pytest.raises(ValueError, match="one line"):
        raise error("one\nline")


def test_a_wrong_format_is_a_usage_error_everywhere() -> None:
    from ispyrender.outputs.registry import check_format

    with pytest.raises(errors.UsageError, match="use png, phoenix, glb, obj, html"):
        check_format("jpeg")
    with pytest.raises(errors.UsageError, match="use mp4, webm, gif"):
        check_format("avi", "movie")
