"""Benchmark: PNG pictures per second, first picture and peak memory, against a naive script
and the floor, all measured in the same run.

Each row runs in its own process (so peak memory is its own) over the 1000-event NanoAODv5 file
in ../shared/data (the built-in sample when absent), in the publication style at two sizes:
1920x1080 and 320x180 thumbnails.

    python benchmarks/bench_render.py                  # 40 HD events, 150 thumbnails, 3 runs
    python benchmarks/bench_render.py --hd 100 --thumbs 400 --repeat 5

Every row of a size draws the same events.

Rows:
  ispyrender       `render_events`, what `ispyrender render` runs: one window, the detector
                   built once, labels drawn, PNGs written (encoded in a thread). The style's
                   camera frames each event (focus "event").
  ispyrender, series  the same with `camera.focus=series`, one camera for every event: the
                   detector's picture is made once and each event drawn over it
                   (rendering.renderer.DetectorBackdrops).
  naive            what a physicist writes with pyvista: for every event a fresh Plotter, the
                   same detector and event meshes added with `add_mesh` (pyvista's defaults:
                   MSAA, five-light kit), `screenshot(file)`. No labels.
  naive, 6 tubes   the same with a simple detector of six cylinders (the issue's naive script).
  floor            the same frames as the ispyrender row, timed as VTK's `Render()` (with FXAA,
                   as the pictures) plus the read-back alone (scene, actors, labels and file
                   untimed), and, separately, the least a PNG encoder can do with the pixels
                   (zlib level 1 of the rows): its rate is 1 / the mean render + read-back.
  first PNG        whole process `ispyrender render --events 0 -o ...`: start-up, imports, the
                   window, one event; its floor is a process that imports numpy, uproot,
                   awkward, pydantic, Pillow and VTK's render modules (not pyvista, typer or
                   rich) and writes one raw VTK frame of one sphere at the same size as a PNG.

"rate" is marginal (after start-up: the first event of each process is not counted);
ratios are printed against the naive script and the floor. Each row is the median of
--repeat runs: the machine is shared and single runs vary by up to 30 %.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inputs import default_input, row_in_child

SIZES = {"hd": (1920, 1080), "thumb": (320, 180)}


def _style(size: str, series: bool = False):  # type: ignore[no-untyped-def]
    from ispyrender.config.loader import load_style

    width, height = SIZES[size]
    sets = [f"canvas.width={width}", f"canvas.height={height}"]
    return load_style("publication", sets + (["camera.focus=series"] if series else []))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ispyrender(size: str, n: int, path: str, series: bool = False) -> dict[str, float]:
    from ispyrender.jobs.render import RenderOptions, render_events
    from ispyrender.sources import open_source

    style = _style(size, series)
    stamps: list[float] = []
    with open_source([path]) as source, tempfile.TemporaryDirectory() as tmp:
        entries = list(range(min(n, source.num_entries)))
        options = RenderOptions(out=Path(tmp), overwrite=True)
        render_events(
            source, entries, style, options, progress=lambda r: stamps.append(time.perf_counter())
        )
    return {"events": len(stamps), "rate": (len(stamps) - 1) / (stamps[-1] - stamps[0])}


def _scenes(size: str, n: int, path: str):  # type: ignore[no-untyped-def]
    from ispyrender.physics import EventBuilder
    from ispyrender.scene.event import build_scene
    from ispyrender.sources import open_source

    style = _style(size)
    with open_source([path]) as source:
        entries = list(range(min(n, source.num_entries)))
        for physics in EventBuilder(source, style).events(entries):
            yield style, build_scene(physics, style)


def run_naive(size: str, n: int, path: str, simple: bool) -> dict[str, float]:
    import pyvista as pv

    from ispyrender.rendering.meshes import primitive_mesh
    from ispyrender.scene.detector import build_detector

    width, height = SIZES[size]
    style = _style(size)
    if simple:
        detector = [
            (pv.Cylinder(radius=r, height=2 * z, direction=(0, 0, 1)), color)
            for r, z, color in (
                (1.16, 2.8, "#d9e9f6"),
                (1.52, 2.9, "#c3d7ea"),
                (2.9, 4.4, "#e4e7ec"),
                (3.0, 6.3, "#d5d9de"),
                (5.0, 6.6, "#eaedf0"),
                (7.4, 6.6, "#eaedf0"),
            )
        ]
    else:
        detector = [(primitive_mesh(p), p.look.color) for p in build_detector(style.detector)]
    stamps = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (_, scene) in enumerate(_scenes(size, n, path)):
            plotter = pv.Plotter(off_screen=True, window_size=[width, height])
            for mesh, color in detector:
                plotter.add_mesh(mesh, color=color, opacity=0.3 if simple else 1.0, render=False)
            for p in scene.primitives:
                mesh = primitive_mesh(p)
                if mesh.n_points:
                    plotter.add_mesh(
                        mesh, color=p.look.color, line_width=p.look.line_width, render=False
                    )
            plotter.view_isometric()
            plotter.screenshot(str(Path(tmp) / f"{i}.png"))
            plotter.close()
            stamps.append(time.perf_counter())
    return {"events": len(stamps), "rate": (len(stamps) - 1) / (stamps[-1] - stamps[0])}


def run_floor(size: str, n: int, path: str) -> dict[str, float]:
    import zlib

    import numpy as np

    from ispyrender.rendering.renderer import Renderer
    from ispyrender.scene.detector import build_detector

    renderer = None
    render_s: list[float] = []
    encode_s: list[float] = []
    for style, scene in _scenes(size, n, path):
        if renderer is None:
            renderer = Renderer(style, build_detector(style.detector))
        renderer.set_scene(scene)
        start = time.perf_counter()
        renderer._render()  # Render() with FXAA on the top layer that draws
        pixels = renderer._read()
        render_s.append(time.perf_counter() - start)
        rows = np.empty((pixels.shape[0], 1 + pixels[0].size), dtype=np.uint8)
        rows[:, 0] = 0
        rows[:, 1:] = pixels.reshape(pixels.shape[0], -1)
        start = time.perf_counter()
        zlib.compress(rows.data, 1)
        encode_s.append(time.perf_counter() - start)
    assert renderer is not None
    renderer.close()
    # The first frame compiles shaders: not counted, as for the other rows.
    render, encode = statistics.mean(render_s[1:]), statistics.mean(encode_s[1:])
    return {"events": len(render_s), "rate": 1.0 / render, "render_ms": render * 1e3,
            "encode_ms": encode * 1e3}  # fmt: skip


FLOOR_FIRST = """
import os, sys, time, zlib
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
import numpy, uproot, awkward, pydantic, PIL.Image
import vtkmodules.vtkRenderingOpenGL2
from vtkmodules.vtkRenderingCore import (vtkActor, vtkPolyDataMapper, vtkRenderWindow,
    vtkRenderer, vtkWindowToImageFilter)
from vtkmodules.vtkFiltersSources import vtkSphereSource
from vtkmodules.util.numpy_support import vtk_to_numpy
w, h = int(sys.argv[1]), int(sys.argv[2])
window = vtkRenderWindow(); window.SetOffScreenRendering(True); window.SetSize(w, h)
window.SetMultiSamples(0); renderer = vtkRenderer(); window.AddRenderer(renderer)
sphere = vtkSphereSource(); mapper = vtkPolyDataMapper()
mapper.SetInputConnection(sphere.GetOutputPort())
actor = vtkActor(); actor.SetMapper(mapper); renderer.AddActor(actor); window.Render()
grab = vtkWindowToImageFilter(); grab.SetInput(window); grab.Update()
pixels = vtk_to_numpy(grab.GetOutput().GetPointData().GetScalars()).reshape(h, w, -1)
PIL.Image.fromarray(pixels[::-1]).save(sys.argv[3], compress_level=1)
"""


def run_first(size: str, which: str) -> dict[str, float]:
    width, height = SIZES[size]
    with tempfile.TemporaryDirectory() as tmp:
        if which == "ispyrender":
            cmd = [sys.executable, "-m", "ispyrender", "render", "--events", "0", "-q", "-o", tmp]
            cmd += ["--set", f"canvas.width={width}", "--set", f"canvas.height={height}"]
        else:
            cmd = [sys.executable, "-c", FLOOR_FIRST, str(width), str(height), f"{tmp}/f.png"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak}


def one(kind: str, size: str, n: int, path: str) -> dict[str, float]:
    if kind == "ispyrender":
        out = run_ispyrender(size, n, path)
    elif kind == "series":
        out = run_ispyrender(size, n, path, series=True)
    elif kind == "naive":
        out = run_naive(size, n, path, simple=False)
    elif kind == "naive6":
        out = run_naive(size, n, path, simple=True)
    elif kind == "floor":
        out = run_floor(size, n, path)
    else:
        return run_first(size, kind.removeprefix("first-"))
    out["peak_mb"] = _peak_mb()
    return out


def child(kind: str, size: str, n: int, path: str) -> dict[str, float]:
    return row_in_child(__file__, "--one", kind, size, str(n), "--input", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default=None)
    parser.add_argument("--hd", type=int, default=40, help="events at 1920x1080")
    parser.add_argument("--thumbs", type=int, default=150, help="events at 320x180")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each row (median)")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = default_input(args.input)
    if args.one:
        kind, size, n = args.one
        print(json.dumps(one(kind, size, int(n), path)))
        return

    def median_of(kind: str, size: str, n: int) -> dict[str, float]:
        runs = [child(kind, size, n, path) for _ in range(args.repeat)]
        return {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    print(f"input {Path(path).name}, publication style, median of {args.repeat} run(s)")
    print(f"{'size':<10} {'row':<19} {'events':>6} {'ev/s':>7} {'peak MB':>8}  notes")
    for size, n in (("hd", args.hd), ("thumb", args.thumbs)):
        label = "x".join(map(str, SIZES[size]))
        ours = median_of("ispyrender", size, n)
        series = median_of("series", size, n)
        naive = median_of("naive", size, n)
        naive6 = median_of("naive6", size, n)
        floor = median_of("floor", size, n)
        # The targets: 1080p at least 4x the naive script; thumbnails 100 events/s.
        goal = (
            f"; target 4x naive: {ours['rate'] / naive['rate'] / 4:.2f} of it"
            if size == "hd"
            else f"; target 100 ev/s: {ours['rate'] / 100:.2f} of it"
        )
        rows = (
            ("ispyrender", ours, f"{ours['rate'] / naive['rate']:.1f}x naive{goal}, "
             f"{ours['rate'] / naive6['rate']:.1f}x naive 6 tubes, "
             f"{ours['rate'] / floor['rate']:.2f} of the floor's render rate"),
            ("ispyrender, series", series, f"{series['rate'] / naive['rate']:.1f}x naive, "
             f"{series['rate'] / naive6['rate']:.1f}x naive 6 tubes"),
            ("naive", naive, ""),
            ("naive, 6 tubes", naive6, ""),
            ("floor", floor, f"render+read {floor['render_ms']:.1f} ms, "
             f"zlib-1 encode {floor['encode_ms']:.1f} ms"),
        )  # fmt: skip
        for name, r, note in rows:
            print(
                f"{label:<10} {name:<19} {r['events']:>6.0f} {r['rate']:>7.2f} "
                f"{r['peak_mb']:>8.0f}  {note}"
            )
    print(f"\n{'first PNG (whole process)':<28} {'seconds':>8} {'peak MB':>8}")
    for size in ("hd",):
        first = median_of("first-ispyrender", size, 1)
        floor = median_of("first-floor", size, 1)
        goal = f"{first['seconds'] / 1.2:.2f}x and {first['peak_mb'] / 400:.2f}x of them"
        print(f"{'ispyrender render':<28} {first['seconds']:>8.2f} {first['peak_mb']:>8.0f}  "
              f"{first['seconds'] / floor['seconds']:.1f}x the floor; target 1.2 s and 400 MB: "
              f"{goal}")  # fmt: skip
        print(
            f"{'floor (imports + 1 frame)':<28} {floor['seconds']:>8.2f} {floor['peak_mb']:>8.0f}"
        )


if __name__ == "__main__":
    main()
