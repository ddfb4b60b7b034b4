"""Benchmark: a gallery's events per second with its defaults, against the issue's target
(25 events/s marginal) and the floor measured in the same run.

Each row runs in its own process over the 1000-event NanoAODv5 file in ../shared/data (the
built-in sample when absent), with `ispyrender gallery`'s defaults: the outreach style at
1280x720, every event framed alike (camera focus "series"):

    python benchmarks/bench_gallery.py                 # 40 events, median of 3 runs
    python benchmarks/bench_gallery.py --events 100 --repeat 5

Rows:
  gallery          `build_gallery` as the command runs it: per event a 1280x720 labelled PNG,
                   a 320x180 thumbnail (drawn at 640x360, then halved), the card and the 3D
                   page's data; the site written at the end. One camera for every event, so
                   each renderer draws over the detector's picture made once (DetectorBackdrops).
  gallery, event   the same with `camera.focus=event`: each event framed on its own objects,
                   the detector drawn for each.
  floor            the least a gallery's event costs here: VTK's render and read-back of the
                   1280x720 picture alone plus that of the 640x360 thumbnail, as the gallery's
                   renderers do them (FXAA included; scene, actors, labels and files untimed);
                   its rate is 1 / their sum.

"rate" is marginal: events after the first, per second of the loop (the site's pages, written
once at the end, are not counted). Ratios are printed against the target and the floor.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

from inputs import default_input, row_in_child

TARGET = 25.0  # events/s marginal, with the gallery's defaults


def _style(focus: str = "series"):  # type: ignore[no-untyped-def]
    from ispyrender.config.loader import load_style

    # What `ispyrender gallery` uses when the user gives no style (cli/gallery.py).
    sets = ["canvas.width=1280", "canvas.height=720", f"camera.focus={focus}"]
    return load_style("outreach", sets)


def run_gallery(n: int, path: str, focus: str) -> dict[str, float]:
    from ispyrender.jobs.gallery import GalleryOptions, build_gallery
    from ispyrender.sources import open_source

    stamps: list[float] = []
    with open_source([path]) as source, tempfile.TemporaryDirectory() as tmp:
        entries = list(range(min(n, source.num_entries)))
        options = GalleryOptions(out=Path(tmp) / "site")
        build_gallery(
            source,
            entries,
            _style(focus),
            options,
            progress=lambda card: stamps.append(time.perf_counter()),
        )
    return {"events": len(stamps), "rate": (len(stamps) - 1) / (stamps[-1] - stamps[0])}


def run_floor(n: int, path: str) -> dict[str, float]:
    from ispyrender.jobs.gallery import GalleryOptions, thumbnail_style
    from ispyrender.physics import EventBuilder
    from ispyrender.rendering.renderer import Renderer
    from ispyrender.scene.detector import build_detector
    from ispyrender.scene.event import build_scene
    from ispyrender.sources import open_source

    style = _style()
    small = thumbnail_style(style, GalleryOptions(out=Path(".")).thumb_size)
    renderers = [Renderer(s, build_detector(s.detector)) for s in (style, small)]
    seconds: list[float] = []
    with open_source([path]) as source:
        entries = list(range(min(n, source.num_entries)))
        for physics in EventBuilder(source, style).events(entries):
            scene = build_scene(physics, style)
            spent = 0.0
            for renderer in renderers:
                renderer.set_scene(scene)
                start = time.perf_counter()
                renderer._render()
                renderer._read()
                spent += time.perf_counter() - start
            seconds.append(spent)
    for renderer in renderers:
        renderer.close()
    # The first event compiles the shaders: not counted, as for the gallery rows.
    return {"events": len(seconds), "rate": 1.0 / statistics.mean(seconds[1:])}


def one(kind: str, n: int, path: str) -> dict[str, float]:
    out = run_floor(n, path) if kind == "floor" else run_gallery(n, path, kind)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def child(kind: str, n: int, path: str) -> dict[str, float]:
    return row_in_child(__file__, "--one", kind, str(n), "--input", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default=None)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each row (median)")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = default_input(args.input)
    if args.one:
        kind, n = args.one
        print(json.dumps(one(kind, int(n), path)))
        return

    def median_of(kind: str) -> dict[str, float]:
        runs = [child(kind, args.events, path) for _ in range(args.repeat)]
        return {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    ours, event, floor = median_of("series"), median_of("event"), median_of("floor")
    print(f"input {Path(path).name}, the gallery's defaults, median of {args.repeat} run(s)")
    print(f"{'row':<17} {'events':>6} {'ev/s':>7} {'peak MB':>8}  notes")
    for name, r in (("gallery", ours), ("gallery, event", event), ("floor", floor)):
        note = (
            f"{r['rate'] / TARGET:.2f} of the target {TARGET:.0f} ev/s, "
            f"{r['rate'] / floor['rate']:.2f} of the floor"
            if name != "floor"
            else "render + read-back of the 1280x720 picture and the 640x360 thumbnail"
        )
        print(f"{name:<17} {r['events']:>6.0f} {r['rate']:>7.2f} {r['peak_mb']:>8.0f}  {note}")


if __name__ == "__main__":
    main()
