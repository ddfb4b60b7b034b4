"""One table of collections and one of output formats: everything else reads them, and a new
format is one entry plus its writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ispyrender.config import collections
from ispyrender.config.loader import load_style
from ispyrender.config.style import Collections
from ispyrender.outputs import registry


def write_txt(e):  # type: ignore[no-untyped-def]
    """A format of the test's own: one line per drawn primitive group."""
    lines = [f"{e.physics.run}:{e.physics.event}"] + [
        f"{type(p).__name__} {p.group}" for p in e.scene.primitives
    ]
    return {e.paths[".txt"]: ("\n".join(lines) + "\n").encode()}


@pytest.fixture
def txt_format(monkeypatch: pytest.MonkeyPatch) -> registry.Product:
    product = registry.Product(
        "txt", "event", (".txt",), False, "plain text", f"{__name__}:write_txt"
    )
    monkeypatch.setitem(registry.formats("event"), "txt", product)
    return product


def test_a_new_format_is_one_entry_and_its_writer(txt_format: object, tmp_path: Path) -> None:
    from ispyrender.jobs.batch import BatchOptions, render_batch
    from ispyrender.jobs.render import RenderOptions, render_events
    from ispyrender.sources import open_source

    style = load_style("publication", [])
    assert "txt (plain text)" in registry.format_help("event")
    with open_source(None) as source:
        summary = render_events(
            source, [0, 1, 2], style, RenderOptions(out=tmp_path / "one", format="txt")
        )
        assert len(summary.written) == 3
        batch = render_batch(
            source,
            [0, 1, 2],
            style,
            RenderOptions(out=tmp_path / "batch", format="txt"),
            BatchOptions(jobs=1),
        )
    made = sorted((tmp_path / "one").glob("*.txt"))
    assert len(made) == 3 and made[0].read_text().count("\n") > 2
    assert [p.read_bytes() for p in made] == [
        (tmp_path / "batch" / p.name).read_bytes() for p in made
    ]
    manifest = json.loads((tmp_path / "batch" / "manifest.json").read_text())
    assert sorted(e["output"] for e in manifest["events"]) == [p.name for p in made]
    assert batch.failed == []


def test_the_style_has_a_field_for_every_collection_and_no_other() -> None:
    assert list(Collections.model_fields) != []
    assert set(Collections.model_fields) == {c.key for c in collections.COLLECTIONS}


def test_derived_tables_agree_with_the_collections_table() -> None:
    from ispyrender.jobs.inspect import ISPY_DRAWN
    from ispyrender.outputs.phoenix import PHOENIX_NAMES
    from ispyrender.physics.nanoaod import JET_RADII, TRACK_COLLECTIONS
    from ispyrender.physics.objects import DEFAULT_LABELS, NOUNS
    from ispyrender.scene import event

    keys = [c.key for c in collections.COLLECTIONS]
    assert list(DEFAULT_LABELS) == keys and list(NOUNS) == keys
    assert event._TRACK_ORDER[:2] == ("muons", "electrons")  # leptons are drawn first
    assert set(event._TRACK_ORDER) == {c.key for c in collections.of_kind("track")}
    assert TRACK_COLLECTIONS["muons"] == ("Muon", "muon")
    assert JET_RADII == {
        "jets": ("Jet", 0.4),
        "fatjets": ("FatJet", 0.8),
        "taus": ("Tau", 0.1),
        "genjets": ("GenJet", 0.4),
    }
    assert PHOENIX_NAMES["jets"] == "AK4Jets" and PHOENIX_NAMES["vertices"] == "PrimaryVertices"
    assert ("GsfElectrons", "electrons") in ISPY_DRAWN
    # Every collection has one place in the drawing order.
    assert sorted(c.draw for c in collections.COLLECTIONS) == list(range(len(keys)))


def test_generator_jets_came_in_as_one_entry_drawn_labelled_exported_inspected(
    shared_data: Path, tmp_path: Path
) -> None:
    """Generator jets were added as one table entry and one style field (their colours in the
    two presets aside): a simulated event draws them, its legend counts them, Phoenix and the
    object table read them, and inspect reports the branches they need."""
    import uproot

    from ispyrender import api
    from ispyrender.jobs.inspect import inspect_source
    from ispyrender.sources import open_source

    path = shared_data / "nanoaod" / "nano_dy.root"
    branches = uproot.open(path)["Events"].arrays(
        ["GenJet_pt", "GenJet_eta"], entry_start=0, entry_stop=1, library="np"
    )
    pt, eta = branches["GenJet_pt"][0], branches["GenJet_eta"][0]
    expected = int(((pt >= 20.0) & (abs(eta) <= 6.0)).sum())  # the style's min_pt: 20 GeV
    assert expected > 0

    event = api.open(path)[0]
    style = load_style("publication", ["collections.genjets.show=true"])
    physics, scene = api._physics_and_scene(event, style)
    (genjets,) = [j for j in physics.jets if j.collection == "genjets"]
    assert len(genjets) == expected and genjets.radius == 0.4
    cones = [p for p in scene.primitives if getattr(p, "group", None) == "GenJet"]
    assert len(cones) == 1 and len(cones[0].apex) == expected
    assert ("Generator jets", expected) in [(e.label, e.count) for e in scene.legend]

    exported = api.export(event, tmp_path / "event.json", style)
    (content,) = json.loads(exported.read_text()).values()
    assert len(content["Jets"]["GenJets"]) == expected

    with open_source([str(path)]) as source:
        report = inspect_source(source)
    assert "GenJet" in [c.name for c in report.collections]
    # Collision data has no generator record: nothing to draw, and inspect says why.
    data = shared_data / "nanoaod" / "EGamma_2022E_v13.root"
    with open_source([str(data)]) as source:
        notes = inspect_source(source).missing
    assert "GenJet: absent (collision data has no generator record)" in notes
