"""One event's files in one format: PNG, Phoenix JSON, glTF, OBJ (+ MTL) or an HTML page.

:class:`EventProducts` holds what a format needs for a whole job (the renderer for PNGs, the
detector meshes for 3D models) and turns each event's physics objects and scene into files.
PNG compression is returned as a deferred step, so that a job can run it in a thread while the
next event renders (zlib releases the GIL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ispyrender.config.style import Style
from ispyrender.outputs.registry import check_format
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.scene.labels import event_labels
from ispyrender.scene.primitives import Scene

__all__ = ["Blob", "EventProducts", "materialise"]

#: A file's bytes, or a step that makes them (run in a worker thread).
Blob = bytes | Callable[[], bytes]


class EventProducts:
    """Makes the files of one event at a time in ``fmt``; use as a context manager."""

    def __init__(
        self, fmt: str, style: Style, scale: float = 1.0, viewer_url: str | None = None
    ) -> None:
        self.format = check_format(fmt).name
        self.suffixes = check_format(fmt).suffixes
        self.style = style
        self.viewer_url = viewer_url  # html: a shared copy of the viewer, else inlined
        self.renderer: Any = None
        self.detector: list[Any] = []
        if fmt == "png":
            from ispyrender.rendering.renderer import Renderer
            from ispyrender.scene.detector import build_detector

            self.renderer = Renderer(style, build_detector(style.detector), scale=scale)
        elif fmt in ("glb", "obj", "html"):
            from ispyrender.scene.detector import build_detector

            self.detector = build_detector(style.detector)

    def image(self, physics: PhysicsEvent, scene: Scene) -> np.ndarray:
        """The labelled picture of one event (PNG format only)."""
        from ispyrender.rendering.overlay import draw_labels

        image = self.renderer.draw(scene)
        return draw_labels(image, event_labels(physics, scene, self.style), self.style)

    def make(
        self,
        physics: PhysicsEvent,
        scene: Scene,
        paths: dict[str, Path],
        text: Mapping[str, str] | None = None,
    ) -> dict[Path, Blob]:
        """The files of one event, keyed by where they go (``paths`` from the OutputPlan);
        ``text`` is added to a PNG's metadata."""
        style = self.style
        main = paths[self.suffixes[0]]
        if self.format == "png":
            from ispyrender.outputs.files import encode_png
            from ispyrender.outputs.targets import event_metadata

            image = self.image(physics, scene)
            metadata = event_metadata(physics, style) | dict(text or {})
            level = style.output.png_compression
            return {main: lambda: encode_png(image, metadata, level)}
        if self.format == "phoenix":
            from ispyrender.outputs.phoenix import phoenix_event

            return {main: phoenix_event(physics, scene, style)}
        from ispyrender.outputs.models import glb_bytes, named_meshes, obj_bytes

        meshes = named_meshes(self.detector, scene)
        if self.format == "glb":
            return {main: glb_bytes(meshes)}
        if self.format == "html":
            from ispyrender.outputs.webpage import event_page

            block = event_labels(physics, scene, style)
            return {main: event_page(glb_bytes(meshes), block, style, self.viewer_url)}
        mtl = paths[".mtl"]
        obj, mtl_text = obj_bytes(meshes, mtl.name)
        return {main: obj, mtl: mtl_text}

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None

    def __enter__(self) -> EventProducts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def materialise(blob: Blob) -> bytes:
    return blob if isinstance(blob, bytes) else blob()
