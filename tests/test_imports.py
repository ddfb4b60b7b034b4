"""Import hygiene: `ispyrender --help` stays light, and the heavy libraries stay in their modules.

Only render.py and meshes.py import pyvista (and VTK); only cli.py imports typer and rich. The
CLI imports everything heavy inside its commands, so that `--help` answers at once.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ispyrender

PACKAGE = Path(ispyrender.__file__).parent
# (typer itself imports pydantic to convert parameters: not ours to avoid.)
HEAVY = ("pyvista", "vtk", "vtkmodules", "uproot", "awkward", "matplotlib", "PIL", "numpy")


def test_help_imports_nothing_heavy():
    code = f"""
import sys
from typer.testing import CliRunner
import ispyrender.cli

result = CliRunner().invoke(ispyrender.cli.app, ["--help"])
assert result.exit_code == 0, result.output
assert "render" in result.output
result = CliRunner().invoke(ispyrender.cli.app, ["render", "--help"])
assert result.exit_code == 0, result.output
heavy = sorted(
    name for name in sys.modules
    if name.split(".")[0] in {HEAVY!r} or name.startswith(("rich.progress", "rich.table"))
)
assert not heavy, heavy
print("ok")
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_the_console_script_answers_help():
    proc = subprocess.run(
        [sys.executable, "-m", "ispyrender", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for command in ("render", "inspect", "sample", "styles"):
        assert command in proc.stdout


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a source file imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def sources() -> dict[str, set[str]]:
    found = {str(p.relative_to(PACKAGE)): imported_modules(p) for p in PACKAGE.rglob("*.py")}
    assert "render.py" in found and "cli.py" in found
    return found


def test_only_render_and_meshes_import_pyvista_or_vtk():
    users = sorted(
        name for name, mods in sources().items() if mods & {"pyvista", "vtk", "vtkmodules"}
    )
    assert set(users) <= {"render.py", "meshes.py"}, users
    assert "render.py" in users


def test_only_cli_imports_typer_and_rich():
    users = sorted(name for name, mods in sources().items() if mods & {"typer", "rich", "click"})
    assert users == ["cli.py"]
