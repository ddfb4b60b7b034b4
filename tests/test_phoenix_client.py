"""Our Phoenix JSON loaded by Phoenix itself: the loader of the HSF Phoenix event display
(phoenix-event-display, pinned in tests/clients/phoenix/package-lock.json) builds its three.js
objects from `ispyrender render --format phoenix` in headless Chromium, and the test reads back
what it built: every collection recognised, as many objects as exported, each in the colour the
PNG draws its collection in, photons on the ECAL front face, jets along their axis from their
vertex, no console error or warning (THREE.Color warns "Unknown color" and draws white for a
colour it cannot read). The scene is also drawn and written to tests/output/phoenix/ for a
person to compare with the PNG of the same event.

tests/clients/phoenix/harness.js is the page's script (Phoenix's PhoenixLoader into Phoenix's
SceneManager, which need no Angular), bundled here by esbuild; `npm ci` in tests/clients/phoenix
installs both (.ci/run does; the test does it on first use).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromium import Browser
from node_clients import npm_package
from typer.testing import CliRunner

from ispyrender.cli import app
from ispyrender.config.loader import load_style
from ispyrender.config.style import parse_color
from ispyrender.physics.cms_dimensions import ECAL_ENTRANCE
from ispyrender.physics.trajectories import line_exit_distance
from ispyrender.rendering.renderer import CAMERA_PRESETS
from ispyrender.scene.event import direction

OUTPUT = Path(__file__).parent / "output" / "phoenix"

#: Phoenix collection -> the style key whose colour the PNG draws it in.
STYLE_KEYS = {
    "Muon": "muons",
    "Electron": "electrons",
    "IsoTrack": "isotracks",
    "AK4Jets": "jets",
    "AK8Jets": "fatjets",
    "Taus": "taus",
    "Photons": "photons",
    "MET": "met",
    "PrimaryVertices": "vertices",
    "SecondaryVertices": "secondary_vertices",
}

#: The object types PhoenixLoader.loadObjectTypes draws that the export writes.
OBJECT_TYPES = {"Tracks", "Jets", "CaloClusters", "MissingEnergy", "Vertices"}

#: (name, file under the shared nanoaod folder or None for the built-in sample, selection).
#: The real events: 2022 EGamma collision data with an electron, a photon in the barrel (its
#: other photon is the electron's deposit), jets and MET; 2018 simulation with electrons, taus,
#: jets and photons in the endcaps.
EVENTS = [
    ("sample", None, ["--events", "0"]),
    ("egamma2022", "EGamma_2022E_v13.root", ["--ids", "359571:151:32894558"]),
    ("nanoaodv5", "NanoAODv5_sample.root", ["--ids", "1:30303:12424201"]),
]

MM = 1000.0


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The harness page with its bundle, built from tests/clients/phoenix into a temporary
    folder."""
    here = npm_package("phoenix")
    out = tmp_path_factory.mktemp("phoenix-harness")
    done = subprocess.run(
        [
            str(here / "node_modules" / ".bin" / "esbuild"),
            "harness.js",
            "--bundle",
            "--format=iife",
            "--log-level=warning",
            f"--outfile={out / 'phoenix-harness.js'}",
        ],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    shutil.copy(here / "index.html", out / "index.html")
    return out / "index.html"


@pytest.fixture(scope="module")
def phoenix_version() -> tuple[int, ...]:
    package = npm_package("phoenix") / "node_modules" / "phoenix-event-display" / "package.json"
    return tuple(int(p) for p in json.loads(package.read_text())["version"].split("."))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    chromium = Browser(tmp_path_factory.mktemp("chromium"), width=960, height=540)
    yield chromium
    chromium.close()


def export(inputs: list[str], selection: list[str], out: Path) -> dict[str, Any]:
    """One event through `ispyrender render --format phoenix`: the event object."""
    result = CliRunner().invoke(
        app, ["render", *inputs, *selection, "--format", "phoenix", "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    (path,) = out.glob("*.json")
    (event,) = json.loads(path.read_text()).values()
    return dict(event)


def rgb(color: str) -> str:
    """A style colour as three.js's getHexString writes it."""
    return "".join(f"{round(c * 255):02x}" for c in parse_color(color)[:3])


@pytest.mark.parametrize(("name", "file", "selection"), EVENTS, ids=[e[0] for e in EVENTS])
def test_phoenix_draws_the_event_as_the_png(
    name: str,
    file: str | None,
    selection: list[str],
    request: pytest.FixtureRequest,
    harness: Path,
    browser: Any,
    phoenix_version: tuple[int, ...],
    tmp_path: Path,
) -> None:
    inputs = (
        [] if file is None else [str(request.getfixturevalue("shared_data") / "nanoaod" / file)]
    )
    event = export(inputs, selection, tmp_path)
    style = load_style("publication")  # the CLI's default
    colour = {coll: rgb(getattr(style.collections, key).color) for coll, key in STYLE_KEYS.items()}

    browser.open(harness)
    built = browser.js(f"phoenixLoad({json.dumps(event)})")
    assert browser.errors() == []
    assert browser.console("warning") == []  # "THREE.Color: Unknown color ..." and the like

    # Only the object types are objects: Phoenix takes every object at the top for a type and
    # its keys for collections.
    types = {key for key, value in event.items() if isinstance(value, dict)}
    assert types <= OBJECT_TYPES
    exported = {(t, c): items for t in types for c, items in event[t].items()}
    assert all(exported.values()), "no empty collections (Phoenix skips them)"
    assert sorted(built["collections"]) == sorted(c for _, c in exported)
    assert {(t, c) for t, c, _ in built["menus"]} == set(exported)
    drawn = {(t, c): objs for t, colls in built["types"].items() for c, objs in colls.items()}
    assert {k: len(v) for k, v in drawn.items()} == {k: len(v) for k, v in exported.items()}
    label = "Run / Event / LS" if "ls" in event else "Run / Event"
    values = [event["run number"], event["event number"], event.get("ls")]
    value = " / ".join(str(v) for v in values if v is not None)
    assert built["metadata"] == [{"label": label, "value": value}]
    if file is not None:  # the real events have every kind of object
        assert types == OBJECT_TYPES and ("CaloClusters", "Photons") in exported

    for (kind, coll), objects in drawn.items():
        for obj in objects:
            # Tube and line of a track, cone, box, sphere, dashed line: the collection's colour.
            assert obj["colours"] == [colour[coll]], (kind, coll, obj)
            assert all(v is not None and math.isfinite(v) for v in obj["position"]), obj

    vertex = np.array([[v["x"], v["y"], v["z"]] for v in event["Vertices"]["PrimaryVertices"]])
    for obj, item in zip(
        drawn[("Vertices", "PrimaryVertices")], event["Vertices"]["PrimaryVertices"], strict=True
    ):
        assert obj["position"] == pytest.approx([item["x"], item["y"], item["z"]], abs=1e-3)
        assert obj["radius"] == pytest.approx(style.collections.vertices.radius * MM)

    for (kind, coll), objects in drawn.items():
        items = exported[(kind, coll)]
        if kind == "Tracks":
            for obj, item in zip(objects, items, strict=True):
                start, end = obj["line"]  # the curve through the points the PNG draws
                assert start == pytest.approx(item["pos"][0], abs=1e-2)
                assert end == pytest.approx(item["pos"][-1], abs=1e-2)
        elif kind == "Jets":
            for obj, item in zip(objects, items, strict=True):
                axis = direction(np.array(item["eta"]), np.array(item["phi"]))
                assert obj["axis"] == pytest.approx(axis.tolist(), abs=1e-3)
                origin = [item["origin_X"], item["origin_Y"], item["origin_Z"]]
                assert origin == pytest.approx(vertex[0].tolist(), abs=1e-3)  # from the vertex
                # Phoenix reads the jet's origin from 4.0 on (HSF/phoenix b5868715); 3.0.5
                # draws every jet from the centre of the detector.
                apex = origin if phoenix_version >= (4,) else [0.0, 0.0, 0.0]
                assert obj["apex"] == pytest.approx(apex, abs=1e-2)
        elif kind == "CaloClusters":
            width = style.collections.photons.deposit_width
            pairs = zip(objects, items, strict=True)
            faces = {check_photon(o, i, vertex[0] / MM, width) for o, i in pairs}
            # A loose photon that is no electron: in the barrel (|eta| 0.91) and in the
            # endcaps (|eta| 1.76 and 1.80).
            assert faces == {"egamma2022": {"barrel"}, "nanoaodv5": {"endcap"}}.get(name, faces)
        elif kind == "MissingEnergy":
            (obj,) = objects
            start, end = obj["line"]
            assert start == [0, 0, 0]
            assert end == pytest.approx([items[0]["etx"], items[0]["ety"], 0], abs=1e-2)

    # The scene, to look at beside the PNG (`ispyrender render ... --out DIR`): the camera of
    # the PNG's view, around the vertex; once whole and once without Phoenix's jets, which it
    # draws far longer than the PNG (energy * 0.2 mm: 10 m for 50 GeV).
    azimuth, elevation = np.radians(CAMERA_PRESETS[style.camera.preset])
    eye = [
        np.sin(azimuth) * np.cos(elevation),
        np.sin(elevation),
        np.cos(azimuth) * np.cos(elevation),
    ]
    frame = [(vertex[0] - 1500.0).tolist(), (vertex[0] + 1500.0).tolist()]
    background = "#" + rgb(style.canvas.background)
    for suffix, hidden in (("", []), ("-without-jets", ["Jets"])):
        args = ", ".join(json.dumps(a) for a in (background, eye, frame, hidden))
        browser.js(f"phoenixDraw({args})")
        assert browser.errors() == []
        pixels = browser.screenshot(OUTPUT / f"{name}{suffix}.png").astype(int)
        painted = np.abs(pixels - np.array(parse_color(background)) * 255).max(axis=-1) > 30
        assert painted.sum() > 500, f"{name}{suffix}: nothing drawn"
        if hidden and ("CaloClusters", "Photons") in exported:
            # The photons' boxes, lit by Phoenix's lights, in the photons' hue.
            assert same_hue(pixels, colour["Photons"]).sum() > 50


def same_hue(pixels: np.ndarray, color: str) -> np.ndarray:
    """Pixels of about the hue of ``color`` (hex digits), saturated: the colour under light."""

    def hue_saturation(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, g, b = np.moveaxis(rgb / 255.0, -1, 0)
        top, low = np.max([r, g, b], axis=0), np.min([r, g, b], axis=0)
        span = np.where(top > low, top - low, 1.0)
        hue = np.where(
            top == r, (g - b) / span % 6, np.where(top == g, (b - r) / span + 2, (r - g) / span + 4)
        )
        return hue * 60.0, np.where(top > 0, (top - low) / np.maximum(top, 1e-9), 0.0)

    want, _ = hue_saturation(np.array([int(color[i : i + 2], 16) for i in (0, 2, 4)], float))
    hue, saturation = hue_saturation(pixels.astype(float))
    turn = np.abs((hue - want + 180.0) % 360.0 - 180.0)
    return (turn < 12.0) & (saturation > 0.5)


def check_photon(
    obj: dict[str, Any], item: dict[str, Any], vertex: np.ndarray, width: float
) -> str:
    """A photon's box stands on the ECAL front face where the line from the vertex along the
    photon meets it (as in the PNG), is as wide as the style says and points along the photon.
    Which face: "barrel" or "endcap"."""
    inner, outer = sorted(obj["ends"], key=lambda p: float(np.linalg.norm(p)))
    inner = np.asarray(inner)
    rho, z = float(np.hypot(inner[0], inner[1])), float(inner[2])
    radius, half_length = ECAL_ENTRANCE.radius * MM, ECAL_ENTRANCE.half_length * MM
    on_barrel = abs(rho - radius) < 0.5 and abs(z) <= half_length + 0.5
    on_endcap = abs(abs(z) - half_length) < 0.5 and rho <= radius + 0.5
    assert on_barrel or on_endcap, (rho, z, item)

    axis = direction(np.array([item["eta"]]), np.array([item["phi"]]))
    face = (vertex + axis[0] * line_exit_distance(vertex[None], axis, ECAL_ENTRANCE)[0]) * MM
    assert rho == pytest.approx(float(np.hypot(face[0], face[1])), abs=0.5)
    assert z == pytest.approx(float(face[2]), abs=0.5)
    turn = math.atan2(inner[1], inner[0]) - item["phi"]
    assert abs(math.remainder(turn, math.tau)) < 2e-3  # the vertex is a fraction of a mm off
    along = (np.asarray(outer) - inner) / np.linalg.norm(np.asarray(outer) - inner)
    assert along == pytest.approx(axis[0].tolist(), abs=0.02)
    assert obj["side"] == pytest.approx(width * MM)
    assert obj["depth"] == pytest.approx(max(item["length"], item["side"]), abs=1e-2)
    return "barrel" if on_barrel else "endcap"
