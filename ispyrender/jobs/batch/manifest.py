"""manifest.json: every event of a batch (ids, input, file, counts, masses, error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ispyrender import __version__
from ispyrender.config.style import Style

MANIFEST_NAME = "manifest.json"


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
) -> None:
    from ispyrender.outputs.files import write_bytes_atomic

    events = [{k: v for k, v in r.items() if k not in ("written", "skipped")} for r in records]
    # Resume: events of the earlier run that this one did not select stay listed.
    mine = {e["output"] for e in events}
    earlier = [
        e for e in old.get("events", []) if isinstance(e, dict) and e.get("output") not in mine
    ]
    manifest = {
        "version": __version__,
        "style": {"name": style.name, "digest": style.digest()},
        "inputs": list(dict.fromkeys([*old.get("inputs", []), *inputs])),
        "failed_inputs": failed_inputs,
        "events": sorted(
            [*earlier, *events], key=lambda e: (str(e.get("input", "")), e.get("entry", -1))
        ),
    }
    write_bytes_atomic(path, (json.dumps(manifest, indent=1) + "\n").encode())
