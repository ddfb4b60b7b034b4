"""Benchmark: seconds per publication figure and peak memory, per size and format.

Each case runs in its own process (so its peak memory is its own) through the figure job
(`ispyrender figure`) with the paper preset's three panels (3D | rho-phi | rho-z) on the real
dimuon file in ../shared/data, and prints a table:

    python benchmarks/bench_figure.py               # 20 figures at 1920x1080, 2 at 7680x4320
    python benchmarks/bench_figure.py --events 40

The first figure of a case includes creating the 3D plotter (about a second); "s/figure" is
the mean over all figures of the case, "first s" the first one alone.
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
DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "nanoaod" / "nano_dimuon.root"

#: (name, canvas width, canvas height, formats, figures as a fraction of --events)
CASES = (
    ("1920x1080 png", 1920, 1080, "png", 1.0),
    ("1920x1080 pdf", 1920, 1080, "pdf", 1.0),
    ("1920x1080 png+svg+pdf+eps", 1920, 1080, "png,svg,pdf,eps", 0.5),
    ("7680x4320 png", 7680, 4320, "png", 0.0),
)


def run_case(width: int, height: int, formats: str, n: int, path: Path) -> dict[str, float]:
    from ispyrender.config.loader import load_style
    from ispyrender.jobs.figure import FigureOptions, figure_events, parse_formats
    from ispyrender.sources.nanoaod import Dataset

    style = load_style("paper", [f"canvas.width={width}", f"canvas.height={height}"])
    times: list[float] = []
    with Dataset([str(path)]) as dataset, tempfile.TemporaryDirectory() as tmp:
        entries = list(range(min(n, dataset.num_entries)))
        options = FigureOptions(out=Path(tmp), formats=parse_formats(formats), overwrite=True)
        last = time.perf_counter()
        start = last

        def tick(result: object) -> None:
            nonlocal last
            now = time.perf_counter()
            times.append(now - last)
            last = now

        figure_events(dataset, entries, style, options, progress=tick)
        seconds = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6 / len(entries)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "figures": len(entries),
        "seconds": seconds,
        "per_figure": seconds / len(entries),
        "first": times[0],
        "peak_mb": peak_mb,
        "mb_per_figure": size_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--big", type=int, default=2, help="figures at 7680x4320")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        width, height, formats, n = json.loads(args.case)
        print(json.dumps(run_case(width, height, formats, n, args.input)))
        return
    rows = []
    for name, width, height, formats, share in CASES:
        n = max(1, round(args.events * share)) if share else args.big
        case = json.dumps([width, height, formats, n])
        out = subprocess.run(
            [sys.executable, __file__, "--case", case, "--input", str(args.input)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append((name, json.loads(out.strip().splitlines()[-1])))
    print(f"paper preset (3D | rho-phi | rho-z), input {args.input.name}")
    print(
        f"{'case':<27} {'figures':>7} {'s/figure':>9} {'first s':>8} {'MB/figure':>9} "
        f"{'peak MB':>8}"
    )
    for name, r in rows:
        print(
            f"{name:<27} {r['figures']:>7} {r['per_figure']:>9.2f} {r['first']:>8.2f} "
            f"{r['mb_per_figure']:>9.2f} {r['peak_mb']:>8.0f}"
        )


if __name__ == "__main__":
    main()
