"""The render job: reading -> selection -> objects -> scene -> render -> outputs, per event.

This module wires the stages together and owns the policies a batch needs: check everything
that can be checked before the first picture (output folder, names, existing files), warn once
per missing branch, and write each file atomically.
"""

from __future__ import annotations

import bisect
import concurrent.futures
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ispyrender import __version__
from ispyrender.errors import OutputError
from ispyrender.reading import Dataset, EventRecord
from ispyrender.style import Style

Format = Literal["png", "phoenix", "glb", "obj", "html"]
SUFFIX = {"png": ".png", "phoenix": ".json", "glb": ".glb", "obj": ".obj", "html": ".html"}


@dataclass
class RenderOptions:
    out: Path
    format: Format = "png"
    overwrite: bool = False
    skip_existing: bool = False
    scale: float = 1.0


@dataclass
class EventResult:
    index: int
    run: int
    lumi: int | None
    event: int
    source: str
    path: Path | None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: bool = False


@dataclass
class RenderSummary:
    results: list[EventResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[EventResult]:
        return [r for r in self.results if not r.skipped]


def _fields(index: int, run: int, lumi: int | None, event: int, source: str, entry: int) -> dict:
    return {
        "run": run,
        "lumi": lumi,
        "event": event,
        "index": index,
        "entry": entry,
        "source": Path(source).stem if "://" not in source else source.rsplit("/", 1)[-1],
    }


def plan_targets(
    dataset: Dataset, entries: Sequence[int], style: Style, options: RenderOptions
) -> dict[int, Path]:
    """Output path of every selected event, checked for clashes and existing files up front,
    so that a bad name fails before anything is written."""
    from ispyrender.outputs import check_template, file_name

    suffix = SUFFIX[options.format]
    template = style.output.name_template
    check_template(template, ".png")
    runs, lumis, events = dataset.event_ids()
    offsets = [0]
    for info in dataset.inputs:
        offsets.append(offsets[-1] + info.num_entries)
    targets: dict[int, Path] = {}
    seen: dict[Path, int] = {}
    for idx in entries:
        file_no = bisect.bisect_right(offsets, idx) - 1
        source = dataset.inputs[file_no].path
        lumi = None if lumis is None else int(lumis[idx])
        fields = _fields(
            idx, int(runs[idx]), lumi, int(events[idx]), source, idx - offsets[file_no]
        )
        path = options.out / file_name(template, fields, suffix)
        if path in seen:
            raise OutputError(
                f"entries {seen[path]} and {idx} would both be written to {path.name}: "
                "add {index} to output.name_template (--set output.name_template="
                "'{run}_{lumi}_{event}_{index}.png')"
            )
        seen[path] = idx
        targets[idx] = path
    if not options.overwrite and not options.skip_existing:
        existing = [p for p in targets.values() if p.exists()]
        if existing:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise OutputError(
                f"{existing[0]}{more} already exist: pass --overwrite to replace them "
                "or --skip-existing to keep them and render the rest"
            )
    return targets


def png_text(record: EventRecord, style: Style) -> dict[str, str]:
    return {
        "Software": f"ispyrender {__version__}",
        "ispyrender.run": str(record.run),
        "ispyrender.lumi": "unknown" if record.lumi is None else str(record.lumi),
        "ispyrender.event": str(record.event),
        "ispyrender.entry": str(record.entry),
        "ispyrender.input": record.source,
        "ispyrender.style": style.name,
        "ispyrender.style_digest": style.digest(),
        "ispyrender.version": __version__,
    }


def render_events(
    dataset: Dataset,
    entries: Sequence[int],
    style: Style,
    options: RenderOptions,
    *,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[EventResult], None] = lambda result: None,
) -> RenderSummary:
    """Render the selected entries of ``dataset`` into ``options.out``."""
    from ispyrender.event_scene import build_scene
    from ispyrender.objects import branch_plan, build_event
    from ispyrender.outputs import prepare_folder, write_bytes_atomic

    summary = RenderSummary()
    if options.format == "png":
        from ispyrender.render import check_headless, configure_headless

        # Before the output folder is made: a machine without EGL should leave nothing behind.
        configure_headless()
        check_headless()
    # Names first (a bad template must not leave an empty folder behind), then the folder.
    targets = plan_targets(dataset, entries, style, options)
    prepare_folder(options.out)
    plan = branch_plan(style, dataset.available_branches())
    for message in plan.warnings:
        summary.warnings.append(message)
        warn(message)

    todo = [e for e in entries if not (options.skip_existing and targets[e].exists())]
    skipped = set(entries) - set(todo)
    nan_skipped: Counter[str] = Counter()

    renderer = None
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    pending: list[concurrent.futures.Future[None]] = []
    try:
        if options.format == "png" and todo:
            from ispyrender.geometry import build_detector
            from ispyrender.render import Renderer

            renderer = Renderer(style, build_detector(style.detector), scale=options.scale)
        detector: list = []
        if options.format in ("glb", "obj", "html"):
            from ispyrender.geometry import build_detector

            detector = build_detector(style.detector)
        for record in dataset.iter_events(todo, plan.branches):
            physics = build_event(record, style, plan)
            nan_skipped.update(physics.skipped_nan)
            scene = build_scene(physics, style)
            target = targets[record.index]
            if renderer is not None:
                data = _png_job(renderer, scene, record, style)
            elif options.format in ("glb", "obj", "html"):
                from ispyrender.export3d import glb_bytes, named_meshes, obj_bytes

                meshes = named_meshes(detector, scene)
                if options.format == "glb":
                    data = glb_bytes(meshes)
                elif options.format == "html":
                    data = _html_job(glb_bytes(meshes), scene, record, style)
                else:
                    mtl = target.with_suffix(".mtl")
                    obj, mtl_text = obj_bytes(meshes, mtl.name)
                    data = {target: obj, mtl: mtl_text}
            else:
                from ispyrender.phoenix import phoenix_event

                data = phoenix_event(physics, scene, style)
            # Encoding and writing run in a thread while the next event renders: PNG
            # compression releases the GIL.
            pending.append(pool.submit(_finish, data, target, write_bytes_atomic, style))
            while len(pending) > 2:
                pending.pop(0).result()
            result = EventResult(
                record.index,
                record.run,
                record.lumi,
                record.event,
                record.source,
                target,
                dict(physics.counts),
            )
            summary.results.append(result)
            progress(result)
        for fut in pending:
            fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if renderer is not None:
            renderer.close()
    for idx in sorted(skipped):
        summary.results.append(EventResult(idx, 0, None, 0, "", targets[idx], skipped=True))
    for collection, count in sorted(nan_skipped.items()):
        if count:
            message = f"skipped {count} {collection} object(s) with NaN values"
            summary.warnings.append(message)
            warn(message)
    return summary


def record_labels(record: EventRecord, scene, style: Style):  # type: ignore[no-untyped-def]
    """The label block of one NanoAOD event: the same for PNGs, pages and movies."""
    from ispyrender.labels import label_block

    return label_block(
        run=record.run,
        lumi=record.lumi,
        event=record.event,
        is_simulation=record.is_simulation,
        legend=scene.legend,
        style=style,
    )


def _png_job(renderer, scene, record: EventRecord, style: Style):  # type: ignore[no-untyped-def]
    from ispyrender.overlay import draw_labels

    image = renderer.draw(scene)
    return (draw_labels(image, record_labels(record, scene, style), style), png_text(record, style))


def _html_job(glb: bytes, scene, record: EventRecord, style: Style) -> bytes:  # type: ignore[no-untyped-def]
    from ispyrender.webpage import event_page

    return event_page(glb, record_labels(record, scene, style), style)


def _finish(data, target: Path, write, style: Style) -> None:  # type: ignore[no-untyped-def]
    from ispyrender.outputs import encode_png

    if isinstance(data, bytes):
        write(target, data)
    elif isinstance(data, dict):  # several files, e.g. an OBJ and its MTL
        for path, blob in data.items():
            write(path, blob)
    else:
        image, text = data
        write(target, encode_png(image, text, style.output.png_compression))
