"""Style loading: presets, inheritance, --set overrides and one-line error messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ispyrender.config.loader import PRESETS, list_presets, load_style, style_from_data
from ispyrender.config.messages import StyleErrors
from ispyrender.config.style import Style
from ispyrender.errors import StyleError


def write(tmp_path: Path, text: str, name: str = "my.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def error_of(name_or_path: str | None, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(StyleError) as info:
        load_style(name_or_path, overrides)
    message = str(info.value)
    # Every message is one line: the CLI prints it as is.
    assert "\n" not in message
    assert message.startswith("style error")
    return message


# ---- presets -------------------------------------------------------------------------------


def test_presets_are_listed() -> None:
    names = list_presets()
    assert {"publication", "outreach", "transverse"} <= set(names)
    assert names == sorted(names)
    assert tuple(names) == PRESETS


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_loads(name: str) -> None:
    style = load_style(name)
    assert isinstance(style, Style)
    assert style.name == name


def test_default_is_publication() -> None:
    style = load_style()
    assert style.name == "publication"
    assert style == load_style("publication")


def test_publication_and_outreach_look_as_promised() -> None:
    pub = load_style("publication")
    out = load_style("outreach")
    assert pub.canvas.background == "white"
    # A paper's figure of collision data says "CMS" alone; simulation says so whatever the style.
    assert pub.labels.data_text == "" and pub.labels.simulation_text == "Simulation"
    assert pub.collections.muons.color == "#bd1f01"  # Petroff's red
    # iSpy's look: yellow tracks, red muons, orange DT and olive CSC chambers.
    assert out.collections.tracks.color == out.collections.isotracks.color == "#ffff00"
    assert out.collections.muons.color == "#ff2d2d"
    assert out.detector.muon_barrel.edge_color == "#a65300"
    assert out.detector.muon_endcap.edge_color == "#6b7d12"
    assert out.canvas.background == "#0b0f1a"
    assert out.labels.color == "white"
    assert out.canvas.anti_aliasing == "fxaa"
    # outreach inherits what it does not change
    assert out.canvas.width == pub.canvas.width
    assert out.labels.simulation_text == pub.labels.simulation_text


def test_preset_inheritance() -> None:
    pub = load_style("publication")
    tv = load_style("transverse")
    assert tv.camera.preset == "transverse"
    assert tv.camera.projection == "parallel"
    # Its collections are publication's, but for the endcaps' hits and chambers: seen along
    # the beam they would lie across the barrel.
    hits = ("ecal_hits", "hcal_hits", "hf_hits", "muon_chambers")
    for key in type(pub.collections).model_fields:
        mine, theirs = getattr(tv.collections, key), getattr(pub.collections, key)
        if key in hits:
            assert not mine.endcaps and mine == theirs.model_copy(update={"endcaps": False})
        else:
            assert mine == theirs
    # The transverse preset changes only what a view along the beam needs.
    assert tv.detector.cutaway is None and not tv.detector.muon_endcap.show
    assert tv.detector.muon_barrel == pub.detector.muon_barrel
    assert tv.canvas == pub.canvas


# ---- user files ----------------------------------------------------------------------------


def test_user_file_defaults_to_publication_base(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  width: 800\n", "small.yaml")
    style = load_style(path)
    pub = load_style("publication")
    assert style.name == "small"
    assert style.canvas.width == 800
    assert style.canvas.height == pub.canvas.height
    assert style.labels == pub.labels


def test_user_file_with_preset_base(tmp_path: Path) -> None:
    path = write(tmp_path, "base: outreach\ncollections:\n  jets:\n    show: false\n")
    style = load_style(path)
    assert style.name == "my"
    assert style.canvas.background == "#0b0f1a"
    assert style.collections.jets.show is False
    assert style.collections.jets.color == load_style("outreach").collections.jets.color


def test_user_file_with_file_base_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path, "base: transverse\ncanvas:\n  width: 640\n", "sub/parent.yaml")
    path = write(tmp_path, "base: parent.yaml\ncanvas:\n  height: 480\n", "sub/child.yaml")
    style = load_style(path)
    assert (style.canvas.width, style.canvas.height) == (640, 480)
    assert style.camera.preset == "transverse"
    assert style.name == "child"


def test_base_null_starts_from_model_defaults(tmp_path: Path) -> None:
    style = load_style(write(tmp_path, "base: null\n"))
    assert style.model_dump(exclude={"name"}) == Style().model_dump(exclude={"name"})


def test_empty_file_is_valid(tmp_path: Path) -> None:
    style = load_style(write(tmp_path, "", "empty.yaml"))
    assert style.name == "empty"
    assert style.digest() == load_style("publication").digest()
    assert load_style(write(tmp_path, "# only a comment\n", "c.yaml")).name == "c"


def test_file_may_name_itself(tmp_path: Path) -> None:
    assert load_style(write(tmp_path, "name: poster\n")).name == "poster"


# ---- overrides -----------------------------------------------------------------------------


def test_override_number() -> None:
    assert load_style(None, ["canvas.width=800"]).canvas.width == 800


def test_override_bool() -> None:
    assert load_style("outreach", ["collections.jets.show=false"]).collections.jets.show is False


@pytest.mark.parametrize("value", ["'#000000'", "#000000", '"#000000"'])
def test_override_hex_color(value: str) -> None:
    # Unquoted, YAML would read '#...' as a comment; it must still be the color.
    style = load_style(None, [f"canvas.background={value}"])
    assert style.canvas.background == "#000000"


def test_override_text_null_empty_and_mapping() -> None:
    style = load_style(
        None,
        [
            "labels.data_text=CMS Open Data: 2016",
            "collections.jets.max_count=3",
            "collections.jets.max_count=null",
            "labels.simulation_text=",
            "collections.muons={color: blue, line_width: 5}",
        ],
    )
    assert style.labels.data_text == "CMS Open Data: 2016"
    assert style.collections.jets.max_count is None
    assert style.labels.simulation_text == ""
    assert style.collections.muons.color == "blue"
    assert style.collections.muons.line_width == 5
    # a mapping override merges: untouched keys keep the preset's values
    assert style.collections.muons.min_pt == load_style().collections.muons.min_pt


def test_override_applies_after_file(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  width: 800\n")
    assert load_style(path, ["canvas.width=900"]).canvas.width == 900


def test_override_can_fix_a_file_error(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  width: 0\n")
    assert load_style(path, ["canvas.width=100"]).canvas.width == 100


def test_override_without_equals() -> None:
    msg = error_of(None, ("canvas.width",))
    assert msg == (
        "style error in --set canvas.width: expected path.to.key=value, e.g. canvas.width=800"
    )


def test_override_unknown_nested_key_lists_valid_keys() -> None:
    msg = error_of(None, ("canvas.widht=5",))
    assert msg.startswith("style error in --set canvas.widht=5: canvas.widht: unknown key")
    assert "did you mean 'width'?" in msg
    assert "allowed: width, height, background, transparent, anti_aliasing" in msg


def test_override_unknown_section() -> None:
    msg = error_of(None, ("colections.jets.show=false",))
    assert "colections: unknown key (did you mean 'collections'?)" in msg
    assert "allowed: name, canvas, camera, labels, collections, energy_scale, cleaning," in msg


def test_override_into_a_setting() -> None:
    msg = error_of(None, ("canvas.width.max=3",))
    assert msg == (
        "style error in --set canvas.width.max=3: canvas.width is a setting, not a section: "
        "use --set canvas.width=VALUE"
    )


def test_override_out_of_range() -> None:
    msg = error_of(None, ("canvas.width=0",))
    assert msg == (
        "style error in --set canvas.width=0: canvas.width = 0: "
        "must be at least 16 (allowed 16..7680)"
    )


# ---- validation errors in files: key path, line, allowed values ----------------------------


def test_range_error_names_line_and_range(tmp_path: Path) -> None:
    path = write(tmp_path, "# my style\n\ncanvas:\n  width: 0\n  height: 600\n")
    assert error_of(path) == (
        f"style error in {path} line 4: canvas.width = 0: must be at least 16 (allowed 16..7680)"
    )


def test_range_error_above_maximum(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  height: 5000\n")
    assert error_of(path) == (
        f"style error in {path} line 2: canvas.height = 5000: "
        "must be at most 4320 (allowed 16..4320)"
    )


def test_exclusive_and_open_ranges(tmp_path: Path) -> None:
    path = write(tmp_path, "camera:\n  zoom: 0\n")
    assert error_of(path).endswith(
        "line 2: camera.zoom = 0: must be greater than 0 (allowed: above 0 up to 50)"
    )
    path = write(tmp_path, "collections:\n  jets:\n    min_pt: -1\n")
    assert error_of(path).endswith(
        "line 3: collections.jets.min_pt = -1: must be at least 0 (allowed: 0 or more)"
    )


def test_optional_field_range(tmp_path: Path) -> None:
    path = write(tmp_path, "collections:\n  jets:\n    cone_radius: 3\n")
    assert error_of(path).endswith(
        "line 3: collections.jets.cone_radius = 3: must be at most 1.5 (allowed: above 0 up to 1.5)"
    )


def test_unknown_key_with_suggestion(tmp_path: Path) -> None:
    text = "canvas:\n  width: 800\n\n\n\ncollections:\n  muonz:\n    color: red\n"
    path = write(tmp_path, text)
    msg = error_of(path)
    assert msg.startswith(f"style error in {path} line 7: collections.muonz: unknown key")
    assert "(did you mean 'muons'?)" in msg
    assert "allowed: muons, electrons, isotracks, pfcands" in msg
    assert "more error" not in msg


def test_unknown_key_without_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, "labels:\n  zzzzzz: 1\n")
    msg = error_of(path)
    assert "line 2: labels.zzzzzz: unknown key; allowed: show, experiment," in msg
    assert "did you mean" not in msg


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "canvass:\n  width: 800\n")
    msg = error_of(path)
    assert "line 1: canvass: unknown key (did you mean 'canvas'?)" in msg
    allowed = (
        "name, canvas, camera, labels, collections, energy_scale, cleaning, detector, output, "
        "animation, figure, base"
    )
    assert f"allowed: {allowed}" in msg


def test_bad_color(tmp_path: Path) -> None:
    path = write(tmp_path, "collections:\n  jets:\n    color: blu\n")
    assert error_of(path) == (
        f"style error in {path} line 3: collections.jets.color: 'blu' is not a color: "
        "use a name such as 'red' or 'tab:blue', or a hex code such as '#1f77b4'"
    )


def test_misspelled_color_key_suggests_color(tmp_path: Path) -> None:
    path = write(tmp_path, "labels:\n  colour: red\n")
    msg = error_of(path)
    assert "line 2: labels.colour: unknown key (did you mean 'color'?)" in msg


def test_bad_color_override() -> None:
    msg = error_of(None, ("canvas.background=#12345",))
    assert msg.startswith("style error in --set canvas.background=#12345: canvas.background: ")
    assert "'#12345' is not a color" in msg


def test_literal_lists_choices(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  anti_aliasing: msa\n")
    assert error_of(path) == (
        f"style error in {path} line 2: canvas.anti_aliasing = 'msa': "
        "must be one of 'none', 'fxaa', 'msaa', 'ssaa' (did you mean 'msaa'?)"
    )


def test_literal_detector_representation(tmp_path: Path) -> None:
    path = write(tmp_path, "detector:\n  tracker:\n    representation: points\n")
    msg = error_of(path)
    assert "line 3: detector.tracker.representation = 'points': " in msg
    assert "must be one of 'surface', 'wireframe'" in msg


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("canvas:\n  width: abc\n", "canvas.width: expected a whole number, got 'abc'"),
        ("canvas:\n  width: 800.5\n", "canvas.width: expected a whole number, got 800.5"),
        ("camera:\n  zoom: big\n", "camera.zoom: expected a number, got 'big'"),
        ("camera:\n  azimuth: left\n", "camera.azimuth: expected a number, got 'left'"),
        ("canvas:\n  transparent: maybe\n", "canvas.transparent: expected true or false"),
        ("labels:\n  experiment: 3\n", "labels.experiment: expected text"),
    ],
)
def test_wrong_types(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = write(tmp_path, yaml_text)
    msg = error_of(path)
    assert msg.startswith(f"style error in {path} line 2: {expected}")


def test_number_type_error_shows_range(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  width: abc\n")
    assert error_of(path).endswith("got 'abc' (allowed 16..7680)")


def test_section_given_a_value(tmp_path: Path) -> None:
    path = write(tmp_path, "labels: {}\ncanvas: 5\n")
    msg = error_of(path)
    assert msg.startswith(f"style error in {path} line 2: canvas: expected a section of keys")
    assert "(width, height, background, transparent, anti_aliasing), got 5" in msg


def errors_of(name_or_path: str | None, overrides: tuple[str, ...] = ()) -> list[str]:
    """The lines of a StyleErrors: the count, then one mistake a line."""
    with pytest.raises(StyleErrors) as info:
        load_style(name_or_path, overrides)
    assert isinstance(info.value, StyleError)  # the CLI's one handler reports it
    return str(info.value).splitlines()


def test_several_errors_are_all_reported_by_line(tmp_path: Path) -> None:
    text = "canvas:\n  height: 2\nlabels:\n  color: blu\ncamera:\n  preset: side\n"
    path = write(tmp_path, text)
    lines = errors_of(path)
    assert lines[0] == "3 style errors:"
    assert lines[1].startswith(f"  {path} line 2: canvas.height = 2: must be at least 16")
    assert lines[2].startswith(f"  {path} line 4: labels.color: ")
    assert lines[3].startswith(f"  {path} line 6: camera.preset = 'side': must be one of")
    assert "more error" not in "\n".join(lines)
    two = write(tmp_path, "canvas:\n  height: 2\n  width: 3\n", "two.yaml")
    assert [line.split(":")[0] for line in errors_of(two)] == [
        "2 style errors",
        f"  {two} line 2",
        f"  {two} line 3",
    ]


def test_file_errors_come_before_override_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "\n\ncanvas:\n  height: 2\n")
    lines = errors_of(path, ("canvas.width=1", "canvas.widht=5"))
    assert lines[0] == "3 style errors:"
    assert lines[1].startswith(f"  {path} line 4: canvas.height = 2")
    # Overrides in the order given, each named as typed; an unknown key does not stop the rest.
    assert lines[2].startswith("  --set canvas.width=1: canvas.width = 1: must be at least 16")
    assert lines[3].startswith("  --set canvas.widht=5: canvas.widht: unknown key")


def test_base_file_errors_come_before_the_child_file(tmp_path: Path) -> None:
    base = write(tmp_path, "\n\n\n\ncanvas:\n  width: 3\n", "base.yaml")
    child = write(tmp_path, "base: base.yaml\nlabels:\n  font_scale: 0\n", "child.yaml")
    lines = errors_of(child)
    assert lines[1].startswith(f"  {base} line 6: canvas.width = 3")
    assert lines[2].startswith(f"  {child} line 3: labels.font_scale = 0")


def test_duplicate_key_is_reported_with_the_other_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  width: 800\n  width: 900\nlabels:\n  show: maybe\n")
    lines = errors_of(path)
    assert lines[1].startswith(f"  {path} line 3: canvas.width: duplicate key")
    assert lines[2].startswith(f"  {path} line 5: labels.show: expected true or false")


def test_error_in_base_file_names_that_file(tmp_path: Path) -> None:
    base = write(tmp_path, "\ncanvas:\n  width: 3\n", "base.yaml")
    child = write(tmp_path, "base: base.yaml\nlabels:\n  show: false\n", "child.yaml")
    assert error_of(child).startswith(f"style error in {base} line 3: canvas.width = 3")


def test_flow_mapping_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "collections:\n  muons: {color: red}\n  jets: {opacity: 2}\n")
    assert error_of(path).startswith(
        f"style error in {path} line 3: collections.jets.opacity = 2: must be at most 1 "
        "(allowed 0..1)"
    )


# ---- YAML and file problems ----------------------------------------------------------------


def test_invalid_yaml_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  width: 800\n   height: 600\n")
    assert error_of(path) == (
        f"style error in {path} line 3 column 10: invalid YAML: mapping values are not allowed here"
    )


def test_invalid_yaml_unclosed_quote(tmp_path: Path) -> None:
    path = write(tmp_path, "labels:\n  experiment: 'CMS\n")
    msg = error_of(path)
    assert re.match(rf"style error in {re.escape(path)} line \d+ column \d+: invalid YAML: ", msg)


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- canvas\n- camera\n")
    assert error_of(path) == (
        f"style error in {path} line 1: the top level must be a mapping of keys such as "
        "'canvas:' and 'collections:', got a list"
    )
    scalar = write(tmp_path, "publication\n", "s.yaml")
    assert error_of(scalar).endswith("got the single value 'publication'")


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  width: 800\ncanvas:\n  height: 600\n")
    assert error_of(path).startswith(f"style error in {path} line 3: canvas: duplicate key")


def test_non_text_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "canvas:\n  1: 800\n")
    assert error_of(path) == (f"style error in {path} line 2: canvas: key '1' must be a plain name")


def test_missing_file_lists_presets(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    assert error_of(missing) == (
        f"style error: {missing!r} is neither a style file nor a preset; "
        "presets: collision, lego, outreach, paper, publication, transverse"
    )


def test_unknown_preset_suggests_closest() -> None:
    msg = error_of("outrech")
    assert "'outrech' is neither a style file nor a preset (did you mean 'outreach'?)" in msg
    assert msg.endswith("presets: collision, lego, outreach, paper, publication, transverse")


def test_folder_is_not_a_style(tmp_path: Path) -> None:
    assert f"{str(tmp_path)!r} is a folder, not a style file" in error_of(str(tmp_path))


def test_unknown_base(tmp_path: Path) -> None:
    path = write(tmp_path, "# comment\nbase: glossy\n")
    assert error_of(path) == (
        f"style error in {path} line 2: base: 'glossy' is neither a style file nor a preset; "
        "presets: collision, lego, outreach, paper, publication, transverse"
    )


def test_base_must_be_text(tmp_path: Path) -> None:
    path = write(tmp_path, "base: [publication]\n")
    assert error_of(path).startswith(
        f"style error in {path} line 1: base: expected a preset name or a file path, got a list"
    )


def test_inheritance_cycle(tmp_path: Path) -> None:
    write(tmp_path, "base: b.yaml\n", "a.yaml")
    b = write(tmp_path, "\nbase: a.yaml\n", "b.yaml")
    msg = error_of(b)
    assert msg.startswith(f"style error in {tmp_path / 'a.yaml'} line 1: base: 'b'")
    assert "inherits from itself" in msg


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"canvas:\n  width: \xff\xfe\n")
    assert error_of(str(path)).startswith(f"style error in {path}: ")


# ---- digest --------------------------------------------------------------------------------


def test_digest_is_stable() -> None:
    assert load_style("publication").digest() == load_style("publication").digest()
    assert load_style(None, ["canvas.width=800"]).digest() == (
        load_style(None, ["canvas.width=800"]).digest()
    )


def test_digest_changes_with_any_value() -> None:
    base = load_style().digest()
    assert load_style(None, ["canvas.width=800"]).digest() != base
    assert load_style(None, ["collections.jets.color=red"]).digest() != base
    assert load_style(None, ["detector.tracker.opacity=0.5"]).digest() != base
    assert load_style("outreach").digest() != base


def test_digest_ignores_name(tmp_path: Path) -> None:
    copy = load_style(write(tmp_path, "base: publication\n", "copy.yaml"))
    assert copy.name == "copy"
    assert copy.digest() == load_style("publication").digest()


# ---- the collections a user asks for ----------------------------------------------------------


def test_presets_request_no_collection() -> None:
    # Presets style every collection; only a user's own words say that one is wanted.
    assert load_style("publication").requested_collections == frozenset()
    assert load_style("paper").requested_collections == frozenset()


def test_user_file_and_overrides_request_collections(tmp_path: Path) -> None:
    path = write(tmp_path, "base: outreach\ncollections:\n  pfcands: {min_pt: 2}\n")
    style = load_style(path, ["collections.muons.color=red", "canvas.width=800"])
    assert style.requested_collections == frozenset({"pfcands", "muons"})
    # Carried along by copies and by styles derived from it.
    assert style.model_copy().requested_collections == style.requested_collections
    derived = style_from_data(style, ["collections.jets.show=false"])
    assert derived.requested_collections == frozenset({"pfcands", "muons", "jets"})


def test_the_style_reference_is_current_and_says_what_every_key_does() -> None:
    """configs/STYLE_REFERENCE.md is generated from the schema: regenerate it with
    `ispyrender styles --reference > configs/STYLE_REFERENCE.md` when a key changes."""
    import re
    import subprocess
    import sys

    from ispyrender.config.reference import style_reference

    text = style_reference()
    committed = (Path(__file__).parents[1] / "configs" / "STYLE_REFERENCE.md").read_text()
    assert committed == text, "configs/STYLE_REFERENCE.md is stale: regenerate it"
    printed = subprocess.run(
        [sys.executable, "-m", "ispyrender", "styles", "--reference"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert printed == text
    # Every key of a style is a row, and every row says what the key does.
    rows = {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^\| `([^`]+)` \|.*\| ([^|]*)\|$", text, re.M)
    }
    leaves: list[str] = []

    def walk(model: object, prefix: str) -> None:
        from pydantic import BaseModel

        for name in type(model).model_fields:  # type: ignore[attr-defined]
            value = getattr(model, name)
            if prefix == "collections." or (prefix == "detector." and isinstance(value, BaseModel)):
                continue  # listed once per kind as collections.<name>.KEY
            if isinstance(value, BaseModel):
                walk(value, f"{prefix}{name}.")
            else:
                leaves.append(f"{prefix}{name}")

    walk(Style(), "")
    missing = [k for k in leaves if k not in rows]
    assert not missing, missing
    undocumented = [k for k, what in rows.items() if not what and "." in k]
    assert not undocumented, undocumented
    for key in ("collections.<name>.min_pt", "detector.<name>.opacity", "figure.size",
                "animation.keyframes[].at", "figure.masses[].count"):  # fmt: skip
        assert rows.get(key), key
