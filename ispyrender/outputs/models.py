"""3D model exports of an event with its detector: binary glTF (.glb) and Wavefront OBJ.

Every detector part and every physics collection becomes one named node/object with its style
colour and opacity, like iSpy's scene export, so the model can be opened in Blender, three.js or
any glTF viewer. In glTF the detector parts are children of one node "detector" ("detector" >
"ecal_barrel"), the event's collections ("Muon", "Jet", ...) sit at the top: names with "/" or
"." lose those characters in three.js, whose animation paths reserve them. In OBJ, which has no
hierarchy, a part is "detector_ecal_barrel".

Tracks are turned into thin tubes: glTF viewers draw GL lines one pixel wide, if at all. Every
vertex carries a normal: smooth across curved surfaces (tubes, cylinders, cones) and split at
edges sharper than 30 degrees (boxes, the ends of cylinders), so viewers shade the model as the
PNG is shaded; without normals three.js and Blender shade each triangle flat. The triangle
meshes come from :mod:`ispyrender.rendering.meshes` (rendering code), the same ones the PNGs are
rendered from.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from ispyrender.outputs import jsontext
from ispyrender.scene.primitives import Polylines, Primitive, Scene, Tube

TUBE_RADIUS_PER_PIXEL = 0.004  # metres of tube radius per pixel of line width
#: Edges sharper than this keep separate normals on each side (a box's edges); softer ones are
#: smoothed (the facets of a tube or a cylinder).
FEATURE_ANGLE = 30.0
DETECTOR = "detector"


@dataclass(frozen=True)
class NamedMesh:
    name: str  # the part ("ecal_barrel") or the collection ("Muon")
    points: np.ndarray  # (N, 3) float32, metres
    triangles: np.ndarray  # (M, 3) uint32
    color: tuple[float, float, float]
    opacity: float
    normals: np.ndarray  # (N, 3) float32, unit length
    detector: bool = False  # a part of the detector, not of the event
    stride: int = 1  # its tracks keep every stride-th point (MODEL_POINT_BUDGET)

    @property
    def flat_name(self) -> str:
        """The name in formats without a hierarchy: "detector_ecal_barrel", "Muon"."""
        name = f"{DETECTOR}_{self.name}" if self.detector else self.name
        return name.replace("/", "_").replace(" ", "_")


def _triangles(prim: Primitive) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    from ispyrender.rendering.meshes import primitive_mesh

    mesh = primitive_mesh(prim)
    if mesh.n_points == 0:
        return None
    if isinstance(prim, Polylines) or (isinstance(prim, Tube) and prim.look.wireframe):
        tube = mesh.tube(radius=TUBE_RADIUS_PER_PIXEL * prim.look.line_width, n_sides=8)
        tube = tube.triangulate()
        if tube.n_cells == 0:
            return None
        # The tube filter's own normals: smooth round the tube, as a tube is. Recomputed
        # with the feature angle, the 45-degree facets of an 8-sided tube were split apart
        # (flat-shaded tubes, twice the vertices; 100,000 PF candidates took 8 s and 2.5 GB).
        faces = np.asarray(tube.faces).reshape(-1, 4)[:, 1:]
        normals = np.asarray(tube.point_data["TubeNormals"], dtype=np.float32)
        return _unit(np.asarray(tube.points, dtype=np.float32), faces, normals)
    mesh = mesh.triangulate()  # already PolyData: surfaces
    if mesh.n_cells == 0:
        return None
    # Vertices on a sharp edge are split so that each face keeps its own normal there.
    mesh = mesh.compute_normals(
        cell_normals=False,
        point_normals=True,
        split_vertices=True,
        feature_angle=FEATURE_ANGLE,
        consistent_normals=False,  # the meshes are consistent already; this pass is slow
        auto_orient_normals=False,
    )
    faces = np.asarray(mesh.faces).reshape(-1, 4)[:, 1:]
    normals = np.asarray(mesh.point_data["Normals"], dtype=np.float32)
    return _unit(np.asarray(mesh.points, dtype=np.float32), faces, normals)


def _unit(
    points: np.ndarray, faces: np.ndarray, normals: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mesh as written: uint32 triangles, and unit normals everywhere. A vertex of
    degenerate triangles only (a tube over repeated track points) gets no direction from VTK;
    glTF requires unit normals, and any direction shades such a point."""
    length = np.linalg.norm(normals, axis=1)
    flat = length < 0.5
    normals = normals / np.where(flat, 1.0, length)[:, None]
    normals[flat] = (0.0, 0.0, 1.0)
    return points, faces.astype(np.uint32), normals.astype(np.float32)


#: Largest opacity of a detector part in a 3D model. A picture is seen from the style's camera,
#: through the cut-away wedge and with the event drawn over the detector; a model is turned
#: to any angle in a viewer that depth-sorts everything, so an opaque detector would hide the
#: event from most sides.
MODEL_DETECTOR_OPACITY = 0.2


#: The most track points one collection's tubes are built along in a 3D model: each point is
#: a ring of 8 vertices. An event of 100,000 PF candidates has 6 million points (a 1 GB GLB,
#: 5.4 GB of memory to make); above this budget every path keeps every k-th point (and its
#: ends), a coarser but whole picture of the same tracks, and the model says so in its
#: asset.extras. (PNGs draw lines, not tubes, and are not simplified.)
MODEL_POINT_BUDGET = 600_000


def model_paths(prim: Polylines) -> tuple[Polylines, int]:
    """``prim`` within MODEL_POINT_BUDGET points, and the stride it was thinned by (1: as
    it was)."""
    total = sum(len(p) for p in prim.paths)
    if total <= MODEL_POINT_BUDGET:
        return prim, 1
    stride = -(-total // MODEL_POINT_BUDGET)
    thinned = tuple(p if len(p) <= 2 else np.vstack([p[:-1:stride], p[-1:]]) for p in prim.paths)
    return Polylines(prim.group, thinned, prim.look), stride


def named_meshes(detector: list[Primitive], scene: Scene) -> list[NamedMesh]:
    """One mesh per group: detector parts first, then the event."""
    groups: dict[tuple[bool, str], list[Primitive]] = {}
    strides: dict[str, int] = {}
    for prim in detector:
        groups.setdefault((True, prim.group), []).append(prim)
    for prim in scene.primitives:
        if isinstance(prim, Polylines):
            prim, stride = model_paths(prim)
            strides[prim.group] = max(stride, strides.get(prim.group, 1))
        groups.setdefault((False, prim.group), []).append(prim)
    out = []
    for (is_detector, name), prims in groups.items():
        points, tris, normals, offset = [], [], [], 0
        for prim in prims:
            got = _triangles(prim)
            if got is None:
                continue
            pts, faces, norms = got
            points.append(pts)
            tris.append(faces + offset)
            normals.append(norms)
            offset += len(pts)
        if points:
            look = prims[0].look
            opacity = look.opacity
            if is_detector:
                opacity = min(opacity, MODEL_DETECTOR_OPACITY)
            out.append(
                NamedMesh(
                    name,
                    np.vstack(points),
                    np.vstack(tris),
                    look.color,
                    opacity,
                    np.vstack(normals),
                    detector=is_detector,
                    stride=1 if is_detector else strides.get(name, 1),
                )
            )
    return out


def srgb_to_linear(rgb: tuple[float, float, float]) -> list[float]:
    """Style colours are sRGB (as in CSS and the PNGs); glTF's baseColorFactor is linear, and
    viewers (three.js, Blender) convert it back to sRGB for the screen. Written unconverted,
    every colour comes out paler: the muons' red turned pink in three.js."""
    return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]


def glb_bytes(meshes: list[NamedMesh]) -> bytes:
    """A binary glTF 2.0 file: one node, mesh and PBR material per named mesh."""
    blob = bytearray()
    views: list[dict[str, int]] = []
    accessors: list[dict[str, object]] = []
    gl_meshes: list[dict[str, object]] = []
    materials: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []

    def add_view(data: bytes, target: int) -> int:
        while len(blob) % 4:
            blob.append(0)
        views.append(
            {"buffer": 0, "byteOffset": len(blob), "byteLength": len(data), "target": target}
        )
        blob.extend(data)
        return len(views) - 1

    for i, m in enumerate(meshes):
        pos_view = add_view(m.points.astype("<f4").tobytes(), 34962)  # ARRAY_BUFFER
        normal_view = add_view(m.normals.astype("<f4").tobytes(), 34962)
        idx_view = add_view(m.triangles.astype("<u4").tobytes(), 34963)  # ELEMENT_ARRAY_BUFFER
        attributes = {"POSITION": len(accessors), "NORMAL": len(accessors) + 1}
        indices = len(accessors) + 2
        accessors.append(
            {
                "bufferView": pos_view,
                "componentType": 5126,
                "count": len(m.points),
                "type": "VEC3",
                "min": m.points.min(axis=0).tolist(),
                "max": m.points.max(axis=0).tolist(),
            }
        )
        accessors.append(
            {
                "bufferView": normal_view,
                "componentType": 5126,
                "count": len(m.normals),
                "type": "VEC3",
            }
        )
        accessors.append(
            {
                "bufferView": idx_view,
                "componentType": 5125,
                "count": int(m.triangles.size),
                "type": "SCALAR",
            }
        )
        materials.append(
            {
                "name": m.name,
                "pbrMetallicRoughness": {
                    "baseColorFactor": [*srgb_to_linear(m.color), m.opacity],
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.8,
                },
                "alphaMode": "BLEND" if m.opacity < 1.0 else "OPAQUE",
                "doubleSided": True,
            }
        )
        gl_meshes.append(
            {
                "name": m.name,
                "primitives": [{"attributes": attributes, "indices": indices, "material": i}],
            }
        )
        node: dict[str, object] = {"name": m.name, "mesh": i}
        if m.stride > 1:  # said in the file: its tracks were thinned to fit the budget
            node["extras"] = {"track_points_every": m.stride}
        nodes.append(node)
    # The detector's parts hang under one node, so that the names need no separator.
    parts = [i for i, m in enumerate(meshes) if m.detector]
    top = [i for i, m in enumerate(meshes) if not m.detector]
    if parts:
        nodes.append({"name": DETECTOR, "children": parts})
        top.insert(0, len(nodes) - 1)
    while len(blob) % 4:
        blob.append(0)
    doc = {
        "asset": {"version": "2.0", "generator": "ispyrender"},
        "scene": 0,
        "scenes": [{"name": "event", "nodes": top}],
        "nodes": nodes,
        "meshes": gl_meshes,
        "materials": materials,
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": len(blob)}],
    }
    text = jsontext.dumps(doc, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(blob)
    return (
        struct.pack("<4sII", b"glTF", 2, total)
        + struct.pack("<I4s", len(text), b"JSON")
        + text
        + struct.pack("<I4s", len(blob), b"BIN\x00")
        + bytes(blob)
    )


def obj_bytes(meshes: list[NamedMesh], mtl_name: str) -> tuple[bytes, bytes]:
    """Wavefront OBJ and its MTL: one object and material per named mesh. Written in blocks
    of rows into one buffer: an event of a hundred thousand tracks is millions of lines, and
    joined as one string they took four times the file's size in memory."""
    import io

    out = io.BytesIO()
    out.write(f"# ispyrender event model, metres\nmtllib {mtl_name}\n".encode())
    mtl = []
    base = 1

    def rows(template: str, values: np.ndarray) -> None:
        for start in range(0, len(values), 65536):
            block = values[start : start + 65536].tolist()
            out.write("".join(template.format(*row) for row in block).encode())

    for m in meshes:
        safe = m.flat_name
        mtl.append(
            f"newmtl {safe}\nKd {m.color[0]:.4f} {m.color[1]:.4f} {m.color[2]:.4f}\n"
            f"d {m.opacity:.3f}\n"
        )
        out.write(f"o {safe}\nusemtl {safe}\n".encode())
        rows("v {:.5f} {:.5f} {:.5f}\n", m.points)
        rows("vn {:.4f} {:.4f} {:.4f}\n", m.normals)
        # Vertex and normal lists run in step, so each corner uses the same index for both.
        rows("f {0}//{0} {1}//{1} {2}//{2}\n", m.triangles.astype(np.int64) + base)
        base += len(m.points)
    return out.getvalue(), "".join(mtl).encode()
