"""3D model exports: the GLB loads with a glTF library and has named, coloured nodes; the OBJ
has one object and material per part; both hold the same geometry as the PNG."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from node_clients import node, npm_package

from ispyrender.config.loader import load_style
from ispyrender.config.style import parse_color
from ispyrender.outputs.models import MODEL_DETECTOR_OPACITY, glb_bytes, named_meshes, obj_bytes
from ispyrender.scene.detector import build_detector
from ispyrender.scene.primitives import Appearance, Polylines, Scene


def _render(tmp_path: Path, fmt: str) -> Path:
    out = tmp_path / fmt
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ispyrender",
            "render",
            "--out",
            str(out),
            "--events",
            "0",
            "--format",
            fmt,
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    return out


def node_paths(gltf: pygltflib.GLTF2) -> list[str]:
    """Each node's name with its parents' ("detector/ecal_barrel"), in node order."""
    parent = {c: i for i, n in enumerate(gltf.nodes) for c in (n.children or [])}

    def path(i: int) -> str:
        name = gltf.nodes[i].name
        return f"{path(parent[i])}/{name}" if i in parent else name

    return [path(i) for i in range(len(gltf.nodes))]


def test_glb_from_the_cli_loads_with_named_coloured_nodes(tmp_path):
    out = _render(tmp_path, "glb")
    (path,) = out.glob("*.glb")
    gltf = pygltflib.GLTF2().load(str(path))
    names = node_paths(gltf)
    for expected in ("detector/ecal_barrel", "detector/muon_barrel", "Muon", "PV"):
        assert expected in names
    # No name holds a character that three.js strips from node names ("[]./:" and spaces):
    # the parts are children of the node "detector" instead.
    assert all(not set(n.name) & set("[]./: ") for n in gltf.nodes)
    assert gltf.nodes[gltf.scenes[0].nodes[0]].name == "detector"
    style = load_style("publication")
    muon = gltf.materials[names.index("Muon")]
    # glTF colours are linear: sRGB 189/255 = 0.741 (the muons' red, #bd1f01) is linear
    # ((0.741 + 0.055) / 1.055) ** 2.4 = 0.509, and 31/255 = 0.122 is 0.0137.
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        for c in parse_color(style.collections.muons.color)
    ]
    assert muon.pbrMetallicRoughness.baseColorFactor[:3] == pytest.approx(linear)
    assert linear[0] == pytest.approx(0.509, abs=0.002) and linear[1] == pytest.approx(
        0.0137, abs=2e-4
    )
    # The publication detector is opaque line-art in pictures; in a model, which a viewer
    # turns to any angle, it is translucent so it never hides the event.
    ecal = gltf.materials[names.index("detector/ecal_barrel")]
    assert style.detector.ecal_barrel.opacity == 1.0
    assert ecal.alphaMode == "BLEND"
    assert ecal.pbrMetallicRoughness.baseColorFactor[3] == pytest.approx(MODEL_DETECTOR_OPACITY)
    blob = gltf.binary_blob()
    for mesh in gltf.meshes:
        acc = gltf.accessors[mesh.primitives[0].attributes.POSITION]
        assert acc.count > 0
        view = gltf.bufferViews[acc.bufferView]
        pts = np.frombuffer(blob, "<f4", acc.count * 3, view.byteOffset).reshape(-1, 3)
        assert np.allclose(pts.min(axis=0), acc.min, atol=1e-5)


def test_track_tube_follows_the_track():
    path = np.linspace([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], 11)
    scene = Scene()
    scene.add(Polylines("Muon", (path,), Appearance((1.0, 0.0, 0.0), 1.0, 2.0)), "Muons", 1)
    (mesh,) = named_meshes([], scene)
    # A tube of radius 0.004 m per pixel of line width (2 px): every vertex is 8 mm from x.
    radial = np.hypot(mesh.points[:, 1], mesh.points[:, 2])
    assert radial == pytest.approx(np.full_like(radial, 0.008), abs=1e-4)
    assert mesh.points[:, 0].min() == pytest.approx(0.0, abs=1e-6)
    assert mesh.points[:, 0].max() == pytest.approx(1.0, abs=1e-6)
    assert glb_bytes([mesh])[:4] == b"glTF"


def test_track_tubes_are_smooth_round_the_track():
    """The tube filter's own normals: each points away from the track's axis. Recomputed with
    a 30-degree feature angle, an 8-sided tube's 45-degree facets were split apart (flat
    shading, twice the vertices)."""
    t = np.linspace(0.0, 1.0, 21)
    path = np.column_stack([t, 0.2 * np.sin(3 * t), np.zeros_like(t)])  # a gentle curve
    scene = Scene()
    scene.add(Polylines("Muon", (path,), Appearance((1.0, 0.0, 0.0), 1.0, 2.0)), "Muons", 1)
    (mesh,) = named_meshes([], scene)
    assert len(mesh.points) <= 9 * len(path)  # a ring of 8 a point, no split copies
    which = np.argmin(np.linalg.norm(mesh.points[:, None] - path[None], axis=2), axis=1)
    inner = (which > 0) & (which < len(path) - 1)  # the rings along it, not at its ends
    outward = mesh.points[inner] - path[which[inner]]
    outward /= np.linalg.norm(outward, axis=1, keepdims=True)
    assert inner.sum() > 100
    assert np.einsum("ij,ij->i", mesh.normals[inner], outward).min() > 0.9


def test_a_crowded_collection_is_thinned_to_the_model_budget(monkeypatch):
    """100,000 PF candidates are 6 million points; a model builds its tubes along at most
    MODEL_POINT_BUDGET of them (every k-th point of each path, its ends kept) and says so in
    the node's extras."""
    from ispyrender.outputs import models

    rng = np.random.default_rng(1)
    paths = tuple(np.cumsum(rng.normal(size=(50, 3)), axis=0) for _ in range(40))
    monkeypatch.setattr(models, "MODEL_POINT_BUDGET", 500)
    thinned, stride = models.model_paths(Polylines("PFCands", paths, Appearance((1, 1, 1), 1, 1)))
    assert stride == 4 and sum(len(p) for p in thinned.paths) <= 40 * (50 // 4 + 2)
    for before, after in zip(paths, thinned.paths, strict=True):
        assert np.array_equal(after[0], before[0]) and np.array_equal(after[-1], before[-1])
        assert np.array_equal(after[1:-1], before[4:-1:4])
    scene = Scene()
    scene.add(Polylines("PFCands", paths, Appearance((1, 1, 1), 1, 1)), "PF candidates", 40)
    gltf = pygltflib.GLTF2.load_from_bytes(glb_bytes(named_meshes([], scene)))
    assert gltf.nodes[0].extras == {"track_points_every": 4}


def test_obj_has_one_object_and_material_per_part(tmp_path):
    out = _render(tmp_path, "obj")
    (obj,) = out.glob("*.obj")
    mtl = obj.with_suffix(".mtl")
    text = obj.read_text()
    assert f"mtllib {mtl.name}" in text
    objects = [line.split()[1] for line in text.splitlines() if line.startswith("o ")]
    materials = [
        line.split()[1] for line in mtl.read_text().splitlines() if line.startswith("newmtl ")
    ]
    assert objects == materials
    assert "detector_ecal_barrel" in objects and "Muon" in objects
    n_vertices = sum(1 for line in text.splitlines() if line.startswith("v "))
    n_normals = sum(1 for line in text.splitlines() if line.startswith("vn "))
    assert n_normals == n_vertices
    faces = [line.split()[1:] for line in text.splitlines() if line.startswith("f ")]
    corners = [c.split("//") for f in faces for c in f]
    assert all(v == n for v, n in corners)  # vertex and normal lists in step
    assert max(int(v) for v, _ in corners) == n_vertices


def test_glb_has_unit_normals_smooth_on_tubes_and_sharp_on_boxes(tmp_path):
    out = _render(tmp_path, "glb")
    (path,) = out.glob("*.glb")
    gltf = pygltflib.GLTF2().load(str(path))
    blob = gltf.binary_blob()

    def read(index: int) -> np.ndarray:
        acc = gltf.accessors[index]
        view = gltf.bufferViews[acc.bufferView]
        return np.frombuffer(blob, "<f4", acc.count * 3, view.byteOffset).reshape(-1, 3)

    names = node_paths(gltf)
    for each, name in zip(gltf.nodes, names, strict=True):
        if each.mesh is None:
            continue
        attributes = gltf.meshes[each.mesh].primitives[0].attributes
        assert attributes.NORMAL is not None, name
        normals, points = read(attributes.NORMAL), read(attributes.POSITION)
        assert normals.shape == points.shape
        assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-3), name
    # The beam pipe is a cylinder: its side's normals point away from the beam, radially
    # (smooth, not one per facet).
    node = gltf.nodes[names.index("detector/beam_pipe")]
    attributes = gltf.meshes[node.mesh].primitives[0].attributes
    normals, points = read(attributes.NORMAL), read(attributes.POSITION)
    side = np.abs(normals[:, 2]) < 0.1
    radial = points[side, :2] / np.linalg.norm(points[side, :2], axis=1, keepdims=True)
    assert side.sum() > 20
    assert np.abs(np.einsum("ij,ij->i", normals[side, :2], radial)).min() > 0.99


def test_detector_alone_exports():
    meshes = named_meshes(build_detector(load_style("publication").detector), Scene())
    obj, mtl = obj_bytes(meshes, "x.mtl")
    assert obj.count(b"\no ") + obj.startswith(b"o ") == len(meshes)
    assert b"newmtl detector_solenoid" in mtl


@pytest.mark.parametrize(
    "source",
    ["sample", "ig/Hto4l_120-130GeV.ig", "nanoaod/EGamma_2022E_v13.root"],
)
def test_glb_passes_the_khronos_validator(tmp_path, shared_data, source):
    """Khronos's glTF validator (the reference, from npm) finds nothing at all to report."""
    inputs = [] if source == "sample" else [str(shared_data / source)]
    out = tmp_path / "glb"
    command = ["render", "--quiet", "--out", str(out), "--events", "0,1", "--format", "glb"]
    subprocess.run(
        [sys.executable, "-m", "ispyrender", *command, *inputs],
        check=True,
        capture_output=True,
    )
    files = sorted(out.glob("*.glb"))
    assert len(files) == 2
    here = npm_package("tools")
    reports = json.loads(node(here / "validate_gltf.js", *map(str, files)))
    for name, report in reports.items():
        issues = report["issues"]
        found = [(m["code"], m.get("pointer")) for m in issues["messages"]]
        assert (issues["numErrors"], issues["numWarnings"], issues["numInfos"]) == (0, 0, 0), (
            name,
            found,
        )
        assert report["info"]["totalVertexCount"] > 1000
