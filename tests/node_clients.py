"""The npm packages that tests open our outputs with (tests/clients/*/package.json, pinned by
their package-lock.json): installed by `.ci/run`, or here on first use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CLIENTS = Path(__file__).parent / "clients"


def npm_package(folder: str) -> Path:
    """tests/clients/<folder> with its node_modules installed (npm ci, from the lock file)."""
    here = CLIENTS / folder
    if not (here / "node_modules").is_dir():
        if shutil.which("npm") is None:
            pytest.fail("npm not found: apt-get install nodejs npm (.ci/run installs them)")
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return here


def node(script: Path, *args: str, timeout: float = 120) -> str:
    """Run a Node.js script of tests/clients and return what it printed."""
    done = subprocess.run(
        ["node", str(script), *args], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
