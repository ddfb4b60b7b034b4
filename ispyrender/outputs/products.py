"""One event's files in one format: PNG, Phoenix JSON, glTF, OBJ (+ MTL) or an HTML page.

:class:`EventProducts` holds what a format needs for a whole job (the renderer for PNGs, the
detector meshes for 3D models) and turns each event's physics objects and scene into files.
PNG compression is returned as a deferred step, so that a job can run it in a thread while the
next event renders (zlib releases the GIL).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ispyrender.config.style import Style
from ispyrender.outputs.registry import check_format
from ispyrender.physics.objects import PhysicsEvent
from ispyrender.scene.labels import event_labels
from ispyrender.scene.primitives import Scene

__all__ = ["Blob", "EventFiles", "EventProducts", "Writer", "materialise"]

#: A file's bytes, or a step that makes them (run in a worker thread).
Blob = bytes | Callable[[], bytes]


class EventProducts:
    """Makes the files of one event at a time in ``fmt``; use as a context manager.

    What a format needs for the whole job is made once here: the renderer (a format that
    draws with OpenGL), or the detector's primitives (3D formats); each event's files are made
    by the format's writer, named in its entry of :mod:`.registry`."""

    def __init__(
        self, fmt: str, style: Style, scale: float = 1.0, viewer_url: str | None = None
    ) -> None:
        product = check_format(fmt)
        self.format = product.name
        self.suffixes = product.suffixes
        self.style = style
        self.viewer_url = viewer_url  # html: a shared copy of the viewer, else inlined
        self.renderer: Any = None
        self.detector: list[Any] = []
        module, _, name = str(product.writer).partition(":")
        self._writer: Writer = getattr(importlib.import_module(module), name)
        if product.needs_gl or product.detector:
            from ispyrender.scene.detector import build_detector

            self.detector = build_detector(style.detector)
        if product.needs_gl:
            from ispyrender.rendering.renderer import Renderer

            self.renderer = Renderer(style, self.detector, scale=scale)
            self.detector = []

    def image(self, physics: PhysicsEvent, scene: Scene) -> np.ndarray:
        """The labelled picture of one event (formats that draw)."""
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
        ``text`` is added to a picture's metadata."""
        return self._writer(EventFiles(self, physics, scene, paths, dict(text or {})))

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None

    def __enter__(self) -> EventProducts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class EventFiles:
    """What a format's writer is given for one event: the job's products (renderer, detector,
    style), the event's objects and scene, its paths by suffix and its metadata text."""

    products: EventProducts
    physics: PhysicsEvent
    scene: Scene
    paths: dict[str, Path]
    text: dict[str, str]


#: A format's writer: one event's files, keyed by path.
Writer = Callable[[EventFiles], dict[Path, Blob]]


def write_png(e: EventFiles) -> dict[Path, Blob]:
    """The labelled picture; its compression is left to a thread (zlib releases the GIL)."""
    from ispyrender.outputs.files import encode_png
    from ispyrender.outputs.targets import event_metadata

    style = e.products.style
    image = e.products.image(e.physics, e.scene)
    metadata = event_metadata(e.physics, style) | e.text
    level = style.output.png_compression
    return {e.paths[".png"]: lambda: encode_png(image, metadata, level)}


def write_phoenix(e: EventFiles) -> dict[Path, Blob]:
    from ispyrender.outputs.phoenix import phoenix_event

    return {e.paths[".json"]: phoenix_event(e.physics, e.scene, e.products.style)}


def write_glb(e: EventFiles) -> dict[Path, Blob]:
    from ispyrender.outputs.models import glb_bytes, named_meshes

    return {e.paths[".glb"]: glb_bytes(named_meshes(e.products.detector, e.scene))}


def write_html(e: EventFiles) -> dict[Path, Blob]:
    from ispyrender.outputs.models import glb_bytes, named_meshes
    from ispyrender.outputs.webpage import event_page

    glb = glb_bytes(named_meshes(e.products.detector, e.scene))
    block = event_labels(e.physics, e.scene, e.products.style)
    return {e.paths[".html"]: event_page(glb, block, e.products.style, e.products.viewer_url)}


def write_obj(e: EventFiles) -> dict[Path, Blob]:
    from ispyrender.outputs.models import named_meshes, obj_bytes

    obj, mtl = obj_bytes(named_meshes(e.products.detector, e.scene), e.paths[".mtl"].name)
    return {e.paths[".obj"]: obj, e.paths[".mtl"]: mtl}


def materialise(blob: Blob) -> bytes:
    return blob if isinstance(blob, bytes) else blob()
