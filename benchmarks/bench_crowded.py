"""Bounded memory whatever the event: one event of 100,000 PF candidates (every one drawn,
collections.pfcands.min_pt=0) in each output, as whole processes: seconds, peak memory (the
process's maximum resident set) and file size, side by side with the floor (reading the event
and building its scene, nothing drawn) and a naive pyvista script (one PolyData of straight
1 m lines, one per candidate, a 1080p screenshot). Targets: every output under 2 GB and 2 min.

    .venv/bin/python benchmarks/bench_crowded.py [--runs 3]

The event is written once by ``inputs.crowded_event`` (the PFNano file's first event's
candidates repeated with fresh azimuths) into the system's temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inputs import crowded_event

ALL = ["--set", "collections.pfcands.min_pt=0", "-q", "--overwrite"]

FLOOR = """
import sys
from ispyrender.config.loader import load_style
from ispyrender.physics import EventBuilder
from ispyrender.scene.event import build_scene
from ispyrender.sources import open_source
style = load_style("publication", ["collections.pfcands.min_pt=0"])
with open_source([sys.argv[1]]) as source:
    event = next(iter(EventBuilder(source, style).events([0])))
build_scene(event, style)
"""

NAIVE = """
import sys
import numpy as np
import pyvista as pv
import uproot
tree = uproot.open(sys.argv[1])["Events"]
eta = tree["PFCands_eta"].array()[0].to_numpy()
phi = tree["PFCands_phi"].array()[0].to_numpy()
theta = 2 * np.arctan(np.exp(-eta))
ends = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], 1)
points = np.vstack([np.zeros((1, 3)), ends])
n = len(ends)
lines = np.column_stack([np.full(n, 2), np.zeros(n, int), np.arange(1, n + 1)])
plotter = pv.Plotter(off_screen=True, window_size=(1920, 1080))
plotter.add_mesh(pv.PolyData(points, lines=lines.ravel()), color="grey")
plotter.screenshot(sys.argv[2])
plotter.close()
"""


def measure(command: list[str], out: Path) -> tuple[float, float, float]:
    """Seconds, peak resident MB of the process, and MB written under ``out``."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
    written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) if out.exists() else 0
    return seconds, usage.ru_maxrss / 1024, written / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ispyrender-crowded-"))
    event = str(crowded_event(Path(tempfile.gettempdir()) / "ispyrender-crowded-100k.root"))
    cli = [sys.executable, "-m", "ispyrender"]
    cases = {
        "floor": [sys.executable, "-c", FLOOR, event],
        "naive": [sys.executable, "-c", NAIVE, event, str(work / "naive" / "n.png")],
        "png": [*cli, "render", event, "-o", str(work / "png"), *ALL],
        "glb": [*cli, "render", event, "-f", "glb", "-o", str(work / "glb"), *ALL],
        "html": [*cli, "render", event, "-f", "html", "-o", str(work / "html"), *ALL],
        "movie": [
            *cli, "animate", event, "--kind", "collision", "--frames", "24",
            "--set", "animation.width=320", "--set", "animation.height=180",
            "-o", str(work / "movie"), *ALL,
        ],
    }  # fmt: skip
    names = {
        "floor": "floor: read + scene, no drawing",
        "naive": "naive pyvista PNG (1 m lines)",
        "png": "PNG 1920x1080",
        "glb": "GLB",
        "html": "HTML (3D page)",
        "movie": "collision movie, 24 f 320x180",
    }
    (work / "naive").mkdir()
    print(f"{'case':32s} {'seconds':>8s} {'peak MB':>8s} {'file MB':>8s}   (median of {args.runs})")
    for key, command in cases.items():
        name, out = names[key], work / key
        runs = [measure(command, out) for _ in range(args.runs)]
        seconds, peak, size = (statistics.median(r[i] for r in runs) for i in range(3))
        over = "  OVER 2 GB" if peak > 2048 else ("  OVER 2 min" if seconds > 120 else "")
        print(f"{name:32s} {seconds:8.1f} {peak:8.0f} {size:8.1f}{over}")


if __name__ == "__main__":
    main()
