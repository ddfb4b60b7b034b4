"""Export an event in the JSON event format of the HSF Phoenix web event display.

Units: millimetres and MeV, Phoenix's conventions from its ATLAS origins (values are converted
from ispyrender's metres and GeV); the event's ``"units"`` string says so. The file holds one
event keyed by "Run R Event E".

Each field is written the way phoenix-event-display's loader reads it (``PhoenixLoader`` in
``loaders/phoenix-loader.ts`` and the builders of ``loaders/objects/phoenix-objects.ts``, checked
with the library itself by ``tests/test_phoenix_client.py``):

* Top level: ``PhoenixLoader.getCollections`` takes every key whose value is an object for an
  object type and its keys for collections, so only the object types are objects; metadata
  are strings and numbers: "run number", "event number", "ls" and "time" are what
  ``getEventMetadata`` shows.
* Colours: ``getTrack`` reads a track's colour with ``parseInt(color, 16)``, so tracks carry
  "0xRRGGBB"; every other builder hands the value to ``THREE.Color``, which takes CSS
  "#RRGGBB" (and warns "Unknown color" and draws white for "0xRRGGBB"). Every colour is the
  style colour the PNG draws the collection in.
* Tracks: the point lists the PNG draws (a program can check the drawn geometry).
* Jets: eta, phi, energy, et and coneR; Phoenix draws the cone from the origin, energy * 0.2 mm
  long. origin_X/Y/Z (mm) put the apex at the jet's vertex where Phoenix reads them (4.0 on;
  3.0.5 ignores them).
* Photons: CaloClusters, the box the PNG draws standing on the ECAL entrance (the surface of
  ``cms_dimensions.ECAL_ENTRANCE``) along the photon, ``length`` long and ``side`` wide.
  Phoenix places the box's centre at the spherical distance ``radius`` from the origin along
  (``theta``, phi), and it needs ``radius``: ``PhoenixLoader.addCollection`` passes the type
  name as ``getCluster``'s second argument, the default radius, so a cluster without one gets a
  NaN position. ``theta`` is the direction of the point on the ECAL face as seen from the
  origin (the photon leaves the vertex, not the origin); eta and phi are the photon's.
* MET: MissingEnergy etx/ety, a line in the transverse plane from the origin.
* Vertices: x, y, z, and the sphere radius ``size`` of the 3D exports.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ispyrender import __version__
from ispyrender.config.collections import COLLECTIONS
from ispyrender.config.style import Style, parse_color
from ispyrender.outputs import jsontext
from ispyrender.scene.primitives import Polylines, Scene, Towers

MM = 1000.0  # metres -> millimetres
MEV = 1000.0  # GeV -> MeV

#: Phoenix collection names of the style keys (jets, vertices), from the collections' table.
PHOENIX_NAMES = {c.key: c.phoenix for c in COLLECTIONS if c.phoenix}


def _track_color(rgb: tuple[float, ...]) -> str:
    """A track's colour as getTrack reads it: hexadecimal digits for parseInt(color, 16)."""
    return "0x" + "".join(f"{round(c * 255):02x}" for c in rgb[:3])


def _css_color(rgb: tuple[float, ...]) -> str:
    """Any other object's colour as THREE.Color reads it: CSS "#RRGGBB"."""
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb[:3])


def _style_color(style: Style, key: str) -> str:
    return _css_color(parse_color(getattr(style.collections, key).color))


def event_dict(physics: Any, scene: Scene, style: Style) -> dict[str, Any]:
    """The Phoenix event object (without the outer key) for one event."""
    event: dict[str, Any] = {
        "event number": int(physics.event),
        "run number": int(physics.run),
    }
    if physics.lumi is not None:
        event["ls"] = str(physics.lumi)
    if getattr(physics, "time", None):
        event["time"] = str(physics.time)
    event["source"] = str(physics.source)
    event["units"] = "length: mm, energy: MeV"
    event["generator"] = f"ispyrender {__version__}"

    photon_group = None if physics.photons is None else physics.photons.branch
    tracks: dict[str, list[dict[str, Any]]] = {}
    for prim in scene.primitives:
        if not isinstance(prim, Polylines) or prim.group == photon_group:
            continue  # the photon lines belong to their CaloClusters
        for path in prim.paths:
            pts = np.asarray(path, dtype=float)
            if len(pts) < 2:
                continue
            direction = pts[1] - pts[0]
            tracks.setdefault(prim.group, []).append(
                {
                    "pos": np.round(pts * MM, 3).tolist(),
                    "color": _track_color(prim.look.color),
                    "linewidth": prim.look.line_width,
                    "phi": float(np.arctan2(direction[1], direction[0])),
                }
            )
    if tracks:
        event["Tracks"] = tracks

    jets: dict[str, list[dict[str, Any]]] = {}
    for j in physics.jets:
        if len(j.pt) == 0:
            continue  # Phoenix skips empty collections; so does the legend's count
        color = _style_color(style, j.collection)
        origin = np.asarray(j.origin, dtype=float).reshape(-1, 3) * MM
        items = jets.setdefault(PHOENIX_NAMES.get(j.collection, j.collection), [])
        for i in range(len(j.pt)):
            o = origin[i if len(origin) > 1 else 0]
            items.append(
                {
                    "eta": float(j.eta[i]),
                    "phi": float(j.phi[i]),
                    "energy": float(j.energy[i]) * MEV,
                    "et": float(j.pt[i]) * MEV,
                    "coneR": float(np.atleast_1d(j.radius)[0]),
                    "color": color,
                    "origin_X": float(o[0]),
                    "origin_Y": float(o[1]),
                    "origin_Z": float(o[2]),
                }
            )
    if jets:
        event["Jets"] = jets

    clusters = _photon_clusters(physics, scene, style)
    if clusters:
        event["CaloClusters"] = {"Photons": clusters}

    met = physics.met
    if met is not None:
        event["MissingEnergy"] = {
            met.source: [
                {
                    "etx": float(met.pt * np.cos(met.phi)) * MEV,
                    "ety": float(met.pt * np.sin(met.phi)) * MEV,
                    "color": _style_color(style, "met"),
                }
            ]
        }

    vertices: dict[str, list[dict[str, Any]]] = {}
    for v in physics.vertices:
        name = PHOENIX_NAMES[v.collection]
        vertex_style = getattr(style.collections, v.collection)
        for pos in np.asarray(v.positions, dtype=float).reshape(-1, 3) * MM:
            vertices.setdefault(name, []).append(
                {
                    "x": float(pos[0]),
                    "y": float(pos[1]),
                    "z": float(pos[2]),
                    "color": _css_color(parse_color(vertex_style.color)),
                    "size": float(vertex_style.radius) * MM,
                }
            )
    if vertices:
        event["Vertices"] = vertices
    return event


def _photon_clusters(physics: Any, scene: Scene, style: Style) -> list[dict[str, Any]]:
    """One CaloCluster per photon: the deposit box that the scene (and so the PNG) stands on
    the ECAL entrance, with the photon's kinematics."""
    photons = physics.photons
    if photons is None:
        return []
    towers = [p for p in scene.primitives if isinstance(p, Towers) and p.group == photons.branch]
    if not towers:
        return []
    (deposits,) = towers
    color = _style_color(style, "photons")
    out = []
    for i, (face, length, width) in enumerate(
        zip(deposits.base * MM, deposits.length * MM, deposits.width * MM, strict=True)
    ):
        distance = float(np.linalg.norm(face))
        # getCaloCube draws the box at least as long as it is wide.
        depth = max(float(length), float(width))
        out.append(
            {
                "energy": float(photons.energy[i]) * MEV,
                "et": float(photons.pt[i]) * MEV,
                "eta": float(photons.eta[i]),
                "phi": float(photons.phi[i]),
                "theta": float(np.arccos(face[2] / distance)),
                "radius": round(distance + depth / 2.0, 3),
                "length": round(float(length), 3),
                "side": round(float(width), 3),
                "color": color,
            }
        )
    return out


def phoenix_event(physics: Any, scene: Scene, style: Style) -> bytes:
    """The JSON file contents for one event."""
    key = f"Run {physics.run} Event {physics.event}"
    return (jsontext.dumps({key: event_dict(physics, scene, style)}, indent=1) + "\n").encode()
