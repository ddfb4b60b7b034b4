"""Benchmark: events per second and peak memory for 1920x1080 anti-aliased 3D PNGs.

Runs each mode in its own process (so peak memory is that mode's alone) over the 1000-event
NanoAODv5 file in ../shared/data, and prints a table:

    python benchmarks/bench_render.py                 # 200 events reused, 20 with a fresh plotter
    python benchmarks/bench_render.py --events 1000   # the whole file

"reused" is what `ispyrender render` does: one plotter and one detector per process.
"fresh plotter" builds a new pyvista Plotter (and detector) for every event, for comparison.
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

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "nanoaod" / "NanoAODv5_sample.root"


def run_mode(mode: str, n: int, path: Path, style_name: str, aa: str) -> dict[str, float]:
    from ispyrender.config.loader import load_style
    from ispyrender.jobs.render import RenderOptions, render_events
    from ispyrender.sources.nanoaod import Dataset

    style = load_style(
        style_name, [f"canvas.anti_aliasing={aa}", "canvas.width=1920", "canvas.height=1080"]
    )
    with Dataset([str(path)]) as dataset, tempfile.TemporaryDirectory() as tmp:
        entries = list(range(min(n, dataset.num_entries)))
        options = RenderOptions(out=Path(tmp), overwrite=True)
        start = time.perf_counter()
        if mode == "reused":
            render_events(dataset, entries, style, options)
        else:
            for e in entries:
                render_events(dataset, [e], style, options)
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "events": len(entries),
        "seconds": seconds,
        "rate": len(entries) / seconds,
        "peak_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--fresh-events", type=int, default=20)
    parser.add_argument("--style", default="publication")
    parser.add_argument("--aa", default="msaa", choices=["none", "msaa", "ssaa"])
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("-n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.n, args.input, args.style, args.aa)))
        return
    rows = []
    for mode, n in (("reused", args.events), ("fresh plotter", args.fresh_events)):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--mode",
                mode,
                "-n",
                str(n),
                "--input",
                str(args.input),
                "--style",
                args.style,
                "--aa",
                args.aa,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append((mode, json.loads(out.strip().splitlines()[-1])))
    print(f"1920x1080 PNG, anti-aliasing {args.aa}, style {args.style}, input {args.input.name}")
    print(f"{'mode':<15} {'events':>6} {'seconds':>8} {'events/s':>9} {'peak MB':>8}")
    for mode, r in rows:
        print(
            f"{mode:<15} {r['events']:>6} {r['seconds']:>8.2f} {r['rate']:>9.2f} "
            f"{r['peak_mb']:>8.0f}"
        )
    print(f"speed-up of reusing the plotter: {rows[0][1]['rate'] / rows[1][1]['rate']:.1f}x")


if __name__ == "__main__":
    main()
