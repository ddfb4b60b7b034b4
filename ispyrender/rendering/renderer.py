"""Headless rendering of scenes with pyvista/VTK.

One :class:`Renderer` per process keeps one off-screen plotter and the detector actors, built
once, and draws event after event into it: creating a plotter costs about a second, and adding
actors with ``render=False`` avoids re-rendering the window for every mesh.
"""

from __future__ import annotations

import ctypes.util
import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from ispyrender.config.style import Camera, Style, parse_color
from ispyrender.errors import RenderingError
from ispyrender.scene.primitives import (
    Boxes,
    Cones,
    Polylines,
    Primitive,
    Scene,
    Spheres,
    Towers,
    Tube,
)

# Named views: (azimuth, elevation) in degrees. Azimuth turns the eye about the vertical y axis
# starting from +z; elevation lifts it towards +y.
CAMERA_PRESETS: dict[str, tuple[float, float]] = {
    "iso": (-55.0, 25.0),
    "front_left": (-30.0, 15.0),
    "transverse": (0.0, 0.0),  # along the beam: the r-phi plane, x to the right, y up
    "longitudinal": (-90.0, 0.0),  # from -x: z to the right, y up
    "top": (-90.0, 90.0),
}

EGL_HELP = (
    "install an EGL driver for off-screen OpenGL: on Debian/Ubuntu "
    "'apt-get install libegl1 libegl-mesa0 libgl1' (Mesa's llvmpipe runs without a GPU); "
    "on RHEL/Alma 'dnf install mesa-libEGL'"
)


def configure_headless() -> None:
    """Choose VTK's EGL window when there is no display, before VTK is imported.

    Without this, VTK first tries X, prints 'bad X server connection' and only then falls back.
    """
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


@functools.cache
def _egl_library() -> str | None:
    # find_library runs ldconfig (a few ms): the API checks before every picture.
    return ctypes.util.find_library("EGL")


def check_headless() -> None:
    """Choose EGL when there is no display (:func:`configure_headless`), then fail with the
    install command when no EGL library can be found on a headless Linux."""
    configure_headless()
    if not sys.platform.startswith("linux") or os.environ.get("DISPLAY"):
        return
    if os.environ.get("VTK_DEFAULT_OPENGL_WINDOW", "") not in ("", "vtkEGLRenderWindow"):
        return  # the user chose another window type (e.g. OSMesa); trust them
    if _egl_library() is None:
        raise RenderingError(f"no EGL library (libEGL.so.1) found: {EGL_HELP}")
    vendor_dirs = [
        Path(d)
        for d in os.environ.get(
            "__EGL_VENDOR_LIBRARY_DIRS", "/usr/share/glvnd/egl_vendor.d:/etc/glvnd/egl_vendor.d"
        ).split(":")
    ]
    has_vendor = any(d.is_dir() and any(d.glob("*.json")) for d in vendor_dirs) or bool(
        os.environ.get("__EGL_VENDOR_LIBRARY_FILENAMES")
    )
    if not has_vendor:
        raise RenderingError(f"libEGL is installed but no EGL vendor driver is: {EGL_HELP}")


def camera_vectors(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Unit vector from the focal point towards the eye, and the view-up vector."""
    az0, el0 = CAMERA_PRESETS[camera.preset]
    az = np.radians(camera.azimuth if camera.azimuth is not None else az0)
    el = np.radians(camera.elevation if camera.elevation is not None else el0)
    eye = np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])
    if abs(np.cos(el)) < 1e-6:
        # Looking straight along y, "up" cannot be y: use x, which puts z to the right.
        up = np.array([1.0, 0.0, 0.0]) if np.sin(el) > 0 else np.array([-1.0, 0.0, 0.0])
    else:
        up = np.array([0.0, 1.0, 0.0])
    return eye, up


def detector_bounds(primitives: Sequence[Primitive]) -> tuple[float, ...] | None:
    """Axis-aligned bounds of the detector parts, so the camera is the same for every event."""
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    for p in primitives:
        if isinstance(p, Tube):
            lo = np.minimum(lo, [-p.rmax, -p.rmax, p.zmin])
            hi = np.maximum(hi, [p.rmax, p.rmax, p.zmax])
        elif hasattr(p, "centers"):
            c = p.centers
            if len(c):
                lo = np.minimum(lo, c.min(axis=0))
                hi = np.maximum(hi, c.max(axis=0))
    if not np.all(np.isfinite(lo)):
        return None
    return (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])


def max_render_size() -> int:
    """The largest texture (so framebuffer) side the GL gives us: 16384 on Mesa llvmpipe."""
    configure_headless()
    import pyvista as pv
    from vtkmodules.vtkRenderingOpenGL2 import vtkTextureObject

    plotter: Any = pv.Plotter(off_screen=True, window_size=[16, 16])
    try:
        plotter.render()
        return int(vtkTextureObject.GetMaximumTextureSize(plotter.render_window)) or 4096
    finally:
        plotter.close()


class Renderer:
    """An off-screen plotter with the detector drawn once, reused for every event."""

    def __init__(
        self, style: Style, detector: Sequence[Primitive] = (), scale: float = 1.0
    ) -> None:
        check_headless()
        import pyvista as pv

        from ispyrender.rendering.meshes import primitive_mesh

        self._pv = pv
        self._primitive_mesh = primitive_mesh
        self.style = style
        canvas = style.canvas
        self.size = (max(16, round(canvas.width * scale)), max(16, round(canvas.height * scale)))
        try:
            plotter = pv.Plotter(off_screen=True, window_size=list(self.size))
        except Exception as exc:  # VTK reports a broken GL stack in many ways
            raise RenderingError(
                f"could not open an off-screen OpenGL window ({exc}): {EGL_HELP}"
            ) from None
        # Any: pyvista's decorated methods confuse type checkers.
        self.plotter: Any = cast(Any, plotter)
        self.plotter.set_background(parse_color(canvas.background))
        if canvas.anti_aliasing != "none":
            # MSAA is capped at 4 samples by Mesa; 8 gives the same image.
            samples = 4 if canvas.anti_aliasing == "msaa" else None
            self.plotter.enable_anti_aliasing(canvas.anti_aliasing, multi_samples=samples)
        self._set_lights()
        self._event_actors: list[object] = []
        self._base_camera: tuple[np.ndarray, np.ndarray, float] = (np.zeros(3), np.zeros(3), 1.0)
        self._detector = list(detector)
        # Kept so that an animation can hide the detector without rebuilding it.
        self._detector_actors = [a for a in (self._add(p) for p in self._detector) if a is not None]
        self._bounds = detector_bounds(self._detector)

    def _set_lights(self) -> None:
        """A headlight and one light from above the camera instead of VTK's five-light kit:
        llvmpipe shades every fragment once per light, and the layered detector covers most of
        the picture several times over (measured: 200 -> 115 ms a frame at 1920x1080, together
        with back-face culling)."""
        pv = self._pv
        self.plotter.remove_all_lights()
        self.plotter.add_light(pv.Light(light_type="headlight", intensity=0.8))
        self.plotter.add_light(
            pv.Light(position=(-0.5, 1.0, 1.0), light_type="camera light", intensity=0.4)
        )

    # -- drawing -------------------------------------------------------------------------
    def _add(self, prim: Primitive) -> object | None:
        mesh = self._primitive_mesh(prim)
        if mesh.n_points == 0:
            return None
        look = prim.look
        is_line = isinstance(prim, Polylines) or (isinstance(prim, Tube) and look.wireframe)
        kwargs: dict[str, Any] = {
            "color": look.color,
            "opacity": look.opacity,
            "render": False,
            "reset_camera": False,
            "name": None,
        }
        if is_line:
            kwargs["line_width"] = look.line_width
            kwargs["lighting"] = False  # flat colour, so a line keeps its colour at every angle
            # Wide GL lines are drawn one quad per segment, and a helix has many short
            # segments: at small sizes the joints show as gaps (a dotted track). Tube imposters
            # join smoothly.
            kwargs["render_lines_as_tubes"] = True
        else:
            kwargs["smooth_shading"] = isinstance(prim, (Spheres, Cones))
            if look.wireframe:
                kwargs["style"] = "wireframe"
                kwargs["line_width"] = look.line_width
            if isinstance(prim, Towers | Cones):
                kwargs["ambient"] = 0.3
            if isinstance(prim, Tube | Boxes) and not look.wireframe:
                # Closed detector parts: their far walls add shading work and clutter but
                # nothing a reader needs; culling them also halves the translucent overdraw.
                kwargs["culling"] = "back"
        return self.plotter.add_mesh(mesh, **kwargs)

    def _apply_camera(self, scene: Scene | None) -> None:
        cam_style = self.style.camera
        eye, up = camera_vectors(cam_style)
        cam = self.plotter.camera
        cam.focal_point = (0.0, 0.0, 0.0)
        cam.position = tuple(eye * 30.0)
        cam.up = tuple(up)
        self.plotter.renderer.SetActiveCamera(cam)
        if cam_style.projection == "parallel":
            self.plotter.enable_parallel_projection()
        else:
            self.plotter.disable_parallel_projection()
        bounds = self._bounds
        if cam_style.focus == "event" or bounds is None:
            bounds = self._event_bounds(scene) or bounds or (-1.5, 1.5, -1.5, 1.5, -3.0, 3.0)
        self.plotter.renderer.ResetCamera(bounds)
        # Keep the beam spot in the middle of the picture whatever the bounds.
        cam.focal_point = (0.0, 0.0, 0.0)
        cam.zoom(cam_style.zoom)
        self.plotter.renderer.ResetCameraClippingRange()

    def _event_bounds(self, scene: Scene | None) -> tuple[float, ...] | None:
        if scene is None:
            return None
        pts: list[np.ndarray] = []
        for p in scene.primitives:
            if isinstance(p, Polylines):
                pts.extend(p.paths)
            elif isinstance(p, Cones):
                pts.append(p.apex + p.axis * p.length[:, None])
        if not pts:
            return None
        allp = np.vstack([np.asarray(x) for x in pts if len(x)])
        r = float(np.max(np.abs(allp))) * 1.05 + 0.1
        return (-r, r, -r, r, -r, r)

    def set_scene(self, scene: Scene) -> None:
        """Replace the event's actors (the detector stays) and aim the style's camera."""
        for actor in self._event_actors:
            self.plotter.remove_actor(actor, render=False)
        self._event_actors = [a for a in (self._add(p) for p in scene.primitives) if a is not None]
        self._apply_camera(scene)
        cam = self.plotter.camera
        self._base_camera = (np.array(cam.position), np.array(cam.up), cam.parallel_scale)

    def show_detector(self, visible: bool) -> None:
        """Show or hide the detector actors (an animation's `show` list); no re-render."""
        for actor in self._detector_actors:
            actor.SetVisibility(visible)  # type: ignore[attr-defined]

    def orbit(
        self, axis: str, degrees: float, zoom: float = 1.0, elevation: float = 0.0
    ) -> np.ndarray:
        """The current scene seen with the style's camera turned by ``degrees`` about the
        beam line (axis "beam", z) or the vertical (axis "vertical", y), then tilted up by
        ``elevation`` degrees and zoomed by ``zoom`` relative to the style's: one frame of a
        turntable. Only the camera moves, so a frame costs one render, not a rebuild of the
        actors."""
        position, up, parallel_scale = self._base_camera
        a = np.radians(degrees)
        c, s = np.cos(a), np.sin(a)
        if axis == "beam":
            rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        else:
            rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        cam = self.plotter.camera
        cam.position = tuple(rot @ position / zoom)
        cam.up = tuple(rot @ up)
        cam.focal_point = (0.0, 0.0, 0.0)
        cam.parallel_scale = parallel_scale / zoom
        if elevation:
            # VTK tilts about the focal point; re-orthogonalising keeps the horizon level.
            cam.Elevation(elevation)
            cam.OrthogonalizeViewUp()
        self.plotter.renderer.ResetCameraClippingRange()
        self.plotter.render()
        img = self.plotter.screenshot(
            transparent_background=self.style.canvas.transparent, return_img=True
        )
        return np.asarray(img, dtype=np.uint8)

    def draw(self, scene: Scene, magnification: int = 1) -> np.ndarray:
        """Render one event and return the picture as an (H, W, 3) or (H, W, 4) uint8 array.

        ``magnification`` > 1 renders the picture that many times larger in tiles of the
        window's size, stitched by vtkWindowToImageFilter: the way past the GL's largest
        framebuffer (line widths stay in window pixels, so lines come out thinner)."""
        for actor in self._event_actors:
            self.plotter.remove_actor(actor, render=False)
        self._event_actors = [a for a in (self._add(p) for p in scene.primitives) if a is not None]
        self._apply_camera(scene)
        # pyvista's screenshot() renders only the first time and afterwards reads the window as
        # it is: without this, every event after the first would get the first event's picture.
        self.plotter.render()
        img = self.plotter.screenshot(
            transparent_background=self.style.canvas.transparent,
            return_img=True,
            scale=magnification if magnification > 1 else None,
        )
        return np.asarray(img, dtype=np.uint8)

    def close(self) -> None:
        self.plotter.close()

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
