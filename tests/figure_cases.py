"""Events and styles shared by the figure, view and mass tests."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from ispyrender.config.loader import load_style
from ispyrender.config.style import Style
from ispyrender.physics.nanoaod import branch_plan, build_event
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.scene.event import build_scene
from ispyrender.scene.primitives import Scene
from ispyrender.sources.nanoaod import Dataset
from ispyrender.sources.sample import sample_path

#: Built-in sample entries: 3 is ttbar (a muon, four jets, a fat jet, secondary vertices),
#: 2 a diphoton event (photon towers), 0 a Z to two muons.
TTBAR, DIPHOTON, DIMUON = 3, 2, 0


def update_option(request: pytest.FixtureRequest) -> bool:
    """--update-baselines (from tests/conftest.py); False where that option is not defined."""
    return bool(request.config.getoption("--update-baselines", default=False))


def style_for(*overrides: str, base: str = "publication") -> Style:
    return load_style(base, list(overrides))


@functools.lru_cache(maxsize=8)
def sample_event(index: int) -> tuple[PhysicsEvent, Scene]:
    style = style_for()
    with Dataset([str(sample_path())]) as dataset:
        plan = branch_plan(style, dataset.available_branches())
        record = next(iter(dataset.iter_events([index], plan.branches)))
    event = build_event(record, style, plan)
    return event, build_scene(event, style)


def rgb(image: np.ndarray) -> np.ndarray:
    return image[..., :3]
