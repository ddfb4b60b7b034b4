"""Styles: validated settings for how events are drawn.

A :class:`Style` is a pydantic model built from a YAML preset (``configs/*.yaml``) or a user's
file, plus ``--set path.to.key=value`` overrides. It is passed explicitly to every stage that
needs it; there is no global style. Every field is validated: unknown keys, wrong types and
values out of range are errors that name the key, the file and line, and the allowed values.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ispyrender.errors import StyleError

RGB = tuple[float, float, float]


@functools.lru_cache(maxsize=512)
def parse_color(value: str) -> RGB:
    """Turn a color name ('red', 'tab:blue') or hex code ('#ff0000') into RGB floats.

    Raises ValueError with a message that says what is accepted.
    """
    # matplotlib knows the CSS4 and tableau names users expect from mplhep; imported lazily
    # so that `ispyrender --help` stays fast.
    from matplotlib import colors as mcolors

    text = str(value).strip()
    try:
        r, g, b, _ = mcolors.to_rgba(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a color: use a name such as 'red' or 'tab:blue', "
            "or a hex code such as '#1f77b4'"
        ) from None
    return (float(r), float(g), float(b))


def _check_color(value: str) -> str:
    parse_color(value)
    return value


Color = Annotated[str, AfterValidator(_check_color)]
Opacity = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


class StrictModel(BaseModel):
    """Base for all style sections: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CollectionStyle(StrictModel):
    """How one collection of physics objects is drawn."""

    show: bool = True
    color: Color = "red"
    opacity: Opacity = 1.0
    line_width: Annotated[float, Field(gt=0.0, le=20.0)] = 2.0
    min_pt: NonNegative = 0.0
    max_count: Annotated[int, Field(ge=0)] | None = None
    label: str | None = None  # legend text; the collection's default name when absent


class TrackStyle(CollectionStyle):
    """Charged particles drawn as helices in the magnetic field."""


class JetStyle(CollectionStyle):
    """Cones along (eta, phi) whose length follows the jet energy."""

    length_mode: Literal["fixed", "linear", "log"] = "log"
    length: Positive = 1.0  # metres at reference_energy (or always, when fixed)
    reference_energy: Positive = 100.0  # GeV
    cone_radius: Annotated[float, Field(gt=0.0, le=1.5)] | None = None  # None: the collection's


class PhotonStyle(CollectionStyle):
    """A line from the vertex to the ECAL front face and a deposit there."""

    deposit_scale: Positive = 0.01  # metres of tower length per GeV
    deposit_width: Positive = 0.08  # metres


class MetStyle(CollectionStyle):
    """Missing transverse momentum: an arrow in the transverse plane."""

    source: str = "MET"  # branch prefix: MET, PuppiMET, ChsMET, ...
    scale: Positive = 0.02  # metres per GeV
    max_length: Positive = 3.0  # metres


class VertexStyle(CollectionStyle):
    radius: Positive = 0.02  # metres on screen; real vertices are points


class HitStyle(CollectionStyle):
    """Calorimeter rec hits and muon chambers, which only iSpy (.ig) files carry: boxes at the
    detector cells, their depth growing with energy."""

    min_energy: NonNegative = 0.0  # GeV; hits below are not drawn
    scale: NonNegative = 0.1  # metres of depth per GeV (0: the cell's own depth)
    max_depth: Positive = 1.0  # metres


class Collections(StrictModel):
    muons: TrackStyle = TrackStyle(color="#e41a1c", line_width=3.0, min_pt=3.0)
    electrons: TrackStyle = TrackStyle(color="#33a02c", line_width=3.0, min_pt=3.0)
    isotracks: TrackStyle = TrackStyle(color="#f0a30a", line_width=1.5, min_pt=1.0)
    pfcands: TrackStyle = TrackStyle(color="#999999", line_width=1.0, min_pt=1.0, opacity=0.6)
    genparts: TrackStyle = TrackStyle(show=False, color="#a6cee3", line_width=1.0, min_pt=1.0)
    photons: PhotonStyle = PhotonStyle(color="#ff7f00", min_pt=5.0)
    jets: JetStyle = JetStyle(color="#fdd835", opacity=0.35, min_pt=20.0)
    fatjets: JetStyle = JetStyle(color="#ab47bc", opacity=0.2, min_pt=150.0)
    taus: JetStyle = JetStyle(color="#1e88e5", opacity=0.6, min_pt=20.0, cone_radius=0.1)
    met: MetStyle = MetStyle(color="#d81b60", line_width=4.0)
    vertices: VertexStyle = VertexStyle(color="#ffffff", radius=0.02)
    secondary_vertices: VertexStyle = VertexStyle(color="#00bcd4", radius=0.015)
    # Only in iSpy (.ig) files: reconstructed tracks, rec hits and muon chambers with hits.
    tracks: TrackStyle = TrackStyle(color="#f0a30a", line_width=1.5, min_pt=1.0)
    ecal_hits: HitStyle = HitStyle(color="#00c853", min_energy=0.25, scale=0.08, opacity=0.8)
    hcal_hits: HitStyle = HitStyle(color="#2962ff", min_energy=0.5, scale=0.04, opacity=0.6)
    muon_chambers: HitStyle = HitStyle(color="#ff5252", opacity=0.35, scale=0.0)


class PartStyle(StrictModel):
    """How one detector part is drawn."""

    show: bool = True
    color: Color = "grey"
    opacity: Opacity = 0.1
    representation: Literal["surface", "wireframe"] = "surface"


class Detector(StrictModel):
    show: bool = True
    # A wedge of the detector, from cutaway[0] to cutaway[1] degrees in phi, is left out so that
    # the inside can be seen in 3D views, as in CMS's own cut-away pictures. null: no cut.
    cutaway: (
        tuple[
            Annotated[float, Field(ge=-360.0, le=360.0)],
            Annotated[float, Field(ge=-360.0, le=360.0)],
        ]
        | None
    ) = None
    beam_pipe: PartStyle = PartStyle(color="#9e9e9e", opacity=0.4)
    tracker: PartStyle = PartStyle(color="#cfd8dc", opacity=0.06)
    ecal_barrel: PartStyle = PartStyle(color="#4fc3f7", opacity=0.12)
    ecal_endcap: PartStyle = PartStyle(color="#4fc3f7", opacity=0.12)
    hcal_barrel: PartStyle = PartStyle(color="#1565c0", opacity=0.08)
    hcal_endcap: PartStyle = PartStyle(color="#1565c0", opacity=0.08)
    solenoid: PartStyle = PartStyle(color="#b0bec5", opacity=0.05)
    muon_barrel: PartStyle = PartStyle(color="#ef9a9a", opacity=0.12)
    muon_endcap: PartStyle = PartStyle(color="#ef9a9a", opacity=0.08)


class Canvas(StrictModel):
    width: Annotated[int, Field(ge=16, le=7680)] = 1920
    height: Annotated[int, Field(ge=16, le=4320)] = 1080
    background: Color = "white"
    transparent: bool = False
    # MSAA smooths lines cheaply; SSAA is slower. MSAA disables depth peeling, because on
    # Mesa the two together make translucent meshes vanish without a message.
    anti_aliasing: Literal["none", "msaa", "ssaa"] = "msaa"


CameraPreset = Literal["iso", "transverse", "longitudinal", "top", "front_left"]


class Camera(StrictModel):
    preset: CameraPreset = "iso"
    azimuth: Annotated[float, Field(ge=-360.0, le=360.0)] | None = None  # degrees about y
    elevation: Annotated[float, Field(ge=-90.0, le=90.0)] | None = None  # degrees
    zoom: Annotated[float, Field(gt=0.0, le=50.0)] = 1.0
    projection: Literal["perspective", "parallel"] = "perspective"
    focus: Literal["detector", "event"] = "detector"


class Labels(StrictModel):
    show: bool = True
    experiment: str = "CMS"
    data_text: str = "Open Data"
    simulation_text: str = "Simulation"
    event_info: bool = True
    legend: bool = True
    color: Color = "black"
    font_scale: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0


class Output(StrictModel):
    name_template: str = "{run}_{lumi}_{event}.png"
    png_compression: Annotated[int, Field(ge=0, le=9)] = 1


ViewName = Literal["3d", "rho_phi", "rho_z", "lego"]


class Panel(StrictModel):
    """One panel of a figure: a view and, for 3D, its own camera."""

    view: ViewName = "3d"
    camera: Camera | None = None  # 3D only; None: the style's camera
    title: str | None = None  # None: the view's name; '' hides it
    # Half-width of a projected view in metres (rho-phi: x and y; rho-z: z); None: the
    # whole detector. Zoom in on the tracker with e.g. 1.3.
    extent: Annotated[float, Field(gt=0.0, le=12.0)] | None = None


MassCollection = Literal["muons", "electrons", "leptons", "photons", "jets"]


class MassRequest(StrictModel):
    """The invariant mass of the ``count`` leading objects of a collection (all when null)."""

    collection: MassCollection
    count: Annotated[int, Field(ge=2, le=20)] | None = 2
    label: str | None = None  # None: e.g. 'm(μμ)', written with mathtext


def _default_panels() -> list[Panel]:
    return [Panel(view="3d"), Panel(view="rho_phi"), Panel(view="rho_z")]


class Figure(StrictModel):
    """The ``figure`` command: a grid of panels with one label block, legend and annotations.

    The figure's size is the canvas size (times --scale)."""

    rows: Annotated[int, Field(ge=1, le=4)] = 1
    columns: Annotated[int, Field(ge=1, le=4)] = 3
    panels: Annotated[list[Panel], Field(min_length=1, max_length=16)] = Field(
        default_factory=_default_panels
    )
    # How the experiment label reads, as mplhep's: 'auto' is Open Data or Simulation from the
    # file (labels.data_text / labels.simulation_text).
    label_mode: Literal["auto", "cms", "preliminary", "open_data", "simulation"] = "auto"
    # Centre-of-mass energy shown as '(13 TeV)': 'auto' from the run number; null hides it.
    energy: str | None = "auto"
    # NanoAOD stores no time stamps: the 'Data recorded: ...' line is written only when set.
    recorded: str | None = None
    table: Literal["none", "right"] = "none"  # a table of the drawn objects
    table_rows: Annotated[int, Field(ge=1, le=60)] = 14
    masses: list[MassRequest] = Field(default_factory=list)

    @model_validator(mode="after")
    def _panels_fit(self) -> Figure:
        cells = self.rows * self.columns
        if len(self.panels) > cells:
            raise ValueError(
                f"{len(self.panels)} panels do not fit in rows x columns = "
                f"{self.rows} x {self.columns}: add rows or columns, or remove panels"
            )
        return self


Easing = Literal["linear", "ease_in", "ease_out", "ease_in_out"]


ShowGroup = Literal[
    "detector", "tracks", "muons", "electrons", "jets", "photons", "met", "vertices", "beams"
]


class Keyframe(StrictModel):
    """The state of an animation at a moment, given either as a fraction of its length (`at`)
    or in seconds from the first frame (`time`); values left out carry on from the keyframe
    before. Between keyframes values follow the later one's easing."""

    at: Annotated[float, Field(ge=0.0, le=1.0)] | None = None  # 0 = first frame, 1 = last
    time: Annotated[float, Field(ge=0.0, le=3600.0)] | None = None  # seconds (frame / fps)
    azimuth: Annotated[float, Field(ge=-3600.0, le=3600.0)] | None = None  # degrees of orbit
    # Degrees the camera is tilted up (+) or down (-) from the style's camera, after the orbit.
    elevation: Annotated[float, Field(ge=-89.0, le=89.0)] | None = None
    zoom: Annotated[float, Field(gt=0.0, le=50.0)] | None = None  # relative to the camera's
    growth: Annotated[float, Field(ge=0.0, le=1.0)] | None = None  # fraction of paths drawn
    # Incoming proton bunches: 0 far out along the beam line, 1 met at the centre (then gone).
    beams: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    # Groups drawn from this keyframe on (switched, not faded); None keeps the previous list.
    show: list[ShowGroup] | None = None
    easing: Easing = "ease_in_out"

    @model_validator(mode="after")
    def _one_moment(self) -> Keyframe:
        if (self.at is None) == (self.time is None):
            raise ValueError("give a keyframe either 'at' (0..1 of the movie) or 'time' (seconds)")
        return self


class Animation(StrictModel):
    """Movies: a turntable around the event, or a collision where the tracks grow out of the
    vertex before the camera turns."""

    kind: Literal["turntable", "collision", "reel"] = "turntable"
    frames: Annotated[int, Field(ge=1, le=10000)] = 72
    fps: Annotated[int, Field(ge=1, le=120)] = 24
    axis: Literal["vertical", "beam"] = "vertical"
    format: Literal["mp4", "webm", "gif"] = "mp4"
    scale: Annotated[float, Field(gt=0.0, le=4.0)] = 2.0 / 3.0  # of the canvas: 1280x720
    # An explicit movie size in pixels; when set it wins over scale (both or neither).
    width: Annotated[int, Field(ge=16, le=7680)] | None = None
    height: Annotated[int, Field(ge=16, le=4320)] | None = None
    keyframes: list[Keyframe] = []  # empty: a full turn (turntable) or grow-then-turn
    # reel: one movie through all selected events, each a turntable of `frames` frames,
    # preceded by a title card naming it when title_card is true.
    title_card: bool = True
    title_seconds: Annotated[float, Field(ge=0.0, le=30.0)] = 1.5

    @model_validator(mode="after")
    def _size_pair(self) -> Animation:
        if (self.width is None) != (self.height is None):
            raise ValueError("set animation.width and animation.height together (or neither)")
        return self


class Style(StrictModel):
    """A complete, validated style."""

    name: str = "custom"
    canvas: Canvas = Canvas()
    camera: Camera = Camera()
    labels: Labels = Labels()
    collections: Collections = Collections()
    detector: Detector = Detector()
    output: Output = Output()
    animation: Animation = Animation()
    figure: Figure = Figure()

    def digest(self) -> str:
        """A short, stable digest of every setting, written into each PNG."""
        import hashlib

        blob = self.model_dump_json(exclude={"name"}).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def style_schema() -> dict[str, Any]:
    return Style.model_json_schema()


# --------------------------------------------------------------------------------------------
# Loading: presets, user files, inheritance, --set overrides, and one-line error messages.
# --------------------------------------------------------------------------------------------

PRESETS_PACKAGE = "ispyrender.configs"
DEFAULT_BASE = "publication"

Key = str | int
KeyPath = tuple[Key, ...]
# Where a setting came from: a label ("my.yaml", "preset 'outreach'", "--set canvas.width=0")
# and a 1-based line (None for overrides), so errors can point at the exact spot.
Origin = tuple[str, int | None]


def list_presets() -> list[str]:
    """The names of the built-in presets (the YAML files in ``configs/``), sorted."""
    from importlib import resources

    folder = resources.files(PRESETS_PACKAGE)
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".yaml")
    )


# The preset names at import time; list_presets() re-reads the folder for callers that care.
PRESETS: tuple[str, ...] = tuple(list_presets())


def load_style(name_or_path: str | None = None, overrides: Sequence[str] = ()) -> Style:
    """Build a validated Style from a preset name or a YAML file, then ``--set`` overrides.

    ``name_or_path`` is a preset name (see :func:`list_presets`) or the path of a YAML file;
    None means the ``publication`` preset. A file may say ``base: <preset or file>`` to start
    from another style (deep merge); a user file without ``base`` starts from publication.
    Each override is ``path.to.key=value`` with the value read as YAML.

    Raises StyleError with one line naming the file and line (or the override), the key path
    and what is allowed.
    """
    source = _resolve(name_or_path or DEFAULT_BASE, relative_to=None, where=None)
    data, origins = _load_chain(source, chain=())
    # Style.name says which style made a picture: the preset name or the file's stem, unless
    # the file names itself (bases never leak their name, see _load_chain).
    if "name" not in data:
        data["name"] = source.name
        origins[("name",)] = (source.label, None)
    for text in overrides:
        _apply_override(data, origins, text)
    return _validate(data, origins)


# ---- sources -------------------------------------------------------------------------------


class _Source:
    """A preset or a file that a style document is read from."""

    def __init__(self, *, preset: str | None = None, path: Path | None = None) -> None:
        self.preset = preset
        self.path = path

    @property
    def key(self) -> str:
        """Identity for spotting inheritance cycles: the same file by any relative path."""
        if self.path is not None:
            return f"file:{self.path.resolve()}"
        return f"preset:{self.preset}"

    @property
    def name(self) -> str:
        return self.path.stem if self.path is not None else str(self.preset)

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else f"preset {self.preset!r}"

    def read(self) -> str:
        if self.path is None:
            from importlib import resources

            return (
                resources.files(PRESETS_PACKAGE)
                .joinpath(f"{self.preset}.yaml")
                .read_text(encoding="utf-8")
            )
        try:
            return self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise StyleError(
                f"style error in {self.path}: not a UTF-8 text file ({exc.reason})"
            ) from None
        except OSError as exc:
            raise StyleError(
                f"style error in {self.path}: cannot be read ({exc.strerror or exc})"
            ) from None


def _looks_like_path(text: str) -> bool:
    return text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text


def _resolve(ref: str, *, relative_to: Path | None, where: str | None) -> _Source:
    """Find the preset or file ``ref`` names; ``where`` prefixes errors (the base: line)."""
    presets = list_presets()
    # Bare words are preset names first, so a stray file called "outreach" in the working
    # directory cannot shadow a preset; anything that looks like a path is a path.
    if not _looks_like_path(ref) and ref in presets:
        return _Source(preset=ref)
    path = Path(ref).expanduser()
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if path.is_file():
        return _Source(path=path)
    # From a `base:` line the message names that key, like every other error in a file.
    prefix = f"style error in {where}: base:" if where else "style error:"
    hint = ""
    if not _looks_like_path(ref):
        close = difflib.get_close_matches(ref, presets, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    what = (
        "is a folder, not a style file" if path.is_dir() else "is neither a style file nor a preset"
    )
    raise StyleError(f"{prefix} {ref!r} {what}{hint}; presets: {', '.join(presets)}")


# ---- reading one document ------------------------------------------------------------------


def _read_document(source: _Source) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    """Parse one YAML document into plain data plus the line of every key path."""
    import yaml

    text = source.read()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[KeyPath, int] = {}
        if node is not None:
            # Walk the composed nodes before constructing: they carry the line marks, and
            # duplicate keys (which PyYAML would silently resolve to the last) are still visible.
            _walk_node(node, (), lines, source.label)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        raise StyleError(f"style error in {source.label}{at}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise StyleError(f"style error in {source.label}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    if data is None:  # an empty file (or only comments) is a valid style: all defaults
        return {}, lines
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else 1
        raise StyleError(
            f"style error in {source.label} line {line}: the top level must be a mapping of "
            f"keys such as 'canvas:' and 'collections:', got {_kind(data)}"
        )
    return data, lines


def _walk_node(node: Any, path: KeyPath, lines: dict[KeyPath, int], label: str) -> None:
    import yaml

    if len(path) > 32:  # a recursive alias (&a [*a]) would otherwise never end
        return
    if isinstance(node, yaml.MappingNode):
        seen: set[Key] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` keys
                continue
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith(":str")):
                where = _dotted(path) or "the top level"
                raise StyleError(
                    f"style error in {label} line {line}: {where}: key "
                    f"{getattr(key_node, 'value', '?')!r} must be a plain name"
                )
            key = key_node.value
            if key in seen:
                raise StyleError(
                    f"style error in {label} line {line}: {_dotted((*path, key))}: "
                    "duplicate key (a later one would silently replace the earlier)"
                )
            seen.add(key)
            lines[(*path, key)] = line
            _walk_node(value_node, (*path, key), lines, label)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk_node(item, (*path, index), lines, label)


# ---- inheritance ---------------------------------------------------------------------------


def _load_chain(
    source: _Source, chain: tuple[str, ...]
) -> tuple[dict[str, Any], dict[KeyPath, Origin]]:
    """Load ``source`` on top of its base (recursively), with the origin of every key."""
    data, lines = _read_document(source)
    origins: dict[KeyPath, Origin] = {path: (source.label, line) for path, line in lines.items()}
    chain = (*chain, source.key)
    where = source.label
    if "base" in data:
        base_ref = data.pop("base")
        base_line = lines.get(("base",))
        where = f"{source.label} line {base_line}" if base_line else source.label
        if base_ref is None:  # `base: null`: start from the model's own defaults
            return data, origins
        if not isinstance(base_ref, str) or not base_ref.strip():
            raise StyleError(
                f"style error in {where}: base: expected a preset name or a file path, "
                f"got {_show(base_ref)}; presets: {', '.join(list_presets())}"
            )
        relative_to = source.path.parent if source.path is not None else None
        base = _resolve(base_ref.strip(), relative_to=relative_to, where=where)
    elif source.preset is None:
        base = _Source(preset=DEFAULT_BASE)  # user files start from publication
    else:
        return data, origins
    if base.key in chain:
        raise StyleError(f"style error in {where}: base: {base.name!r} inherits from itself")
    base_data, base_origins = _load_chain(base, chain)
    base_data.pop("name", None)  # the style is named after the file asked for, not its base
    return _deep_merge(base_data, data), {**base_origins, **origins}


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# ---- overrides -----------------------------------------------------------------------------


def _apply_override(data: dict[str, Any], origins: dict[KeyPath, Origin], text: str) -> None:
    """Apply one ``path.to.key=value`` override to ``data`` in place."""
    import yaml

    label = f"--set {text}"
    key_text, sep, value_text = text.partition("=")
    keys = [part.strip() for part in key_text.split(".")]
    if not sep or not all(keys):
        raise StyleError(
            f"style error in {label}: expected path.to.key=value, e.g. canvas.width=800"
        )
    _check_override_path(keys, label)
    value_text = value_text.strip()
    # YAML would read '#000000' as a comment (so: null) and '' as null; both are meant as text.
    if value_text == "" or value_text.startswith("#"):
        value: Any = value_text
    else:
        try:
            value = yaml.safe_load(value_text)
        except yaml.YAMLError:
            value = value_text
        # Values are scalars; `CMS: preliminary` or `- x` would read as a mapping or a list,
        # which nobody means on a command line. Only explicit {...} / [...] are structures.
        if isinstance(value, dict | list) and not value_text.startswith(("{", "[")):
            value = value_text
    node = data
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    path = tuple(keys)
    if isinstance(value, dict) and isinstance(node.get(keys[-1]), dict):
        node[keys[-1]] = _deep_merge(node[keys[-1]], value)
    else:
        node[keys[-1]] = value
        # Settings below the replaced one no longer come from the file.
        for stale in [p for p in origins if p[: len(path)] == path and len(p) > len(path)]:
            del origins[stale]
    _mark_origin(origins, path, value, (label, None))


def _mark_origin(origins: dict[KeyPath, Origin], path: KeyPath, value: Any, origin: Origin) -> None:
    origins[path] = origin
    if isinstance(value, dict):
        for key, item in value.items():
            _mark_origin(origins, (*path, key), item, origin)


def _check_override_path(keys: list[str], label: str) -> None:
    """Refuse overrides into keys the model does not have, listing those it does."""
    node: dict[str, Any] | None = _schema()
    for depth, key in enumerate(keys):
        props = _properties(node)
        if props is None:
            done = _dotted(tuple(keys[:depth]))
            raise StyleError(
                f"style error in {label}: {done} is a setting, not a section: "
                f"use --set {done}=VALUE"
            )
        if key not in props:
            raise StyleError(
                f"style error in {label}: {_dotted(tuple(keys[: depth + 1]))}: "
                f"{_unknown_key(key, list(props))}"
            )
        node = props[key]


# ---- validation and messages ---------------------------------------------------------------


def _validate(data: dict[str, Any], origins: dict[KeyPath, Origin]) -> Style:
    from pydantic import ValidationError

    try:
        return Style.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error, origins) for error in exc.errors()]
    # Report the earliest line first: that is where a reader of the file starts fixing.
    problems.sort(key=lambda item: item[0])
    first = problems[0][1]
    more = len(problems) - 1
    if more:
        first += f" (and {more} more error{'s' if more > 1 else ''})"
    raise StyleError(first)


def _describe(error: Any, origins: dict[KeyPath, Origin]) -> tuple[tuple[int, int], str]:
    loc: KeyPath = tuple(error["loc"])
    label, line = _origin(loc, origins)
    where = f"{label} line {line}" if line else label
    message = f"style error in {where}: {_dotted(loc)}{_problem(error, loc)}"
    # Overrides sort after file lines, in the order given.
    rank = (0, line) if line and not label.startswith("--set") else (1, 0)
    return rank, message


def _origin(loc: KeyPath, origins: dict[KeyPath, Origin]) -> Origin:
    for end in range(len(loc), 0, -1):
        if loc[:end] in origins:
            return origins[loc[:end]]
    return ("the style", None)


def _problem(error: Any, loc: KeyPath) -> str:
    """The part after the key path: ' = value: what is wrong (what is allowed)'."""
    kind: str = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    field = _schema_at(loc)
    if kind == "extra_forbidden":
        parent = _properties(_schema_at(loc[:-1])) or {}
        allowed = list(parent) + (["base"] if len(loc) == 1 else [])
        return f": {_unknown_key(str(loc[-1]), allowed)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        keys = ", ".join(_properties(field) or {})
        return f": expected a section of keys ({keys}), got {_show(value)}"
    shown = f" = {_show(value)}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
        "greater_than": ("greater than", "gt"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"{shown}: must be {words} {_number(ctx.get(name))} ({_range(field)})"
    if kind == "literal_error":
        choices = _enum(field)
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listed = ", ".join(repr(c) for c in choices) or ctx.get("expected", "?")
        return f"{shown}: must be one of {listed}{hint}"
    if kind == "value_error":
        # Our validators (colors) already say what the value is and what is accepted.
        return f": {ctx.get('error', error['msg'])}"
    expected = {
        "float_parsing": "a number",
        "float_type": "a number",
        "int_parsing": "a whole number",
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "string_type": "text (quote it: '...')",
        "finite_number": "a finite number",
    }.get(kind)
    if expected:
        allowed = f" ({_range(field)})" if _bounds(field) else ""
        return f": expected {expected}, got {_show(value)}{allowed}"
    return f"{shown}: {error['msg']}"


def _unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}; allowed: {', '.join(allowed)}"


# ---- the JSON schema, used to list keys, ranges and choices in messages ---------------------


@functools.lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return Style.model_json_schema()


def _deref(node: dict[str, Any] | None) -> dict[str, Any] | None:
    """Follow $ref, and unwrap `X | None` to X, so callers see the interesting part."""
    while node is not None:
        if "$ref" in node:
            node = _schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            node = options[0] if len(options) == 1 else node
            if len(options) != 1:
                return node
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            return node
    return None


def _properties(node: dict[str, Any] | None) -> dict[str, Any] | None:
    node = _deref(node)
    return node.get("properties") if node is not None else None


def _schema_at(loc: KeyPath) -> dict[str, Any] | None:
    node: dict[str, Any] | None = _schema()
    for key in loc:
        if isinstance(key, int):
            # An entry of a list (e.g. animation.keyframes[0]): its schema is the items'.
            items = _deref(node)
            node = items.get("items") if items is not None else None
            if node is None:
                return None
            continue
        props = _properties(node)
        if props is None or key not in props:
            return None
        node = props[key]
    return _deref(node)


def _enum(field: dict[str, Any] | None) -> list[Any]:
    if field is None:
        return []
    if "enum" in field:
        return list(field["enum"])
    return [field["const"]] if "const" in field else []


def _bounds(field: dict[str, Any] | None) -> dict[str, float]:
    if field is None:
        return {}
    names = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    return {name: field[name] for name in names if name in field}


def _range(field: dict[str, Any] | None) -> str:
    """'allowed 16..7680', 'allowed: above 0 up to 20', 'allowed: 0 or more', ..."""
    b = _bounds(field)
    if "minimum" in b and "maximum" in b:
        return f"allowed {_number(b['minimum'])}..{_number(b['maximum'])}"
    parts = []
    if "minimum" in b:
        parts.append(f"{_number(b['minimum'])} or more")
    elif "exclusiveMinimum" in b:
        parts.append(f"above {_number(b['exclusiveMinimum'])}")
    if "maximum" in b:
        parts.append(f"up to {_number(b['maximum'])}")
    elif "exclusiveMaximum" in b:
        parts.append(f"below {_number(b['exclusiveMaximum'])}")
    return "allowed: " + " ".join(parts) if parts else "allowed: any number"


# ---- small formatting helpers --------------------------------------------------------------


def _dotted(path: KeyPath) -> str:
    return ".".join(f"[{k}]" if isinstance(k, int) else k for k in path).replace(".[", "[")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _show(value: Any) -> str:
    """A value as the user wrote it in YAML: null, true, 3, 'text'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float):
        return _number(value)
    return repr(value)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return f"the single value {_show(value)}"
