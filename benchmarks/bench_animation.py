"""Benchmark: movies, whole process, against a naive script and the floor in the same run.

    python benchmarks/bench_animation.py              # 72-frame 1280x720 MP4, median of 3
    python benchmarks/bench_animation.py --repeat 5 --frames 144

Rows, each in its own process and timed from the outside (Python start-up, imports, reading the
built-in sample, building the window and encoding included):
  ispyrender turntable / collision   `ispyrender animate`'s job, outreach style, event 0.
  naive turntable    what a physicist writes: one pyvista Plotter with the same detector and
                     event meshes (pyvista's defaults: MSAA, five-light kit), the camera turned
                     5 degrees a frame, `screenshot()` each frame into PyAV's H.264 encoder
                     (same codec settings) on the main thread.
  floor              the same 72 turntable frames timed as raw VTK `Render()` plus read-back
                     alone, and the H.264 encoding of those frames alone (not counted: start-up,
                     scene, window).
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

WIDTH, HEIGHT = 1280, 720


def _style(kind: str, frames: int):  # type: ignore[no-untyped-def]
    from ispyrender.config.loader import load_style

    return load_style(
        "outreach", [f"animation.kind={kind}", f"animation.frames={frames}", "animation.format=mp4"]
    )


def _scene(style):  # type: ignore[no-untyped-def]
    from ispyrender.physics import EventBuilder
    from ispyrender.scene.event import build_scene
    from ispyrender.sources import open_source
    from ispyrender.sources.sample import sample_path

    with open_source([str(sample_path())]) as source:
        physics = next(iter(EventBuilder(source, style).events([0])))
    return build_scene(physics, style)


def _encoder(path: Path):  # type: ignore[no-untyped-def]
    import av

    container = av.open(str(path), mode="w", format="mp4")
    stream = container.add_stream("libx264", rate=24)
    stream.width, stream.height = WIDTH, HEIGHT
    stream.pix_fmt = "yuv420p"
    stream.options = {"crf": "20", "preset": "veryfast"}
    return av, container, stream


def run_ispyrender(kind: str, frames: int) -> None:
    from ispyrender.jobs.animate import animate_events
    from ispyrender.sources import open_source
    from ispyrender.sources.sample import sample_path

    with open_source([str(sample_path())]) as source, tempfile.TemporaryDirectory() as tmp:
        animate_events(source, [0], _style(kind, frames), Path(tmp), overwrite=True)


def run_naive(frames: int) -> None:
    import pyvista as pv

    from ispyrender.rendering.meshes import primitive_mesh
    from ispyrender.scene.detector import build_detector

    style = _style("turntable", frames)
    scene = _scene(style)
    plotter = pv.Plotter(off_screen=True, window_size=[WIDTH, HEIGHT])
    plotter.set_background(style.canvas.background)
    for p in [*build_detector(style.detector), *scene.primitives]:
        mesh = primitive_mesh(p)
        if mesh.n_points:
            plotter.add_mesh(mesh, color=p.look.color, line_width=p.look.line_width, render=False)
    plotter.view_isometric()
    with tempfile.TemporaryDirectory() as tmp:
        av, container, stream = _encoder(Path(tmp) / "naive.mp4")
        with container:
            for _ in range(frames):
                plotter.camera.azimuth += 360.0 / frames
                plotter.render()
                image = plotter.screenshot(return_img=True)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    plotter.close()


def run_floor(frames: int) -> dict[str, float]:
    from ispyrender.jobs.animate import movie_style
    from ispyrender.rendering.renderer import Renderer
    from ispyrender.scene.detector import build_detector

    style, scale = movie_style(_style("turntable", frames))
    scene = _scene(style)
    images = []
    with Renderer(style, build_detector(style.detector), scale=scale) as renderer:
        assert renderer.size == (WIDTH, HEIGHT), renderer.size
        renderer.set_scene(scene, orbit_axis="vertical")
        renderer.orbit("vertical", 0.0)  # compiles the shaders: not counted
        start = time.perf_counter()
        for k in range(frames):
            images.append(renderer.orbit("vertical", 360.0 * k / frames))
        render = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        av, container, stream = _encoder(Path(tmp) / "floor.mp4")
        start = time.perf_counter()
        with container:
            for image in images:
                frame = av.VideoFrame.from_ndarray(image[..., :3], format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        encode = time.perf_counter() - start
    return {"render_s": render, "encode_s": encode}


def child(case: str, frames: int) -> dict[str, float]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--case", case, "--frames", str(frames)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    seconds = time.perf_counter() - start
    result = json.loads(out.strip().splitlines()[-1])
    result["seconds"] = seconds
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=72)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        result: dict[str, float] = {}
        if args.case == "naive":
            run_naive(args.frames)
        elif args.case == "floor":
            result = run_floor(args.frames)
        else:
            run_ispyrender(args.case, args.frames)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    def median_of(case: str) -> dict[str, float]:
        runs = [child(case, args.frames) for _ in range(args.repeat)]
        return {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    print(f"{args.frames} frames, {WIDTH}x{HEIGHT} MP4 (H.264 crf 20 veryfast), outreach style,")
    print(f"built-in sample event 0; whole process, median of {args.repeat}")
    naive = median_of("naive")
    floor = median_of("floor")
    print(f"{'movie':<22} {'seconds':>8} {'peak MB':>8}  notes")
    for kind in ("turntable", "collision"):
        r = median_of(kind)
        # The naive script makes a turntable: only that movie is compared with it.
        note = f"{r['seconds'] / naive['seconds']:.2f}x the naive script's time"
        note += f" (target at most 0.35x: {r['seconds'] / naive['seconds'] / 0.35:.2f} of it)"
        print(
            f"{'ispyrender ' + kind:<22} {r['seconds']:>8.2f} {r['peak_mb']:>8.0f}  "
            f"{note if kind == 'turntable' else ''}"
        )
    print(f"{'naive turntable':<22} {naive['seconds']:>8.2f} {naive['peak_mb']:>8.0f}")
    # The floor holds every frame in memory before encoding: its peak is not comparable.
    print(
        f"{'floor':<22} {floor['render_s'] + floor['encode_s']:>8.2f} {'-':>8}  "
        f"render+read {floor['render_s']:.2f} s, encode {floor['encode_s']:.2f} s "
        "(no start-up)"
    )


if __name__ == "__main__":
    main()
