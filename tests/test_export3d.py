"""3D model exports: the GLB loads with a glTF library and has named, coloured nodes; the OBJ
has one object and material per part; both hold the same geometry as the PNG."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pygltflib
import pytest

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


def test_glb_from_the_cli_loads_with_named_coloured_nodes(tmp_path):
    out = _render(tmp_path, "glb")
    (path,) = out.glob("*.glb")
    gltf = pygltflib.GLTF2().load(str(path))
    names = [n.name for n in gltf.nodes]
    for expected in ("detector/ecal_barrel", "detector/muon_barrel", "Muon", "PV"):
        assert expected in names
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
    faces = [line.split()[1:] for line in text.splitlines() if line.startswith("f ")]
    assert max(int(i) for f in faces for i in f) == n_vertices


def test_detector_alone_exports():
    meshes = named_meshes(build_detector(load_style("publication").detector), Scene())
    obj, mtl = obj_bytes(meshes, "x.mtl")
    assert obj.count(b"\no ") + obj.startswith(b"o ") == len(meshes)
    assert b"newmtl detector_solenoid" in mtl
