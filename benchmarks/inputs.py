"""The input the benchmarks read: the 1000-event NanoAODv5 file in ../shared/data when it is
there, the built-in sample otherwise (a fresh clone without the shared data still runs them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED_INPUT = ROOT.parent / "shared" / "data" / "nanoaod" / "NanoAODv5_sample.root"


def default_input(given: str | None = None) -> str:
    if given is not None:
        return given
    if SHARED_INPUT.exists():
        return str(SHARED_INPUT)
    from ispyrender.sources.sample import sample_path

    return str(sample_path())


def row_in_child(script: str, *args: str) -> dict[str, Any]:
    """Run one row of a benchmark as ``python script *args`` in its own process (so that its
    peak memory is its own) and return the JSON it prints last; a failure stops the table."""
    proc = subprocess.run(
        [sys.executable, script, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def crowded_event(path: Path, candidates: int = 100_000, seed: int = 1) -> Path:
    """A one-event NanoAOD file with ``candidates`` PF candidates: the PFNano file's first
    event's candidates (real pT, eta, charge and id spectra) repeated with fresh azimuths, as
    the stress input for bounded memory. Written once; read by the benchmarks."""
    import awkward as ak
    import numpy as np
    import uproot

    if path.exists():
        return path
    source = ROOT.parent / "shared" / "data" / "nanoaod" / "pfnano.root"
    fields = ["pt", "eta", "phi", "mass", "charge", "pdgId", "d0", "dz"]
    with uproot.open(source) as f:
        tree = f["Events"]
        one = {k: tree[f"PFCands_{k}"].array(entry_stop=1)[0].to_numpy() for k in fields}
        ids = {
            k: tree[k].array(entry_stop=1).to_numpy() for k in ("run", "luminosityBlock", "event")
        }
    rng = np.random.default_rng(seed)
    reps = -(-candidates // len(one["pt"]))
    cands = {k: np.tile(v, reps)[:candidates] for k, v in one.items()}
    cands["phi"] = rng.uniform(-np.pi, np.pi, candidates).astype(np.float32)
    data = {**ids, "PFCands": ak.zip({k: ak.Array([v]) for k, v in cands.items()})}
    with uproot.recreate(path) as out:
        types = {
            k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in data.items()
        }
        out.mktree("Events", types, title="Events")  # a TTree, as NanoAOD's
        out["Events"].extend(data)
    return path
