"""Import hygiene: `ispyrender --help` stays light, the heavy libraries stay in their layer,
and data flows one way through the subpackages.

Only rendering/ imports pyvista (and VTK); only figures/ imports matplotlib; only cli/ imports
typer and rich. The CLI imports everything heavy inside its commands, so that `--help` answers
at once.
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
    """Full names of every module a source file imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # "from ispyrender.jobs import render" imports the module ispyrender.jobs.render.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def sources() -> dict[str, set[str]]:
    """Package-relative path -> imported module names, for every module of the package."""
    found = {p.relative_to(PACKAGE).as_posix(): imported_modules(p) for p in PACKAGE.rglob("*.py")}
    assert "rendering/renderer.py" in found and "cli/__init__.py" in found
    return found


def _tops(mods: set[str]) -> set[str]:
    return {m.split(".")[0] for m in mods}


def test_only_the_render_layer_imports_pyvista_or_vtk():
    users = sorted(
        name for name, mods in sources().items() if _tops(mods) & {"pyvista", "vtk", "vtkmodules"}
    )
    assert users and all(name.startswith("rendering/") for name in users), users


def test_only_the_cli_imports_typer_and_rich():
    users = sorted(
        name for name, mods in sources().items() if _tops(mods) & {"typer", "rich", "click"}
    )
    assert users and all(name.startswith("cli/") for name in users), users


def test_only_figure_code_imports_matplotlib():
    users = sorted(name for name, mods in sources().items() if "matplotlib" in _tops(mods))
    assert users and all(name.startswith("figures/") for name in users), users


#: The layers in the order data flows through them. A module may import its own layer and the
#: layers before it, never a later one: sources -> selection -> physics -> scene -> rendering ->
#: outputs (files, models, pages, video) -> figures (matplotlib views, which encode through
#: outputs) -> jobs -> api -> cli, with errors and config (the style) below everything.
LAYERS = (
    "errors",
    "config",
    "sources",
    "selection",
    "physics",
    "scene",
    "rendering",
    "outputs",
    "figures",
    "jobs",
    "api",
    "cli",
)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "ispyrender" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


def test_data_flows_one_way():
    backwards = []
    for name, mods in sources().items():
        here = name.split("/")[0].removesuffix(".py")
        if here not in LAYERS:
            continue
        for mod in mods:
            there = _layer(mod)
            if there is not None and LAYERS.index(there) > LAYERS.index(here):
                backwards.append(f"{name} imports {mod}")
    assert not backwards, backwards


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ispyrender"):
                offenders += [
                    f"{path.relative_to(PACKAGE)}: {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and a.name != "__version__"
                ]
    assert not offenders, offenders
