"""Benchmark: wall time and peak memory of movies, each in its own process.

    python benchmarks/bench_animation.py   # 72-frame 1280x720 MP4 turntable and collision

Times include starting Python, reading the built-in sample, building the plotter and encoding.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_case(kind: str, frames: int, fmt: str) -> dict[str, float]:
    from ispyrender.config.loader import load_style
    from ispyrender.jobs.animate import animate_events
    from ispyrender.sources.nanoaod import Dataset
    from ispyrender.sources.sample import sample_path

    style = load_style(
        "outreach",
        [f"animation.kind={kind}", f"animation.frames={frames}", f"animation.format={fmt}"],
    )
    start = time.perf_counter()
    with Dataset([str(sample_path())]) as dataset, tempfile.TemporaryDirectory() as tmp:
        animate_events(dataset, [0], style, Path(tmp), overwrite=True)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=72)
    parser.add_argument("--format", default="mp4")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.frames, args.format)))
        return
    print(f"{args.frames} frames, 1280x720 {args.format}, outreach style, built-in sample event 0")
    print(f"{'movie':<12} {'seconds':>8} {'frames/s':>9} {'peak MB':>8}")
    for kind in ("turntable", "collision"):
        t0 = time.perf_counter()
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--case",
                kind,
                "--frames",
                str(args.frames),
                "--format",
                args.format,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        wall = time.perf_counter() - t0
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{kind:<12} {wall:>8.2f} {args.frames / r['seconds']:>9.1f} {r['peak_mb']:>8.0f}")


if __name__ == "__main__":
    main()
