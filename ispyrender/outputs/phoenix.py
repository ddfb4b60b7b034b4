"""Export an event in the JSON event format of the HSF Phoenix web event display.

Phoenix's conventions are those of its ATLAS origins: lengths in millimetres and energies in
MeV, so values are converted from ispyrender's metres and GeV. Tracks are written as the same
point lists that the PNG shows (so a program can check the drawn geometry), jets as eta/phi/
energy/coneR, photons as CaloClusters at the ECAL front face, MET as MissingEnergy, vertices as
Vertices. The file holds one event keyed by "Run R Event E".
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ispyrender import __version__
from ispyrender.config.style import Style, parse_color
from ispyrender.scene.primitives import Polylines, Scene

MM = 1000.0  # metres -> millimetres
MEV = 1000.0  # GeV -> MeV


def _hex(rgb: tuple[float, float, float]) -> str:
    return "0x" + "".join(f"{round(c * 255):02x}" for c in rgb)


def event_dict(physics: Any, scene: Scene, style: Style) -> dict[str, Any]:
    """The Phoenix event object (without the outer key) for one event."""
    event: dict[str, Any] = {
        "event number": int(physics.event),
        "run number": int(physics.run),
        "ls": "" if physics.lumi is None else str(physics.lumi),
        "lumiBlock": "" if physics.lumi is None else str(physics.lumi),
        "source": str(physics.source),
        "units": {"length": "mm", "energy": "MeV"},
        "generator": f"ispyrender {__version__}",
    }
    tracks: dict[str, list[dict[str, Any]]] = {}
    for prim in scene.primitives:
        if isinstance(prim, Polylines) and prim.group not in ("Photon",):
            coll = tracks.setdefault(prim.group, [])
            for path in prim.paths:
                pts = np.asarray(path, dtype=float)
                if len(pts) < 2:
                    continue
                direction = pts[min(len(pts) - 1, 1)] - pts[0]
                coll.append(
                    {
                        "pos": np.round(pts * MM, 3).tolist(),
                        "color": _hex(prim.look.color),
                        "linewidth": prim.look.line_width,
                        "phi": float(np.arctan2(direction[1], direction[0])),
                    }
                )
    if tracks:
        event["Tracks"] = tracks

    jets: dict[str, list[dict[str, Any]]] = {}
    for j in physics.jets:
        key = getattr(j, "collection", "Jet")
        color = (
            _hex(parse_color(getattr(style.collections, key).color))
            if hasattr(style.collections, key)
            else "0xffff00"
        )
        items = jets.setdefault(_collection_name(key), [])
        origin = np.asarray(getattr(j, "origin", np.zeros(3)), dtype=float).reshape(-1, 3)
        for i in range(len(j.pt)):
            o = origin[i if len(origin) > 1 else 0] * MM
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

    photons = physics.photons
    if photons is not None and len(photons.pt):
        event["CaloClusters"] = {
            "Photons": [
                {
                    "energy": float(photons.energy[i]) * MEV,
                    "eta": float(photons.eta[i]),
                    "phi": float(photons.phi[i]),
                    "color": _hex(parse_color(style.collections.photons.color)),
                }
                for i in range(len(photons.pt))
            ]
        }
    met = physics.met
    if met is not None:
        event["MissingEnergy"] = {
            style.collections.met.source: [
                {
                    "etx": float(met.pt * np.cos(met.phi)) * MEV,
                    "ety": float(met.pt * np.sin(met.phi)) * MEV,
                    "color": _hex(parse_color(style.collections.met.color)),
                }
            ]
        }
    vertices: dict[str, list[dict[str, Any]]] = {}
    for v in physics.vertices:
        name = "PrimaryVertices" if v.collection in ("vertices", "PV") else "SecondaryVertices"
        for pos in np.asarray(v.positions, dtype=float).reshape(-1, 3):
            vertices.setdefault(name, []).append(
                {"x": float(pos[0] * MM), "y": float(pos[1] * MM), "z": float(pos[2] * MM)}
            )
    if vertices:
        event["Vertices"] = vertices
    return event


def _collection_name(key: str) -> str:
    return {"jets": "AK4Jets", "fatjets": "AK8Jets", "taus": "Taus"}.get(key, key)


def phoenix_event(physics: Any, scene: Scene, style: Style) -> bytes:
    """The JSON file contents for one event."""
    key = f"Run {physics.run} Event {physics.event}"
    return (json.dumps({key: event_dict(physics, scene, style)}, indent=1) + "\n").encode()
