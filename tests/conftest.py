"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Real CMS files live outside the repository: $ISPYRENDER_TEST_DATA, or ../shared/data beside it.
SHARED_DATA = Path(
    os.environ.get("ISPYRENDER_TEST_DATA") or Path(__file__).parents[1].parent / "shared" / "data"
).expanduser()

#: The NanoAOD files of the data folder (see tests/fetch_data.py for their origins); listed
#: here, not globbed, so that a missing file fails instead of leaving nothing to parametrize.
NANOAOD_FILES = (
    "nano_dimuon.root",
    "nano_dy.root",
    "pfnano.root",
    "missing_luminosityBlock.root",
    "nanoAOD_2015_CMS_Open_Data_ttbar.root",
    "cmsopendata2015_ttbar_19980_NANOAOD_RNTupleImporter_rntuple_v1-0-0-1.root",
    "EGamma_2022E_v13.root",
    "NanoAODv5_sample.root",
)


def _data_missing() -> str | None:
    if (SHARED_DATA / "nanoaod").is_dir() and (SHARED_DATA / "ig").is_dir():
        return None
    return (
        f"real CMS test files not found at {SHARED_DATA}: run 'python tests/fetch_data.py' "
        "(or set ISPYRENDER_TEST_DATA to a folder that has them)"
    )


def pytest_report_header(config: pytest.Config) -> str:
    missing = _data_missing()
    return f"real CMS test data: {SHARED_DATA}" if missing is None else missing


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real CMS test files. Outside CI its absence skips the tests that need it
    (with the line saying where to get them); in CI (CI=true) it fails them."""
    missing = _data_missing()
    if missing is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(missing)
        pytest.skip(missing)
    return SHARED_DATA


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-baselines",
        action="store_true",
        default=False,
        help="write tests/baselines/*.png from the current rendering instead of comparing; "
        "look at every new picture before committing it",
    )


@pytest.fixture(scope="session")
def update_baselines(request: pytest.FixtureRequest) -> bool:
    """True when pytest runs with --update-baselines (image tests then write baselines)."""
    return bool(request.config.getoption("--update-baselines"))
