"""The input the benchmarks read: the 1000-event NanoAODv5 file in ../shared/data when it is
there, the built-in sample otherwise (a fresh clone without the shared data still runs them)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_INPUT = ROOT.parent / "shared" / "data" / "nanoaod" / "NanoAODv5_sample.root"


def default_input(given: str | None = None) -> str:
    if given is not None:
        return given
    if SHARED_INPUT.exists():
        return str(SHARED_INPUT)
    from ispyrender.sources.sample import sample_path

    return str(sample_path())
