"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

# Real CMS files live beside the repository (../shared/data), never inside it.
SHARED_DATA = Path(__file__).parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real CMS test files; failing (not skipping) when it is absent."""
    if not (SHARED_DATA / "nanoaod").is_dir():
        pytest.fail(
            f"real test data not found at {SHARED_DATA}; check out the shared data folder "
            "beside the repository (../shared/data)"
        )
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
