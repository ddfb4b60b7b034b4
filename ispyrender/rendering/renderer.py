"""Headless rendering of scenes with VTK.

One :class:`Renderer` per process keeps one off-screen render window and the detector actors,
built once, and draws event after event into it. The window, actors and camera are VTK's own
classes, not pyvista's plotter: pyvista's plotting module imports matplotlib.pyplot (0.6 s of
every command's start-up) and wraps every property set in Python (a few ms an event). pyvista
still builds the meshes (:mod:`ispyrender.rendering.meshes`).
"""

from __future__ import annotations

import contextlib
import ctypes.util
import functools
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ispyrender.config.style import Camera, Style, parse_color
from ispyrender.errors import RenderingError
from ispyrender.scene import primitives as shapes

#: Render layers, drawn in this order, each over the one before (depth is cleared between
#: them): the detector never hides an object; tracks are never buried in a jet cone; MET and
#: the vertex dots, where every track starts, come last. Within a layer, depth sorts as usual:
#: cones, towers and hits share one, so a hit inside a translucent cone shows through it. Each
#: layer with something in it costs a pass over the picture, so there are no more than needed.
LAYER_DETECTOR, LAYER_VOLUMES, LAYER_LINES, LAYER_ARROWS, LAYER_MARKERS = range(5)
N_LAYERS = 5


def event_layer(prim: shapes.Primitive) -> int:
    """The layer an event primitive is drawn in."""
    if isinstance(prim, shapes.Spheres):
        return LAYER_MARKERS  # the vertex dot over the MET arrow that starts on it
    if isinstance(prim, shapes.Arrows):
        return LAYER_ARROWS
    if isinstance(prim, shapes.Polylines):
        return LAYER_LINES
    return LAYER_VOLUMES


#: The picture height that style sizes (line widths, vertex dots) are given for: at other sizes
#: they scale with the picture, so a 7680x4320 picture looks like the 1920x1080 one enlarged.
REFERENCE_HEIGHT = 1080.0

#: Smallest half-size (metres) of the region framed around an event: a lone soft object is
#: not blown up to fill the picture.
MIN_FRAME_HALF = 0.5

#: Fraction of a picture's height at the top kept clear of the event for the labels: the
#: experiment and event lines at the left, the legend's first entries at the right.
LABEL_BAND = 0.2

#: Radius (metres) of a sphere about the interaction point holding the whole detector (the
#: endcap yoke reaches |z| 10.6 m at 7.4 m radius, 13 m out) and anything drawn with it (a
#: long MET arrow): the camera's clipping planes enclose it.
DETECTOR_RADIUS = 20.0

#: The perspective camera's vertical view angle framing the whole detector, degrees.
VIEW_ANGLE = 20.0

#: Distance (metres) of a camera framing an event from its focal point: outside the whole
#: detector, so that no chamber stands between the camera and the event.
CAMERA_DISTANCE = 25.0


def event_points(scene: shapes.Scene) -> np.ndarray:
    """Points (N, 3) that outline everything drawn for the event, and the beam spot: the
    camera frames these (see :func:`ispyrender.scene.primitives.drawn_points`)."""
    paths, points = shapes.drawn_points(scene)
    return np.vstack([np.zeros((1, 3)), *paths, points])


def frame_event(
    points: np.ndarray,
    eye: np.ndarray,
    up: np.ndarray,
    aspect: float,
    fill: float,
    perspective: bool,
    top: float = 0.0,
    least: float = 0.0,
) -> tuple[np.ndarray, float]:
    """Where to aim the camera so that ``points`` fill ``fill`` of the picture, below a band of
    ``top`` of its height kept for the labels (experiment line at the left, legend at the
    right).

    ``eye`` is the unit vector from the focal point to the camera, ``up`` the view up, ``aspect``
    width / height. The points are centred by their extent across the view, together with a
    square of ``MIN_FRAME_HALF`` around the beam spot (so the beam spot stays in the picture
    and a lone soft object is not blown up). Returns the focal point and, for a perspective
    camera, its vertical view angle in degrees; for a parallel camera, the parallel scale
    (half the picture height in metres).

    ``least``: the picture shows at least this many metres from the focal point up and down
    (under the band), so that a small event is seen with the detector around it.

    A perspective camera stays ``CAMERA_DISTANCE`` from the focal point, outside the whole
    detector, and frames the event by its lens: a camera moved in close would sit among the
    muon chambers, with their faces filling the picture. A point at depth z towards the camera
    and offset x from the focal point is seen at x / (D - z); it fits when
    tan(angle / 2) >= |x| / ((D - z) * fill * k), with k = aspect across and 1 upwards.
    """
    up = up - eye * float(np.dot(up, eye))
    up = up / np.linalg.norm(up)
    right = np.cross(up, eye)
    m = MIN_FRAME_HALF
    square = np.array([[m, m, 0], [-m, m, 0], [m, -m, 0], [-m, -m, 0]], dtype=float)
    pts = np.vstack([points, square[:, 0, None] * right + square[:, 1, None] * up])
    x, y, z = pts @ right, pts @ up, pts @ eye
    cx, cy = (x.max() + x.min()) / 2, (y.max() + y.min()) / 2
    focal = cx * right + cy * up
    dx, dy = np.abs(x - cx), np.abs(y - cy)
    below = 1.0 - top
    if not perspective:
        half_height = max(dy.max() / below, dx.max() / aspect) / fill
        half_height = max(half_height, least / below)
        # The objects' centre goes to the middle of the picture under the band.
        return focal + up * top * half_height, float(half_height)
    depth = np.maximum(CAMERA_DISTANCE - (z - float(np.dot(focal, eye))), 1.0)
    t = float(np.max(np.maximum(dx / (depth * fill * aspect), dy / (depth * fill * below))))
    t = max(t, least / (CAMERA_DISTANCE * below))
    return focal + up * top * CAMERA_DISTANCE * t, float(np.degrees(2.0 * np.arctan(t)))


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


#: How far (metres, at the camera's focal point) outlines are drawn in front of the faces they
#: lie on, and the extra pull by their own depth slope (a factor of it). Chosen by counting the
#: outline pixels that differ from the exact picture (tests/test_picture_rules.py) over
#: stills and movie frames: 1 cm left dashes on faces seen at a grazing angle; more slope
#: brought hidden edges through.
OUTLINE_PULL = 0.04
OUTLINE_SLOPE = -1.0

#: VTK's unit of coincident-topology offset in its shaders: a fraction of the depth range.
_VTK_OFFSET_UNIT = 1.6e-5


@contextlib.contextmanager
def coincident_offsets(polygon: tuple[float, float], line: tuple[float, float]) -> Iterator[None]:
    """VTK's coincident-topology offsets (factor, units) for faces and lines while rendering.

    They are process-wide settings of VTK's: they are set for one render and put back, so
    that nothing else drawn with VTK in the process (a user's own pyvista plot) gets ours."""
    from vtkmodules.vtkCommonCore import reference
    from vtkmodules.vtkRenderingCore import vtkMapper

    mode = vtkMapper.GetResolveCoincidentTopology()
    saved: list[tuple[float, float]] = []
    # Any: VTK's stubs type the out-parameters as float, not as the references they are.
    mapper: Any = vtkMapper
    for getter in (
        mapper.GetResolveCoincidentTopologyPolygonOffsetParameters,
        mapper.GetResolveCoincidentTopologyLineOffsetParameters,
    ):
        factor: Any = reference(0.0)
        units: Any = reference(0.0)
        getter(factor, units)
        saved.append((float(factor.get()), float(units.get())))
    vtkMapper.SetResolveCoincidentTopologyToPolygonOffset()
    vtkMapper.SetResolveCoincidentTopologyPolygonOffsetParameters(*polygon)
    vtkMapper.SetResolveCoincidentTopologyLineOffsetParameters(*line)
    try:
        yield
    finally:
        vtkMapper.SetResolveCoincidentTopology(mode)
        vtkMapper.SetResolveCoincidentTopologyPolygonOffsetParameters(*saved[0])
        vtkMapper.SetResolveCoincidentTopologyLineOffsetParameters(*saved[1])


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


_UNFRAMED = frozenset({"hcal_forward"})


def detector_bounds(primitives: Sequence[shapes.Primitive]) -> tuple[float, ...] | None:
    """Axis-aligned bounds of the detector parts, so the camera is the same for every event.
    The forward calorimeter is left out: standing 2 m beyond the muon endcaps on the beam
    line, it would shrink the rest of CMS in every picture framed on the detector."""
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    for p in primitives:
        if p.group in _UNFRAMED:
            continue
        if isinstance(p, shapes.Tube):
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


def _open_window(size: tuple[int, int]) -> Any:
    """An off-screen OpenGL render window (EGL where there is no display)."""
    configure_headless()
    # Importing the OpenGL2 module registers VTK's OpenGL classes with its object factory, so
    # that vtkRenderWindow() below gives the EGL (or X) window and vtkRenderer() the GL one.
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
    from vtkmodules.vtkRenderingCore import vtkRenderWindow

    window = vtkRenderWindow()
    window.SetOffScreenRendering(True)
    window.SetSize(*size)
    window.SetMultiSamples(0)
    # Alpha planes for pictures with a transparent background.
    window.SetAlphaBitPlanes(True)
    return window


def max_render_size() -> int:
    """The largest texture (so framebuffer) side the GL gives us: 16384 on Mesa llvmpipe."""
    from vtkmodules.vtkRenderingOpenGL2 import vtkTextureObject

    window = _open_window((16, 16))
    try:
        window.Render()
        return int(vtkTextureObject.GetMaximumTextureSize(window)) or 4096
    finally:
        window.Finalize()


#: Angles (radians) at which a turntable's event is framed.
_TURNS = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)


#: Points of an event above which a turn is framed by its swept envelope (_swept_envelope).
_ENVELOPE_ABOVE = 100_000


def _swept_envelope(points: np.ndarray, axis: str, bins: int = 256, phases: int = 64) -> np.ndarray:
    """Points on the surface that ``points`` sweep turning about ``axis`` (the beam line, or
    the vertical through the beam spot): along the axis in ``bins`` slices, each slice's
    farthest distance from the axis as a circle of ``phases`` points at both ends of the
    slice. A few tens of thousands of points that hold every turn of the event, in place of
    sixteen turned copies of millions."""
    along, across = (2, (0, 1)) if axis == "beam" else (1, (0, 2))
    h = points[:, along]
    r = np.hypot(points[:, across[0]], points[:, across[1]])
    edges = np.linspace(h.min(), h.max(), bins + 1)
    which = np.clip(np.searchsorted(edges, h, side="right") - 1, 0, bins - 1)
    reach = np.zeros(bins)
    np.maximum.at(reach, which, r)
    used = np.unique(which)
    t = np.linspace(0.0, 2.0 * np.pi, phases, endpoint=False)
    rings = []
    for end in (edges[used], edges[used + 1]):
        ring = np.zeros((len(used), phases, 3))
        ring[..., along] = end[:, None]
        ring[..., across[0]] = reach[used][:, None] * np.cos(t)
        ring[..., across[1]] = reach[used][:, None] * np.sin(t)
        rings.append(ring.reshape(-1, 3))
    return np.vstack(rings)


#: How far the cut-away wedge turns at a time in a movie (degrees).
CUT_STEP = 5


def _rotation(axis: str, angle: float) -> np.ndarray:
    """The rotation by ``angle`` about the beam line (axis "beam", z) or the vertical (y)."""
    c, s = np.cos(angle), np.sin(angle)
    if axis == "beam":
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


#: Bytes of detector pictures one renderer keeps (see DetectorBackdrops.ENTRY_BYTES): 17
#: cameras at 1920x1080, 39 frames of a 1280x720 turntable.
BACKDROP_BYTES = 256 * 2**20


class DetectorBackdrops:
    """The detector's picture per camera, for a renderer whose camera comes back to where it
    was: every event of a series or detector camera, each frame of a set of turntables, the
    still frames of a collision movie. The detector layer never depends on the event (the
    event's layers are drawn over it, depth cleared), so its picture, put back as layer 0's
    background, gives the same pixels as drawing its actors (tests/test_backdrops.py), in a
    fraction of the time: a full-screen texture instead of some 30,000 faces and lines.

    A camera's picture is made the second time that camera is seen, so that a camera framing
    each event anew (focus "event") never pays for one. When ``limit`` is reached, a picture
    goes only when it has not been used for STALE_ROUNDS times as many frames as are kept: a
    turntable longer than what fits keeps its first frames' pictures rather than swapping
    every one out before it comes round again."""

    #: Bytes a kept picture takes per pixel: VTK's RGB image and the GL's RGBA texture.
    ENTRY_BYTES = 3 + 4
    STALE_ROUNDS = 4

    def __init__(self, size: tuple[int, int], limit: int = BACKDROP_BYTES) -> None:
        self.size = size
        self.capacity = limit // (size[0] * size[1] * self.ENTRY_BYTES)
        self._textures: dict[tuple[Any, ...], tuple[Any, int]] = {}
        self._seen: dict[tuple[Any, ...], None] = {}
        self._clock = 0
        self.made = 0  # pictures made
        self.used = 0  # frames drawn over a kept picture

    def get(self, key: tuple[Any, ...]) -> Any:
        """The picture kept for ``key`` (one call per frame), or None."""
        self._clock += 1
        found = self._textures.get(key)
        if found is None:
            return None
        self._textures[key] = (found[0], self._clock)
        self.used += 1
        return found[0]

    def wanted(self, key: tuple[Any, ...]) -> bool:
        """Whether to make a picture for ``key`` now: it was seen before and there is room."""
        if self.capacity == 0:
            return False
        if key not in self._seen:
            self._seen[key] = None
            if len(self._seen) > self.STALE_ROUNDS * self.capacity:
                del self._seen[next(iter(self._seen))]  # the longest unseen first
            return False
        if len(self._textures) < self.capacity:
            return True
        oldest = min(self._textures, key=lambda k: self._textures[k][1])
        if self._clock - self._textures[oldest][1] <= self.STALE_ROUNDS * self.capacity:
            return False
        del self._textures[oldest]
        return True

    def keep(self, key: tuple[Any, ...], pixels: np.ndarray) -> Any:
        """A texture of ``pixels`` (rows top to bottom, as read) shown pixel for pixel."""
        from vtkmodules.util.numpy_support import numpy_to_vtk
        from vtkmodules.vtkCommonDataModel import vtkImageData
        from vtkmodules.vtkRenderingCore import vtkTexture

        height, width, channels = pixels.shape
        image = vtkImageData()
        image.SetDimensions(width, height, 1)
        rows = np.ascontiguousarray(pixels[::-1]).reshape(-1, channels)
        image.GetPointData().SetScalars(numpy_to_vtk(rows, deep=True))
        texture = vtkTexture()
        texture.SetInputData(image)
        texture.InterpolateOff()  # the nearest texel: each pixel gets its own colour back
        texture.MipmapOff()
        texture.RepeatOff()
        texture.EdgeClampOn()
        self._textures[key] = (texture, self._clock)
        self.made += 1
        self.used += 1
        return texture


class Renderer:
    """An off-screen render window with the detector drawn once, reused for every event."""

    def __init__(
        self,
        style: Style,
        detector: Sequence[shapes.Primitive] = (),
        scale: float = 1.0,
        line_scale: float | None = None,
        label_band: float | None = None,
    ) -> None:
        check_headless()
        from ispyrender.rendering.meshes import primitive_mesh

        self._primitive_mesh = primitive_mesh
        self.style = style
        canvas = style.canvas
        self.size = (max(16, round(canvas.width * scale)), max(16, round(canvas.height * scale)))
        # Pixels per style pixel: style sizes are for a 1080-pixel-high picture. A figure's 3D
        # panel passes the figure's own ratio, so its lines match the projections beside it.
        self.line_scale = line_scale if line_scale is not None else self.size[1] / REFERENCE_HEIGHT
        # The top of the picture is kept for the labels drawn over it (a figure's 3D panel has
        # its labels outside and passes 0).
        if label_band is None:
            label_band = LABEL_BAND if style.labels.show else 0.0
        self.label_band = label_band
        try:
            self.window: Any = _open_window(self.size)
        except Exception as exc:  # VTK reports a broken GL stack in many ways
            raise RenderingError(
                f"could not open an off-screen OpenGL window ({exc}): {EGL_HELP}"
            ) from None
        # MSAA only for "msaa" (Mesa caps it at 4 samples; 8 gives the same image). On
        # llvmpipe it costs 160 ms a 1080p frame (resolve and read-back of four samples a
        # pixel); FXAA, a pass over the finished picture, costs 60 ms and leaves no more
        # jagged pixels (tests/test_antialiasing.py).
        aa = canvas.anti_aliasing
        if aa == "fxaa" and canvas.transparent:
            # FXAA smooths colour only and leaves the alpha of edge pixels at 0 or 255: over a
            # transparent background an edge would keep a fringe of the background colour.
            aa = "msaa"
        self.window.SetMultiSamples(4 if aa == "msaa" else 0)
        self._fxaa = aa == "fxaa"
        self._fxaa_layer: int | None = None
        self._layers = self._make_layers(parse_color(canvas.background))
        self.camera: Any = self._layers[0].GetActiveCamera()
        self._set_lights()
        # Outlines lie on the faces they outline; without an offset the two fight over depth
        # and the outline comes out dashed (MSAA's four samples hid it; FXAA cannot): some
        # 40,000 outline pixels lost over three 1080p pictures. Pushing the faces back by
        # their depth slope (polygon offset 1, 1: exact_outlines) costs 44 ms a 1080p frame,
        # because VTK writes the offset depth in the fragment shader of every face and
        # llvmpipe loses its early depth test; pulling the lines forward (_offsets) costs only
        # their own few pixels, and about 2,000 pixels differ from the exact picture.
        self.exact_outlines = False
        self._event_actors: list[tuple[int, Any]] = []
        self._base_camera: tuple[np.ndarray, np.ndarray, float] = (np.zeros(3), np.zeros(3), 1.0)
        self._base_focal = np.zeros(3)
        # The last scene framed, its orbit axis, focal point and lens (see _event_frame).
        self._framed: tuple[shapes.Scene, str | None, np.ndarray, float] | None = None
        self._detector = list(detector)
        # Kept so that an animation can hide the detector without rebuilding it.
        self._detector_actors = [
            a for p in self._detector for a in self._add(p, LAYER_DETECTOR, cull=True)
        ]
        self._bounds = detector_bounds(self._detector)
        self._detector_visible = True
        # Movies turn the cut-away wedge with the camera (see _cut_towards_camera): the
        # detector's actors per wedge, by its centre in degrees (None: the style's own wedge).
        self._cuts: dict[int | None, list[Any]] = {None: self._detector_actors}
        self._cut: int | None = None
        self.backdrops = DetectorBackdrops(self.size)

    def _make_layers(self, background: tuple[float, float, float]) -> list[Any]:
        """Layer 0 holds the background and the detector; layers 1.. are renderers drawn over
        it with the same camera, each clearing only depth (VTK treats a layer > 0 as
        transparent)."""
        from vtkmodules.vtkRenderingCore import vtkRenderer

        window = self.window
        window.SetNumberOfLayers(N_LAYERS)
        layers: list[Any] = []
        for i in range(N_LAYERS):
            layer = vtkRenderer()
            layer.SetLayer(i)
            layer.SetInteractive(False)
            # The lights are the two of _set_lights, not VTK's automatic headlight.
            layer.AutomaticLightCreationOff()
            if i == 0:
                layer.SetBackground(*background)
            else:
                layer.SetActiveCamera(layers[0].GetActiveCamera())
            if self.style.canvas.anti_aliasing == "ssaa":
                from vtkmodules.vtkRenderingOpenGL2 import vtkRenderStepsPass, vtkSSAAPass

                ssaa = vtkSSAAPass()
                ssaa.SetDelegatePass(vtkRenderStepsPass())
                layer.SetPass(ssaa)
            window.AddRenderer(layer)
            layers.append(layer)
        return layers

    def _set_lights(self) -> None:
        """A headlight and one light from above the camera instead of a five-light kit:
        llvmpipe shades every fragment once per light, and the layered detector covers most of
        the picture several times over (measured: 200 -> 115 ms a frame at 1920x1080, together
        with back-face culling)."""
        from vtkmodules.vtkRenderingCore import vtkLight

        head = vtkLight()
        head.SetLightTypeToHeadlight()
        head.SetIntensity(0.8)
        above = vtkLight()
        above.SetLightTypeToCameraLight()
        above.SetPosition(-0.5, 1.0, 1.0)
        above.SetIntensity(0.4)
        for light in (head, above):
            for layer in self._layers:
                layer.AddLight(light)

    # -- drawing -------------------------------------------------------------------------
    def _px(self, width: float) -> float:
        """A style size in pixels of this picture (never under one pixel)."""
        return max(1.0, width * self.line_scale)

    @staticmethod
    def _actor(mapper: Any, color: Sequence[float], opacity: float) -> Any:
        """An actor with flat shading, as pyvista's meshes had (VTK's own default is Gouraud);
        lighting stays on unless the caller turns it off."""
        from vtkmodules.vtkRenderingCore import vtkActor

        actor = vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetColor(*color)
        prop.SetOpacity(opacity)
        prop.SetInterpolationToFlat()
        return actor

    @staticmethod
    def _mapper(data: Any = None) -> Any:
        from vtkmodules.vtkRenderingCore import vtkDataSetMapper

        mapper = vtkDataSetMapper()
        mapper.InterpolateScalarsBeforeMappingOn()
        if data is not None:
            mapper.SetInputData(data)
        return mapper

    def _add(self, prim: shapes.Primitive, layer: int, cull: bool = False) -> list[Any]:
        """Actors for one primitive, added to ``layer``: the surface or lines, and the outline
        where the look asks for one. ``cull``: closed detector parts, whose far walls add
        shading work and clutter but nothing a reader needs."""
        dots = isinstance(prim, shapes.Spheres) and prim.pixels is not None
        if isinstance(prim, shapes.Spheres) and dots:
            import pyvista as pv

            mesh = pv.PolyData(np.asarray(prim.centers, dtype=float).reshape(-1, 3))
        else:
            mesh = self._primitive_mesh(prim)
        if mesh.n_points == 0:
            return []
        look = prim.look
        is_line = isinstance(prim, shapes.Polylines) or (
            isinstance(prim, shapes.Tube) and look.wireframe
        )
        if not is_line and not dots and isinstance(prim, shapes.Spheres | shapes.Cones):
            mesh.compute_normals(inplace=True, split_vertices=False, auto_orient_normals=False)
        actor = self._actor(self._mapper(mesh), look.color, look.opacity)
        prop = actor.GetProperty()
        if is_line:
            prop.SetLineWidth(self._px(look.line_width))
            prop.LightingOff()  # flat colour, so a line keeps its colour at every angle
            # Wide GL lines are drawn one quad per segment, and a helix has many short
            # segments: at small sizes the joints show as gaps (a dotted track). Tube imposters
            # join smoothly.
            prop.RenderLinesAsTubesOn()
        elif isinstance(prim, shapes.Spheres) and prim.pixels is not None:
            prop.SetRepresentationToPoints()
            # At least 3 pixels across, so that a thumbnail still shows a dot.
            prop.SetPointSize(max(3.0, self._px(prim.pixels)))
            prop.RenderPointsAsSpheresOn()
        else:
            if isinstance(prim, shapes.Spheres | shapes.Cones):
                prop.SetInterpolationToGouraud()
            if look.wireframe:
                prop.SetRepresentationToWireframe()
                prop.SetLineWidth(self._px(look.line_width))
            if isinstance(prim, shapes.Towers | shapes.Cones):
                prop.SetAmbient(0.3)
            if (
                cull
                and not look.wireframe
                and isinstance(prim, shapes.Tube | shapes.Boxes | shapes.Hexahedra)
            ):
                prop.BackfaceCullingOn()
            if layer == LAYER_DETECTOR and look.opacity >= 1.0:
                # Opaque detector fills are line-art: flat colour, the outlines tell the parts
                # apart, so nothing is dark enough to compete with the event. Unlit fragments
                # also cost a third of lit ones on llvmpipe (measured 560 -> 358 ms a frame).
                prop.LightingOff()
        actors: list[Any] = [actor]
        if look.edge_color is not None and isinstance(
            prim, shapes.Cones | shapes.Tube | shapes.Boxes | shapes.Hexahedra
        ):
            actors.append(self._outline(prim, mesh))
        renderer = self._layers[layer]
        for a in actors:
            renderer.AddActor(a)
        return actors

    def _outline(
        self, prim: shapes.Cones | shapes.Tube | shapes.Boxes | shapes.Hexahedra, mesh: Any
    ) -> Any:
        """Lines over a surface in its edge colour: a cone's rim and its silhouette as the
        camera sees it (recomputed by VTK whenever the camera moves, so movies stay right); a
        tube's rims; the edges of boxes and cells, each once. A line actor rather than VTK's
        edge visibility, which finds edges in the fragment shader of every face (measured:
        45 ms a 1080p frame for the detector's 790 chambers)."""
        from ispyrender.rendering.meshes import cone_rims, tube_rims

        look = prim.look
        assert look.edge_color is not None
        if isinstance(prim, shapes.Cones):
            from vtkmodules.vtkFiltersCore import vtkAppendPolyData
            from vtkmodules.vtkFiltersHybrid import vtkPolyDataSilhouette

            silhouette = vtkPolyDataSilhouette()
            silhouette.SetInputData(mesh)
            silhouette.SetCamera(self.camera)
            silhouette.SetDirectionToCameraOrigin()
            silhouette.SetEnableFeatureAngle(False)
            silhouette.BorderEdgesOff()
            append = vtkAppendPolyData()
            append.AddInputConnection(silhouette.GetOutputPort())
            append.AddInputData(cone_rims(prim))
            mapper = self._mapper()
            mapper.SetInputConnection(append.GetOutputPort())
        elif isinstance(prim, shapes.Tube):
            mapper = self._mapper(tube_rims(prim))
        else:
            mapper = self._mapper(mesh.extract_all_edges())
        actor = self._actor(mapper, look.edge_color, look.edge_opacity)
        prop = actor.GetProperty()
        prop.SetLineWidth(self._px(look.line_width))
        prop.LightingOff()
        # Tube imposters join a cone's silhouette smoothly; rims and chamber edges are
        # plain lines, cheaper to draw by the thousand.
        prop.SetRenderLinesAsTubes(isinstance(prim, shapes.Cones))
        return actor

    def _apply_camera(self, scene: shapes.Scene | None, orbit_axis: str | None = None) -> None:
        cam_style = self.style.camera
        eye, up = camera_vectors(cam_style)
        cam = self.camera
        parallel = cam_style.projection == "parallel"
        cam.SetParallelProjection(parallel)
        cam.SetViewUp(*up)
        # A narrower lens than VTK's 30 degrees: the camera framing a small event stands
        # farther back, so near objects are not blown up by perspective.
        cam.SetViewAngle(VIEW_ANGLE)
        # An empty scene (a picture of the detector alone) is framed on the detector.
        if cam_style.focus == "series" or (
            cam_style.focus == "event" and scene is not None and scene.primitives
        ):
            framed = scene if scene is not None else shapes.Scene()
            focal, size = self._event_frame(framed, orbit_axis, eye, up, parallel)
            cam.SetFocalPoint(*focal)
            cam.SetPosition(*(focal + eye * CAMERA_DISTANCE))
            if parallel:
                cam.SetParallelScale(size)
            else:
                cam.SetViewAngle(size)
        else:
            cam.SetFocalPoint(0.0, 0.0, 0.0)
            cam.SetPosition(*(eye * 30.0))
            bounds = self._bounds or (-1.5, 1.5, -1.5, 1.5, -3.0, 3.0)
            self._layers[0].ResetCamera(bounds)
            # Keep the beam spot in the middle of the picture whatever the bounds.
            cam.SetFocalPoint(0.0, 0.0, 0.0)
        cam.Zoom(cam_style.zoom)
        self._reset_clipping()

    def _event_frame(
        self,
        scene: shapes.Scene,
        orbit_axis: str | None,
        eye: np.ndarray,
        up: np.ndarray,
        parallel: bool,
    ) -> tuple[np.ndarray, float]:
        """:func:`frame_event` for ``scene``, kept for the next call with the same scene: a
        collision movie aims at its whole event once per frame while its tracks grow."""
        cached = self._framed
        if cached is not None and cached[0] is scene and cached[1] == orbit_axis:
            return cached[2], cached[3]
        if self.style.camera.focus == "series":
            # The same region for every event: series_extent along each axis from the beam spot.
            points = np.vstack([np.eye(3), -np.eye(3)]) * self.style.camera.series_extent
        else:
            points = event_points(scene)
        if orbit_axis is not None and len(points) > _ENVELOPE_ABOVE:
            # A crowded event (100,000 PF candidates: 6 million points) turned 16 times took
            # 5 GB: its turn is framed by the circles it sweeps instead.
            points = _swept_envelope(points, orbit_axis)
        elif orbit_axis is not None:
            # A turntable turns about an axis through the beam spot: frame the event as it is
            # at every turn, so it stays in the picture and the focal point on the axis.
            points = np.vstack([points @ _rotation(orbit_axis, a).T for a in _TURNS])
        aspect = self.size[0] / self.size[1]
        fill = self.style.camera.fill
        focal, size = frame_event(
            points,
            eye,
            up,
            aspect,
            fill,
            perspective=not parallel,
            top=self.label_band,
            # Only a picture with the detector needs room for it.
            least=self.style.camera.min_extent if self._detector_actors else 0.0,
        )
        self._framed = (scene, orbit_axis, focal, size)
        return focal, size

    def _render(self) -> None:
        """Render the window, with FXAA on the top layer that draws something.

        VTK runs a renderer's FXAA pass over the whole framebuffer after that renderer has
        drawn, so one pass on the top layer smooths every layer under it; a layer with nothing
        visible is skipped altogether, its pass with it. Where the camera has a kept picture
        of the detector (:class:`DetectorBackdrops`), the event is drawn over it instead of
        over the detector's actors."""
        top = max(
            (i for i, layer in enumerate(self._layers) if layer.VisibleActorCount()),
            default=0,
        )
        if self._fxaa and top != self._fxaa_layer:
            for i, layer in enumerate(self._layers):
                layer.SetUseFXAA(i == top)
            self._fxaa_layer = top
        with coincident_offsets(*self._offsets()):
            backdrop = self._backdrop() if top > 0 else None
            if backdrop is None:
                self.window.Render()
                return
            # The detector's picture for this camera in place of its actors: layer 0 clears
            # to it, and the event's layers draw over it as they would over the actors.
            detector = self._layer0_actors()
            for actor in detector:
                actor.SetVisibility(False)
            self._layers[0].SetBackgroundTexture(backdrop)
            self._layers[0].TexturedBackgroundOn()
            try:
                self.window.Render()
            finally:
                self._layers[0].TexturedBackgroundOff()
                for actor in detector:
                    actor.SetVisibility(True)

    def _layer0_actors(self) -> list[Any]:
        """The detector's actors shown now (the current cut-away wedge's)."""
        return [a for a in self._cuts[self._cut] if a.GetVisibility()]

    def _backdrop(self) -> Any:
        """The detector's picture for the camera as it is now, when it can stand in for the
        detector's actors (see :class:`DetectorBackdrops`); None to draw them."""
        canvas = self.style.canvas
        if (
            canvas.transparent
            or canvas.anti_aliasing not in ("fxaa", "none")
            or not self._detector_visible
            or not self._detector_actors
        ):
            return None
        key = self._camera_key()
        found = self.backdrops.get(key)
        if found is not None or not self.backdrops.wanted(key):
            return found
        # The second frame with this camera: draw the detector alone and keep its pixels. The
        # event's layers are off, and with them the FXAA pass of the top one: the pixels are
        # those the event is drawn over, before the pass over the finished picture.
        for layer in self._layers[1:]:
            layer.DrawOff()
        try:
            self.window.Render()
            pixels = self._read()
        finally:
            for layer in self._layers[1:]:
                layer.DrawOn()
        return self.backdrops.keep(key, pixels)

    def _camera_key(self) -> tuple[Any, ...]:
        """Everything that decides the detector's picture besides the style: the camera, the
        cut-away wedge turned with it."""
        cam = self.camera
        return (
            cam.GetPosition(),
            cam.GetFocalPoint(),
            cam.GetViewUp(),
            cam.GetViewAngle(),
            cam.GetParallelScale(),
            cam.GetParallelProjection(),
            cam.GetClippingRange(),
            self._cut,
            self.exact_outlines,
        )

    def _offsets(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Coincident-topology offsets (factor, units) of faces and of lines for this camera:
        lines pulled OUTLINE_PULL metres towards the camera at its focal point, whatever its
        distance and clipping planes (a fixed number of units would be a centimetre for a
        camera 25 m away and a metre for one inside the detector)."""
        if self.exact_outlines:
            return (1.0, 1.0), (0.0, 0.0)
        cam = self.camera
        near, far = cam.GetClippingRange()
        if cam.GetParallelProjection():
            per_metre = 1.0 / (far - near)
        else:
            # Window depth is f (d - n) / (d (f - n)): its slope at the focal distance d.
            distance = cam.GetDistance()
            per_metre = near * far / ((far - near) * distance * distance)
        units = OUTLINE_PULL * per_metre / _VTK_OFFSET_UNIT
        return (0.0, 0.0), (OUTLINE_SLOPE, -units)

    def _read(self, magnification: int = 1) -> np.ndarray:
        """The rendered picture as an (H, W, 3) array, (H, W, 4) with a transparent
        background; ``magnification`` > 1 re-renders it in tiles that many times larger."""
        from vtkmodules.util.numpy_support import vtk_to_numpy
        from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

        grab = vtkWindowToImageFilter()
        grab.SetInput(self.window)
        grab.SetScale(magnification)
        grab.FixBoundaryOn()
        # The front buffer: with MSAA on, the back buffer is the multisampled one, which VTK
        # would resolve differently from the picture Render() shows.
        grab.ReadFrontBufferOn()
        grab.ShouldRerenderOff()
        if self.style.canvas.transparent:
            grab.SetInputBufferTypeToRGBA()
        else:
            grab.SetInputBufferTypeToRGB()
        with coincident_offsets(*self._offsets()):
            grab.Update()  # renders again for each tile when magnified
        image = grab.GetOutput()
        width, height, _ = image.GetDimensions()
        pixels = vtk_to_numpy(image.GetPointData().GetScalars())
        # VTK's rows run bottom to top.
        return np.ascontiguousarray(pixels.reshape(height, width, -1)[::-1])

    def _reset_clipping(self) -> None:
        """Near and far planes around the whole detector, whatever the layers hold (each
        layer would otherwise clip to its own actors), and no wider: VTK's own reset widens
        the range by half and puts the near plane at 7.6 cm for a camera 25 m away, where a
        24-bit depth buffer resolves only half a millimetre. Planes at the bounding sphere
        (near plane 5 m) resolve microns there."""
        cam = self.camera
        distance = float(np.linalg.norm(cam.GetPosition()))
        near = max(distance - DETECTOR_RADIUS, 0.01 * DETECTOR_RADIUS)
        cam.SetClippingRange(near, distance + DETECTOR_RADIUS)

    def _replace_event(self, scene: shapes.Scene) -> None:
        for layer, actor in self._event_actors:
            self._layers[layer].RemoveActor(actor)
        self._event_actors = []
        for p in scene.primitives:
            layer = event_layer(p)
            self._event_actors.extend((layer, a) for a in self._add(p, layer))

    def set_scene(
        self, scene: shapes.Scene, frame: shapes.Scene | None = None, orbit_axis: str | None = None
    ) -> None:
        """Replace the event's actors (the detector stays) and aim the style's camera at
        ``frame`` (the whole event, when ``scene`` shows it part-drawn), framed for a turn
        about ``orbit_axis`` ("beam" or "vertical") when the camera will orbit."""
        self._replace_event(scene)
        self._apply_camera(frame if frame is not None else scene, orbit_axis)
        cam = self.camera
        self._base_camera = (
            np.array(cam.GetPosition()),
            np.array(cam.GetViewUp()),
            cam.GetParallelScale(),
        )
        self._base_focal = np.array(cam.GetFocalPoint())

    def show_detector(self, visible: bool) -> None:
        """Show or hide the detector actors (an animation's `show` list); no re-render."""
        self._detector_visible = visible
        for actor in self._cuts[self._cut]:
            actor.SetVisibility(visible)

    def _cut_towards_camera(self) -> None:
        """Turn the detector's cut-away wedge with the camera: it keeps its width and the
        angle to the camera it has in the still picture, so the detector stays open towards
        the viewer in every frame of a movie, as in CMS's own pictures (a fixed wedge would
        turn away, and the event would be painted over the outside of the yoke). The wedge
        moves in steps of CUT_STEP degrees; each wedge's actors are built once."""
        cutaway = self.style.detector.cutaway
        if cutaway is None or not self._detector_actors:
            return
        width = (cutaway[1] - cutaway[0]) % 360.0
        own = cutaway[0] + width / 2.0

        def azimuth(eye: np.ndarray) -> float | None:
            # Looking along the beam, every wedge is as good as another.
            transverse = float(np.hypot(eye[0], eye[1]))
            if transverse < 1e-6 * max(float(np.linalg.norm(eye)), 1e-12):
                return None
            return float(np.degrees(np.arctan2(eye[1], eye[0])))

        base = azimuth(self._base_camera[0] - self._base_focal)
        now = azimuth(np.array(self.camera.GetPosition()) - np.array(self.camera.GetFocalPoint()))
        if base is None or now is None:
            return
        step = round((own + now - base) / CUT_STEP) * CUT_STEP % 360
        cut = None if step == round(own / CUT_STEP) * CUT_STEP % 360 else int(step)
        if cut == self._cut:
            return
        if cut is not None and cut not in self._cuts:
            from ispyrender.scene.detector import build_detector

            turned = self.style.detector.model_copy(
                update={"cutaway": (cut - width / 2.0, cut + width / 2.0)}
            )
            self._cuts[cut] = [
                a for p in build_detector(turned) for a in self._add(p, LAYER_DETECTOR, cull=True)
            ]
        for actor in self._cuts[self._cut]:
            actor.SetVisibility(False)
        for actor in self._cuts[cut]:
            actor.SetVisibility(self._detector_visible)
        self._cut = cut

    def orbit(
        self, axis: str, degrees: float, zoom: float = 1.0, elevation: float = 0.0
    ) -> np.ndarray:
        """The current scene seen with the style's camera turned by ``degrees`` about the
        beam line (axis "beam", z) or the vertical (axis "vertical", y), then tilted up by
        ``elevation`` degrees and zoomed by ``zoom`` relative to the style's: one frame of a
        turntable. Only the camera moves, so a frame costs one render, not a rebuild of the
        actors."""
        position, up, parallel_scale = self._base_camera
        focal = self._base_focal
        rot = _rotation(axis, np.radians(degrees))
        cam = self.camera
        cam.SetPosition(*(rot @ (focal + (position - focal) / zoom)))
        cam.SetViewUp(*(rot @ up))
        cam.SetFocalPoint(*(rot @ focal))
        cam.SetParallelScale(parallel_scale / zoom)
        if elevation:
            # VTK tilts about the focal point; re-orthogonalising keeps the horizon level.
            cam.Elevation(elevation)
            cam.OrthogonalizeViewUp()
        self._cut_towards_camera()
        self._reset_clipping()
        self._render()
        return self._read()

    def draw(
        self, scene: shapes.Scene, magnification: int = 1, frame: shapes.Scene | None = None
    ) -> np.ndarray:
        """Render one event and return the picture as an (H, W, 3) or (H, W, 4) uint8 array.

        ``magnification`` > 1 renders the picture that many times larger in tiles of the
        window's size, stitched by vtkWindowToImageFilter: the way past the GL's largest
        framebuffer (line widths stay in window pixels, so lines come out thinner).

        ``frame``: the scene the camera is aimed at, when not ``scene`` itself (pictures of
        parts of one event seen the same way)."""
        self._replace_event(scene)
        self._apply_camera(frame if frame is not None else scene)
        self._render()
        return self._read(magnification)

    def close(self) -> None:
        for layer in self._layers:
            layer.RemoveAllViewProps()
        self.window.Finalize()

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
