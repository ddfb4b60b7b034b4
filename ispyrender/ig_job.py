"""The render job for iSpy (.ig) inputs: the same pictures, names and metadata as for NanoAOD.

.ig files carry their own geometry (track curves, calorimeter cells), so they skip the NanoAOD
reading and physics stages and enter at the scene: ig.py -> ig_scene.py -> render -> outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ispyrender import __version__
from ispyrender.errors import SelectionError
from ispyrender.ig import IgFile
from ispyrender.pipeline import EventResult, RenderOptions, RenderSummary
from ispyrender.style import Style


def is_ig(path: str) -> bool:
    return path.lower().endswith(".ig")


def select_ig(
    events: IgFile,
    entries: Sequence[int | slice] | None,
    ids: Sequence[tuple[int, int | None, int]] | None,
    max_events: int | None,
) -> list[int]:
    n = len(events)
    chosen: set[int] = set()
    if entries:
        bad = []
        for item in entries:
            if isinstance(item, slice):
                chosen.update(range(n)[item])
            elif -n <= item < n:
                chosen.add(item % n)
            else:
                bad.append(item)
        if bad:
            raise SelectionError(
                f"entries out of range: {', '.join(map(str, bad))}; valid entries are 0 to "
                f"{n - 1} ({n} events)"
            )
    if ids:
        known = {(r, e): i for i, (r, _, e) in enumerate(events.ids())}
        missing = [f"{r}:{e}" for r, _, e in ids if (r, e) not in known]
        if missing:
            raise SelectionError(f"event ids not found in the inputs: {', '.join(missing)}")
        chosen.update(known[(r, e)] for r, _, e in ids)
    result = sorted(chosen) if (entries or ids) else list(range(n))
    if max_events is not None:
        result = result[:max_events]
    if not result:
        raise SelectionError("selection matches no events")
    return result


def render_ig(
    events: IgFile,
    selected: Sequence[int],
    style: Style,
    options: RenderOptions,
    *,
    progress: Callable[[EventResult], None] = lambda result: None,
) -> RenderSummary:
    from ispyrender.geometry import build_detector
    from ispyrender.ig_scene import build_ig_scene
    from ispyrender.labels import label_block
    from ispyrender.outputs import (
        check_template,
        encode_png,
        file_name,
        prepare_folder,
        write_bytes_atomic,
    )
    from ispyrender.overlay import draw_labels
    from ispyrender.render import Renderer, check_headless, configure_headless

    if options.format != "png":
        raise SelectionError("iSpy (.ig) inputs render to png only: drop --format")
    configure_headless()
    check_headless()
    template = style.output.name_template
    check_template(template, ".png")
    loaded = {i: events.event(i) for i in selected}
    targets = {}
    for i, ev in loaded.items():
        fields = {
            "run": ev.run,
            "lumi": ev.lumi,
            "event": ev.event,
            "index": i,
            "entry": i,
            "source": ev.source.rsplit("/", 1)[-1].removesuffix(".ig"),
        }
        targets[i] = options.out / file_name(template, fields)
    if not options.overwrite and not options.skip_existing:
        existing = [p for p in targets.values() if p.exists()]
        if existing:
            raise SelectionError(
                f"{existing[0]} already exists: pass --overwrite to replace it or "
                "--skip-existing to keep it"
            )
    prepare_folder(options.out)
    summary = RenderSummary()
    with Renderer(style, build_detector(style.detector), scale=options.scale) as renderer:
        for i, ev in loaded.items():
            target = targets[i]
            if options.skip_existing and target.exists():
                summary.results.append(
                    EventResult(i, ev.run, ev.lumi, ev.event, ev.source, target, skipped=True)
                )
                continue
            scene, physics = build_ig_scene(ev, style)
            image = renderer.draw(scene)
            block = label_block(
                run=ev.run,
                lumi=ev.lumi,
                event=ev.event,
                is_simulation=False,
                legend=scene.legend,
                style=style,
            )
            text = {
                "Software": f"ispyrender {__version__}",
                "ispyrender.run": str(ev.run),
                "ispyrender.lumi": "unknown" if ev.lumi is None else str(ev.lumi),
                "ispyrender.event": str(ev.event),
                "ispyrender.entry": str(i),
                "ispyrender.input": ev.source,
                "ispyrender.style": style.name,
                "ispyrender.style_digest": style.digest(),
                "ispyrender.version": __version__,
            }
            if ev.time:
                text["ispyrender.time"] = str(ev.time)
            write_bytes_atomic(
                target,
                encode_png(draw_labels(image, block, style), text, style.output.png_compression),
            )
            result = EventResult(
                i, ev.run, ev.lumi, ev.event, ev.source, target, dict(physics.counts)
            )
            summary.results.append(result)
            progress(result)
    return summary
