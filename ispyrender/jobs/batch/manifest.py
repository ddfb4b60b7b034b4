"""manifest.json: every event of a batch (ids, input, file, counts, masses, error).

Each PNG of a batch also carries its own record's counts and masses in a text chunk
(``ispyrender.record``), so that a resumed run (``--skip-existing``) lists the events it finds
already made exactly as the run that made them did, even when that run was killed before it
could write its manifest. The manifest's keys are sorted: the same batch gives the same bytes,
interrupted and resumed or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ispyrender import __version__
from ispyrender.config.style import Style
from ispyrender.outputs import jsontext

MANIFEST_NAME = "manifest.json"
#: The PNG text chunk that holds an event's counts and masses.
RECORD_KEY = "ispyrender.record"


def record_text(record: dict[str, Any]) -> dict[str, str]:
    """The text chunk of ``record``'s ids, counts and masses, for its PNG (the ids as the
    reader gave them: a file's own lumi even where another input of the run has none)."""
    kept = {k: record[k] for k in ("run", "lumi", "event", "counts", "masses") if k in record}
    return {RECORD_KEY: jsontext.dumps(kept, sort_keys=True, separators=(",", ":"))}


def record_from_png(path: Path) -> dict[str, Any]:
    """The ids, counts and masses a batch wrote into the PNG at ``path`` ({} when none)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            text = getattr(image, "text", {}).get(RECORD_KEY)
        data = json.loads(text) if text else {}
    except (OSError, ValueError, SyntaxError):  # not a PNG of ours, or damaged: render it anew
        return {}
    return data if isinstance(data, dict) else {}


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_manifest(
    path: Path,
    inputs: tuple[str, ...],
    style: Style,
    records: list[dict[str, Any]],
    failed_inputs: list[dict[str, Any]],
    old: dict[str, Any],
    interrupted: bool = False,
    output_format: str = "png",
) -> None:
    """Write the manifest; ``interrupted`` marks one written as the batch stops half-way
    (it lists what was done; a resumed run writes the whole one).

    A folder's manifest accumulates: the records of ``old`` (the manifest already there) whose
    files are still in the folder stay listed, a record of this run replacing the earlier one
    of the same file; ``runs`` lists each run (inputs, style, format) once, and each record
    says by its ``made_by`` which of them made it (``run`` is the event's run number).
    Running the same batch again, or resuming it, adds no run: the same batch gives the same
    bytes."""
    from ispyrender.outputs.files import write_bytes_atomic

    this_run = {
        "inputs": list(inputs),
        "style": {"name": style.name, "digest": style.digest()},
        "format": output_format,
    }
    runs = [r for r in old.get("runs", []) if isinstance(r, dict)]
    if this_run not in runs:
        runs.append(this_run)
    number = runs.index(this_run)
    # A record kept from an earlier run (--skip-existing) keeps the run that made it.
    events = [
        {
            **{k: v for k, v in r.items() if k not in ("written", "skipped")},
            "made_by": (
                r["made_by"] if r.get("skipped") and isinstance(r.get("made_by"), int) else number
            ),
        }
        for r in records
    ]
    mine = {e["output"] for e in events}
    # Records of earlier runs: kept while their file is there (a file removed since, by hand
    # or by an --overwrite run that now names it otherwise, is no longer listed).
    earlier = [
        e
        for e in old.get("events", [])
        if isinstance(e, dict)
        and e.get("output") not in mine
        and isinstance(e.get("output"), str)
        and (path.parent / e["output"]).is_file()
    ]
    manifest: dict[str, Any] = {
        "version": __version__,
        "style": this_run["style"],
        "inputs": list(dict.fromkeys([*old.get("inputs", []), *inputs])),
        "runs": runs,
        "failed_inputs": failed_inputs,
        "events": sorted(
            [*earlier, *events], key=lambda e: (str(e.get("input", "")), e.get("entry", -1))
        ),
    }
    if interrupted:
        manifest["interrupted"] = True
    write_bytes_atomic(path, (jsontext.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
