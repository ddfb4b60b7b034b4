"""Benchmark: batch throughput of `render --jobs 1`, `--jobs 2` and a Dask LocalCluster.

Each configuration runs in its own process (so that its peak memory is its own) over the
1000-event NanoAODv5 file in ../shared/data (the built-in sample when absent), at two sizes:
thumbnails (320x180) and full HD (1920x1080), the publication style otherwise unchanged.

    python benchmarks/bench_batch.py                  # 120 thumbnails and 40 full-HD pictures
    python benchmarks/bench_batch.py --thumbs 400 --hd 100

"first s" is the time to the first picture written (start-up plus a first chunk of up to
16 events). Two rates are printed: "wall" counts everything from the call to the last file written,
worker start-up included (a fresh interpreter importing pyvista costs ~2 s); "steady" counts
from the first picture written to the last, which is what a long batch converges to. Dask
workers are started (and warmed with one small batch) before the clock starts, as a cluster
would be. Peak memory is ru_maxrss of each worker process (of the only process for --jobs 1).
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

from inputs import default_input

SIZES = {"thumb": (320, 180), "hd": (1920, 1080)}


def run_config(config: str, size: str, n: int, path: str) -> dict[str, object]:
    from ispyrender.config.loader import load_style
    from ispyrender.jobs.batch import BatchOptions, render_batch
    from ispyrender.jobs.render import RenderOptions
    from ispyrender.sources.nanoaod import Dataset

    width, height = SIZES[size]
    style = load_style("publication", [f"canvas.width={width}", f"canvas.height={height}"])
    cluster = None
    if config == "jobs1":
        batch = BatchOptions(jobs=1)
    elif config == "jobs2":
        batch = BatchOptions(jobs=2, lp_threads=1)
    elif config == "jobs2-lpdefault":
        batch = BatchOptions(jobs=2)
    else:
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        # "dask-lp1": one llvmpipe thread per worker, as --jobs N does locally.
        lp = 1 if config == "dask-lp1" else None
        batch = BatchOptions(scheduler=cluster.scheduler_address, lp_threads=lp)
    with Dataset([path]) as dataset, tempfile.TemporaryDirectory() as tmp:
        entries = list(range(min(n, dataset.num_entries)))
        if cluster is not None:  # warm the workers: renderer built, inputs opened
            warm = RenderOptions(out=Path(tmp) / "warm", overwrite=True)
            render_batch(dataset, entries[-4:], style, warm, batch)
        stamps: list[float] = []
        options = RenderOptions(out=Path(tmp) / "out", overwrite=True)
        start = time.perf_counter()
        summary = render_batch(
            dataset, entries, style, options, batch, progress=lambda r: stamps.append(
                time.perf_counter()
            )
        )  # fmt: skip
        wall = time.perf_counter() - start
    if cluster is not None:
        cluster.close()
    assert not summary.failed, summary.failed[:1]
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")
    memory = summary.worker_memory or {0: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    return {
        "config": config,
        "size": size,
        "events": len(entries),
        "wall_rate": len(entries) / wall,
        "steady_rate": steady,
        "first_s": stamps[0] - start,
        "peak_mib": sorted(round(v / 2**20) for v in memory.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default=None)
    parser.add_argument("--thumbs", type=int, default=120)
    parser.add_argument("--hd", type=int, default=40)
    parser.add_argument(
        "--configs", default="jobs1,jobs2,jobs2-lpdefault,dask,dask-lp1", help="comma separated"
    )
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # config size n, internal
    args = parser.parse_args()
    path = default_input(args.input)
    if args.one:
        config, size, n = args.one
        print(json.dumps(run_config(config, size, int(n), path)))
        return
    print(f"input: {path}")
    print(
        f"{'config':<16} {'size':<10} {'events':>6} {'first s':>8} {'wall ev/s':>10} "
        f"{'steady ev/s':>12}  peak MiB"
    )
    for size, n in (("thumb", args.thumbs), ("hd", args.hd)):
        done: dict[str, dict[str, float]] = {}
        for config in args.configs.split(","):
            proc = subprocess.run(
                [sys.executable, __file__, "--input", path, "--one", config, size, str(n)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                print(f"{config:<16} {size:<10} failed: {proc.stderr.strip()[-300:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            done[config] = r
            label = f"{SIZES[size][0]}x{SIZES[size][1]}"
            print(
                f"{r['config']:<16} {label:<10} {r['events']:>6} {r['first_s']:>8.1f} "
                f"{r['wall_rate']:>10.1f} "
                f"{r['steady_rate']:>12.1f}  {r['peak_mib']}"
            )
        if "jobs1" in done and "jobs2" in done:
            one, two = done["jobs1"], done["jobs2"]
            print(
                f"{'':<16} {size:<10} --jobs 2 / --jobs 1: whole batch "
                f"{two['wall_rate'] / one['wall_rate']:.2f}x, "
                f"steady {two['steady_rate'] / one['steady_rate']:.2f}x"
            )


if __name__ == "__main__":
    main()
