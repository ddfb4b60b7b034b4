"""Batch rendering of many events: worker processes, a Dask cluster, failures and a manifest.

The batch differs from :func:`ispyrender.jobs.render.render_events` in three policies:

* the work can run in N local worker processes (``--jobs``) or on a Dask cluster
  (``--scheduler``). Workers open the inputs themselves (same paths or URLs), keep one renderer
  per process for all their events, and send back encoded PNG bytes with the event's metadata;
  only the parent process writes files, each one atomically, so no shared file system is
  needed and an interrupted run leaves nothing behind (:mod:`.worker`, :mod:`.parent`);
* one failing event, or one unreadable input, does not stop the others: it is listed in the
  summary and the manifest, and the command ends with exit code 1;
* ``manifest.json`` in the output folder records every event (ids, input, file, object counts,
  invariant masses, error) for tools such as the gallery (:mod:`.manifest`).

Every source works: NanoAOD and iSpy files alike.
"""

from ispyrender.jobs.batch.manifest import MANIFEST_NAME
from ispyrender.jobs.batch.parent import (
    BatchError,
    BatchOptions,
    BatchSummary,
    open_inputs,
    render_batch,
)
from ispyrender.jobs.batch.worker import render_chunk

__all__ = [
    "MANIFEST_NAME",
    "BatchError",
    "BatchOptions",
    "BatchSummary",
    "open_inputs",
    "render_batch",
    "render_chunk",
]
