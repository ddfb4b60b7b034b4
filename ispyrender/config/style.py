"""Styles: validated settings for how events are drawn.

A :class:`Style` is a pydantic model (this module, the schema) built by
:mod:`ispyrender.config.loader` from a YAML preset (``configs/*.yaml``) or a user's file, plus
``--set path.to.key=value`` overrides. It is passed explicitly to every stage that
needs it; there is no global style. Every field is validated: unknown keys, wrong types and
values out of range are errors that name the key, the file and line, and the allowed values.
"""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from ispyrender.config.colors import RGB, check_color, parse_color

#: What an error message quotes of a user's text, at most.
EXCERPT = 60
#: The longest text a style may hold in one setting (labels, titles, names).
TEXT_LIMIT = 500
# C0 and C1 control characters, DEL, and lone surrogates (undecodable bytes of a command line).
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def excerpt(text: object, limit: int = EXCERPT) -> str:
    """``text`` quoted for a one-line message: repr, cut to ``limit`` characters with the
    length said, so that no message repeats a whole file or a megabyte of --set."""
    value = str(text)
    if len(value) <= limit:
        return repr(value)
    return f"{value[: limit - 3]!r}... ({len(value)} characters)"


def unprintable(value: str) -> str | None:
    """What makes ``value`` unfit to draw or to name a file: its first control character or
    undecodable byte, with its position; None when there is none."""
    bad = UNPRINTABLE.search(value)
    if bad is None:
        return None
    char = bad.group()
    if "\ud800" <= char <= "\udfff":
        return f"an undecodable byte (not UTF-8) at position {bad.start() + 1}"
    return f"control character U+{ord(char):04X} at position {bad.start() + 1}"


def check_text(value: str) -> str:
    """Text drawn or written into files: no control characters, not absurdly long."""
    what = unprintable(value)
    if what is not None:
        raise ValueError(f"{excerpt(value)} holds {what}; remove it")
    if len(value) > TEXT_LIMIT:
        raise ValueError(f"{excerpt(value)} is too long: at most {TEXT_LIMIT} characters")
    return value


def _check_color(value: str) -> str:
    if len(value) > EXCERPT or UNPRINTABLE.search(value):
        raise ValueError(
            f"{excerpt(value)} is not a color: use a name such as 'red' or 'tab:blue', or a "
            "hex code such as '#1f77b4'"
        )
    return check_color(value)


# ---- output file names ------------------------------------------------------------------------

#: The fields of ``output.name_template``; all are whole numbers except ``source``.
TEMPLATE_FIELDS = ("run", "lumi", "event", "index", "entry", "source")
#: The only format a number may take: a width, optionally zero-padded, up to 20 ({event:09d}).
_NUMBER_FORMAT = re.compile(r"0?(?:[1-9]|1[0-9]|20)?d")
#: The longest file name most file systems allow, in bytes (one path component).
NAME_MAX = 255


def check_name_template(template: str) -> str:
    """The rule for ``output.name_template``: literal text and the fields {run}, {lumi},
    {event}, {index}, {entry}, {source}; numbers may carry a width such as {event:09d} (up to
    20) and nothing else: no conversions (!r), other format specs (:s, :>30) or fields inside
    a format ({run:>{event}}), so that no template can fail or blow up when an event is named.
    A file name, not a path, ending with a suffix (.png, .mp4, ...: each format writes its own
    in its place, so one template names pictures, figures and movies alike)."""
    shown = excerpt(template)
    allowed = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"{shown} is malformed ({exc}): write fields as {{run}} and literal braces as "
            "{{ and }}"
        ) from None
    literal_bytes = 0
    for literal, field, spec, conversion in parts:
        literal_bytes += len(literal.encode("utf-8", "surrogatepass"))
        if field is None:
            continue
        whole = (
            "{"
            + field
            + (f"!{conversion}" if conversion else "")
            + (f":{spec}" if spec else "")
            + "}"
        )
        if field not in TEMPLATE_FIELDS:
            raise ValueError(f"{shown} uses {excerpt(whole, 30)}; the fields are {allowed}")
        if conversion is not None:
            raise ValueError(
                f"{shown} converts a field in {excerpt(whole, 30)}: conversions (!r, !s, !a) are "
                f"not allowed; write {{{field}}}"
            )
        if spec and (field == "source" or not _NUMBER_FORMAT.fullmatch(spec)):
            hint = (
                "{source} takes no format"
                if field == "source"
                else f"a number takes only a width, such as {{{field}:06d}} (up to 20)"
            )
            raise ValueError(f"{shown} formats a field as {excerpt(whole, 30)}: {hint}")
    what = unprintable(template)
    if what is not None:
        raise ValueError(f"{shown} holds {what}; remove it")
    if "/" in template or "\\" in template:
        raise ValueError(f"{shown} must be a file name, not a path: remove '/' and '\\'")
    if not re.fullmatch(r".+\.[A-Za-z0-9]{1,5}", template, re.DOTALL):
        raise ValueError(
            f"{shown} must end with a suffix such as .png or .mp4 (each format puts its own "
            "in its place)"
        )
    if literal_bytes > NAME_MAX - 15:  # see outputs.targets.STEM_RESERVE
        raise ValueError(
            f"{shown} is too long: its text alone is {literal_bytes} bytes, and a file name "
            f"is at most {NAME_MAX} bytes (less room for the temporary name)"
        )
    return template


Color = Annotated[str, AfterValidator(_check_color)]
Text = Annotated[str, AfterValidator(check_text)]
NameTemplate = Annotated[str, AfterValidator(check_name_template)]
Opacity = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


class StrictModel(BaseModel):
    """Base for all style sections: unknown keys are errors, assignments are validated."""

    # Numbers are finite: .inf and .nan would reach the renderer as sizes and positions.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class CollectionStyle(StrictModel):
    """How one collection of physics objects is drawn."""

    show: bool = True  # draw this collection at all
    color: Color = "red"  # a CSS name or #rrggbb
    opacity: Opacity = 1.0  # 0 transparent, 1 opaque
    # Pixels at 1080 lines of picture height (scaled with the picture), for paths and outlines.
    line_width: Annotated[float, Field(gt=0.0, le=20.0)] = 2.0
    min_pt: NonNegative = 0.0  # GeV; objects of lower transverse momentum are not drawn
    max_count: Annotated[int, Field(ge=0)] | None = None  # the leading N by pT; null: all
    label: Text | None = None  # legend text; the collection's default name when absent
    # The analysis ID objects must pass to be drawn (muons, electrons, photons, jets; see
    # ispyrender.physics.quality): null is the collection's default (config.collections),
    # "none" draws every object.
    id: Literal["none", "veto", "loose", "medium", "tight", "tight_lepton_veto"] | None = None


class TrackStyle(CollectionStyle):
    """Charged particles drawn as helices in the magnetic field."""


class JetStyle(CollectionStyle):
    """Cones along (eta, phi) whose length follows the jet's transverse energy on the style's
    shared energy scale (``energy_scale``)."""

    cone_radius: Annotated[float, Field(gt=0.0, le=1.5)] | None = None  # None: the collection's
    # The cone's outline (rim and the two edges seen from the camera) is drawn at this opacity
    # over the light fill, so tracks and hits inside stay visible.
    outline: Opacity = 0.9


class PhotonStyle(CollectionStyle):
    """A line from the vertex to the ECAL front face and a deposit there, as long as its
    transverse energy on the shared energy scale."""

    deposit_width: Positive = 0.08  # metres


class MetStyle(CollectionStyle):
    """Missing transverse momentum: an arrow in the transverse plane."""

    source: Text = "MET"  # branch prefix: MET, PuppiMET, ChsMET, ...


class VertexStyle(CollectionStyle):
    """Vertices are points: drawn as dots of ``size`` pixels (at 1080 pixels of picture height,
    scaled with the picture), so they are visible at every resolution; ``radius`` is their
    size in the 3D exports, where the viewer zooms."""

    size: Annotated[float, Field(gt=0.0, le=100.0)] = 10.0  # pixels at 1080 lines
    radius: Positive = 0.02  # metres, 3D exports only


class HitStyle(CollectionStyle):
    """Calorimeter rec hits and muon chambers, which only iSpy (.ig) files carry: boxes at the
    detector cells, their depth growing with energy."""

    min_energy: NonNegative = 0.0  # GeV; hits below are not drawn
    scale: NonNegative = 0.1  # metres of depth per GeV (0: the cell's own depth)
    max_depth: Positive = 1.0  # metres
    # false: the barrel's only (EB, HB, HO; DT chambers), as a view along the beam must show
    # them: there the endcaps' hits and CSCs would lie across the barrel (the transverse
    # preset). A figure's rho-phi panel always shows the barrel's only.
    endcaps: bool = True


class TowerStyle(CollectionStyle):
    """Calorimeter towers built from PF candidates (PFNano files): the candidates' transverse
    energy summed in (eta, phi) cells at the ECAL (photons, electrons) or HCAL (hadrons)
    surface, each tower as long as its E_T on the shared energy scale."""

    min_energy: NonNegative = 0.5  # GeV of E_T per tower; smaller towers are not drawn
    eta_bin: Annotated[float, Field(gt=0.0, le=1.0)] = 0.087  # CMS's barrel tower size
    phi_bin: Annotated[float, Field(gt=0.0, le=1.0)] = 0.0873  # 2 pi / 72


class Collections(StrictModel):
    """The physics objects, one entry per collection: whether and how each is drawn."""

    muons: TrackStyle = TrackStyle(color="#e41a1c", line_width=3.0, min_pt=3.0)
    electrons: TrackStyle = TrackStyle(color="#33a02c", line_width=3.0, min_pt=3.0)
    isotracks: TrackStyle = TrackStyle(color="#f0a30a", line_width=1.5, min_pt=1.0)
    pfcands: TrackStyle = TrackStyle(color="#999999", line_width=1.0, min_pt=1.0, opacity=0.6)
    genparts: TrackStyle = TrackStyle(show=False, color="#a6cee3", line_width=1.0, min_pt=1.0)
    photons: PhotonStyle = PhotonStyle(color="#ff7f00", min_pt=5.0)
    jets: JetStyle = JetStyle(color="#fdd835", opacity=0.35, min_pt=20.0)
    fatjets: JetStyle = JetStyle(color="#ab47bc", opacity=0.2, min_pt=150.0)
    taus: JetStyle = JetStyle(color="#1e88e5", opacity=0.6, min_pt=20.0, cone_radius=0.1)
    genjets: JetStyle = JetStyle(show=False, color="#b2df8a", opacity=0.25, min_pt=20.0)
    met: MetStyle = MetStyle(color="#d81b60", line_width=4.0)
    vertices: VertexStyle = VertexStyle(color="#ffffff", radius=0.02)
    secondary_vertices: VertexStyle = VertexStyle(color="#00bcd4", radius=0.015)
    # Only in iSpy (.ig) files: reconstructed tracks, rec hits and muon chambers with hits.
    tracks: TrackStyle = TrackStyle(color="#f0a30a", line_width=1.5, min_pt=1.0)
    ecal_hits: HitStyle = HitStyle(color="#00c853", min_energy=0.25, scale=0.08, opacity=0.8)
    hcal_hits: HitStyle = HitStyle(color="#2962ff", min_energy=0.5, scale=0.04, opacity=0.6)
    hf_hits: HitStyle = HitStyle(color="#7c4dff", min_energy=0.5, scale=0.04, opacity=0.6)
    muon_chambers: HitStyle = HitStyle(color="#ff5252", opacity=0.35, scale=0.0)
    # Only in PFNano files: towers summed from the PF candidates.
    em_towers: TowerStyle = TowerStyle(color="#e41a1c", opacity=0.85)
    had_towers: TowerStyle = TowerStyle(color="#377eb8", opacity=0.85)

    @model_validator(mode="before")
    @classmethod
    def _onto_defaults(cls, data: Any) -> Any:
        """A collection given in part keeps its own defaults for the rest (its colour, its
        thresholds), not the bare defaults of its kind: ``collections.genjets.show=true`` on a
        style that does not list generator jets draws them as the table above says."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for key, value in data.items():
            field = cls.model_fields.get(key)
            if field is not None and isinstance(value, dict) and field.default is not None:
                merged[key] = {**field.default.model_dump(exclude_unset=True), **value}
        return merged

    @model_validator(mode="after")
    def _known_ids(self) -> Collections:
        from ispyrender.config.collections import BY_KEY

        for key in type(self).model_fields:
            wanted = getattr(self, key).id
            allowed = BY_KEY[key].ids
            if wanted not in (None, "none") and wanted not in allowed:
                names = ", ".join(("none", *allowed)) if allowed else "none (it has no ID)"
                raise ValueError(
                    f"collections.{key}.id: {wanted!r} is not an ID of {key}: use {names}"
                )
        return self


class EnergyScale(StrictModel):
    """One length scale for every energy drawn (jet cones, calorimeter towers, photon deposits,
    MET), stated on the picture: ``metres_per_gev`` of transverse energy, so 20, 100 and 1000
    GeV are told apart. In "combined" mode (as Fireworks') the scale is shrunk for an event
    whose largest object would be longer than ``max_length``, so it stays in the detector; in
    "fixed" mode lengths are capped at ``max_length`` instead."""

    mode: Literal["combined", "fixed"] = "combined"  # see above
    metres_per_gev: Positive = 0.02  # the scale, before "combined" shrinks it for an event
    max_length: Positive = 2.5  # metres: the longest object drawn


class Cleaning(StrictModel):
    """Cross-cleaning: a jet or tau is not drawn when it is the same object as a drawn lepton
    or photon: NanoAOD's links (``Jet_muonIdx1``, ``Photon_jetIdx``, ...) where the file has
    them, else the nearest within ``delta_r``; fat jets against leptons within
    ``fatjet_delta_r``."""

    enabled: bool = True  # false: every jet and tau is drawn, duplicates included
    delta_r: Annotated[float, Field(gt=0.0, le=2.0)] = 0.4  # jets and taus (AK4's radius)
    fatjet_delta_r: Annotated[float, Field(gt=0.0, le=2.0)] = 0.8  # fat jets (AK8's radius)


class PartStyle(StrictModel):
    """How one detector part is drawn."""

    show: bool = True  # draw this part
    color: Color = "grey"  # its fill, a CSS name or #rrggbb
    opacity: Opacity = 0.1  # of the fill: low, so that the event inside shows
    representation: Literal["surface", "wireframe"] = "surface"  # filled, or edges only
    # Outline of the part (chamber and wedge edges, tube rims): line-art over a light fill.
    # null: none.
    edge_color: Color | None = None


class Detector(StrictModel):
    """The CMS detector drawn around the event (dimensions from CMS's own geometry): each
    part's look, and a cut-away wedge."""

    show: bool = True  # false: the event alone
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
    preshower: PartStyle = PartStyle(color="#4fc3f7", opacity=0.12)  # ES, before the EE
    hcal_barrel: PartStyle = PartStyle(color="#1565c0", opacity=0.08)
    hcal_endcap: PartStyle = PartStyle(color="#1565c0", opacity=0.08)
    # The forward calorimeter (HF), 11.2-12.8 m out along the beam: left out of the camera's
    # frame of the detector, which it would shrink.
    hcal_forward: PartStyle = PartStyle(color="#1565c0", opacity=0.08)
    solenoid: PartStyle = PartStyle(color="#b0bec5", opacity=0.05)
    muon_barrel: PartStyle = PartStyle(color="#ef9a9a", opacity=0.12)
    muon_endcap: PartStyle = PartStyle(color="#ef9a9a", opacity=0.08)

    @classmethod
    def parts(cls) -> tuple[str, ...]:
        """The style keys of the detector parts, inner parts first."""
        return tuple(k for k, f in cls.model_fields.items() if f.annotation is PartStyle)


#: The one size limit of every picture, figure, movie frame and export (8K UHD).
MAX_WIDTH, MAX_HEIGHT = 7680, 4320


def largest_scale(width: float, height: float) -> float:
    """The largest scale of a ``width`` x ``height`` picture within MAX_WIDTH x MAX_HEIGHT."""
    return min(MAX_WIDTH / width, MAX_HEIGHT / height)


class Canvas(StrictModel):
    """The picture: its size in pixels (before --scale), background and anti-aliasing."""

    width: Annotated[int, Field(ge=16, le=MAX_WIDTH)] = 1920  # pixels
    height: Annotated[int, Field(ge=16, le=MAX_HEIGHT)] = 1080  # pixels
    background: Color = "white"  # a CSS name or #rrggbb
    transparent: bool = False  # a PNG with a transparent background (alpha channel)
    # FXAA (a pass over the finished picture) costs a third of MSAA on Mesa's llvmpipe and
    # leaves fewer jagged pixels against a supersampled picture; MSAA is closer to it on
    # average (tests/test_antialiasing.py). A transparent picture gets MSAA: FXAA does not
    # smooth alpha. SSAA is slowest.
    anti_aliasing: Literal["none", "fxaa", "msaa", "ssaa"] = "fxaa"


CameraPreset = Literal["iso", "transverse", "longitudinal", "top", "front_left"]


class Camera(StrictModel):
    """Where the 3D views look from, and what they frame."""

    # iso: from the front left and above; transverse: along the beam; longitudinal: from the
    # side; top: from above; front_left: low from the front left.
    preset: CameraPreset = "iso"
    azimuth: Annotated[float, Field(ge=-360.0, le=360.0)] | None = None  # degrees about y
    elevation: Annotated[float, Field(ge=-90.0, le=90.0)] | None = None  # degrees
    zoom: Annotated[float, Field(gt=0.0, le=50.0)] = 1.0  # > 1 moves in, after the framing
    # parallel: no perspective (sizes comparable across the picture, as in drawings).
    projection: Literal["perspective", "parallel"] = "perspective"
    # "event": the camera fits the drawn objects (and the beam spot) so that they fill
    # ``fill`` of the picture's shorter side, the detector around them; "series": every event
    # alike, ``series_extent`` metres about the beam spot filling ``fill`` of the picture (a
    # gallery, a run of pictures to compare); "detector": the whole detector, the same for
    # every event.
    focus: Literal["detector", "event", "series"] = "event"
    series_extent: Annotated[float, Field(gt=0.0, le=15.0)] = 3.0  # metres, for "series"
    fill: Annotated[float, Field(gt=0.1, le=1.0)] = 0.8  # of the picture's shorter side
    # "event" shows at least this many metres above and below the event's centre: an event of
    # electrons and photons alone (1.3 m) is then seen with the calorimeters around it, not
    # zoomed into the tracker, where the detector is anonymous planes. 0: the event alone.
    min_extent: Annotated[float, Field(ge=0.0, le=15.0)] = 1.6


class Labels(StrictModel):
    """The text on pictures and figures: the experiment label, the event's ids, the legend."""

    show: bool = True  # false: no text at all (a clean picture)
    experiment: Text = "CMS"  # written in bold
    # The word after the experiment for collision data: "" writes "CMS" alone (a paper's
    # figure); "Preliminary", "Open Data", ... as the figure is used. Simulation always gets
    # simulation_text.
    data_text: Text = ""
    simulation_text: Text = "Simulation"  # the word for simulated events
    event_info: bool = True  # the run, lumi section and event line
    legend: bool = True  # the objects drawn, with their counts
    # The invariant masses of figure.masses written on render pictures too.
    masses: bool = False
    color: Color = "black"  # of all text
    font_scale: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0  # multiplies every text size


class Output(StrictModel):
    """The files: their names, and how they are written."""

    # Each event's file name: literal text and {run}, {lumi}, {event}, {index}, {entry},
    # {source}, numbers with a width such as {event:09d}; any suffix (each format puts its
    # own). Movies of the default template say their kind (..._turntable.mp4).
    name_template: NameTemplate = "{run}_{lumi}_{event}.png"
    png_compression: Annotated[int, Field(ge=0, le=9)] = 1  # zlib level: 1 fast, 9 smallest
    # How figures write their text in SVG, PDF and EPS. "auto": PDF and EPS embed the font
    # (searchable, selectable text) and SVG draws text as outlines, the only form that looks
    # the same in browsers, librsvg and Inkscape; "embed": SVG keeps <text> with the font
    # embedded as @font-face (editable, but only browsers use the embedded font: librsvg and
    # Inkscape substitute a system font); "outlines": every format draws text as paths, with
    # no font in the file (for journals that refuse Type 3 fonts; text is not searchable).
    vector_text: Literal["auto", "embed", "outlines"] = "auto"


ViewName = Literal["3d", "rho_phi", "rho_z", "lego"]


class Panel(StrictModel):
    """One panel of a figure: a view and, for 3D, its own camera."""

    view: ViewName = "3d"  # 3d, a projection (rho_phi, rho_z), or the eta-phi lego
    camera: Camera | None = None  # 3D only; None: the style's camera
    title: Text | None = None  # None: the view's name; '' hides it
    # Half-width of a projected view in metres (rho-phi: x and y; rho-z: z); None: the
    # whole detector. Zoom in on the tracker with e.g. 1.3.
    extent: Annotated[float, Field(gt=0.0, le=12.0)] | None = None


MassCollection = Literal["muons", "electrons", "leptons", "photons", "jets"]


class MassRequest(StrictModel):
    """The invariant mass of a candidate of a collection: for leptons, two is the opposite-sign
    same-flavour pair closest to m(Z) and four CMS's H->4l pairing; otherwise the ``count``
    leading objects (all when null), leptons only when their charges add up to zero (see
    ispyrender.physics.candidates)."""

    collection: MassCollection  # leptons: muons and electrons together
    count: Annotated[int, Field(ge=2, le=20)] | None = 2  # objects in the candidate
    label: Text | None = None  # None: e.g. 'm(μ⁺μ⁻)', written with mathtext


def _default_panels() -> list[Panel]:
    return [Panel(view="3d"), Panel(view="rho_phi"), Panel(view="rho_z")]


#: Inches.
PageLength = Annotated[float, Field(ge=1.0, le=40.0)]
#: On a page set in inches (figure.size), text sizes in points are multiplied by this (times
#: labels.font_scale: 1.3 in the paper preset gives a 17 pt experiment label and 8-8.5 pt
#: event line, legend and table, a paper's figure text; a narrower page down to three
#: quarters of that), and line widths by PAGE_LINE points
#: per pixel of the style's line widths (a 4 px muon is a 1.4 pt line).
PAGE_TEXT = 0.5
PAGE_LINE = 0.5


class Figure(StrictModel):
    """The ``figure`` command: a grid of panels with one label block, legend and annotations.

    Its page is ``size`` inches at ``dpi`` dots per inch, as matplotlib's figsize and dpi (text
    then has its size in points on that page: 8-9 pt body text on a 7-inch page); without
    ``size``, the canvas at 100 pixels per inch, with text that grows with it. --scale
    multiplies the dpi."""

    rows: Annotated[int, Field(ge=1, le=4)] = 1  # of the grid of panels
    columns: Annotated[int, Field(ge=1, le=4)] = 3  # of the grid of panels
    # The panels, filled row by row: 3D, rho-phi, rho-z by default.
    panels: Annotated[list[Panel], Field(min_length=1, max_length=16)] = Field(
        default_factory=_default_panels
    )
    # How the experiment label reads, as mplhep's: 'auto' is Open Data or Simulation from the
    # file (labels.data_text / labels.simulation_text).
    label_mode: Literal["auto", "cms", "preliminary", "open_data", "simulation"] = "auto"
    # Centre-of-mass energy shown as '(13 TeV)': 'auto' from the run number; null hides it.
    energy: Text | None = "auto"
    # NanoAOD stores no time stamps: the 'Data recorded: ...' line is written only when set.
    recorded: Text | None = None
    table: Literal["none", "right"] = "none"  # a table of the drawn objects
    table_rows: Annotated[int, Field(ge=1, le=60)] = 14  # the table's most rows
    # The invariant masses written in the header (and on pictures, with labels.masses).
    masses: list[MassRequest] = Field(default_factory=list)
    # [width, height] in inches: 7 wide is a two-column paper's text width, 3.4 one column.
    size: tuple[PageLength, PageLength] | None = None
    dpi: Annotated[int, Field(ge=50, le=1200)] = 300  # of the PNG and of raster panels

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
    easing: Easing = "ease_in_out"  # how values move towards this keyframe's

    @model_validator(mode="after")
    def _one_moment(self) -> Keyframe:
        if (self.at is None) == (self.time is None):
            raise ValueError("give a keyframe either 'at' (0..1 of the movie) or 'time' (seconds)")
        return self


class Animation(StrictModel):
    """Movies: a turntable around the event, or a collision where the tracks grow out of the
    vertex before the camera turns."""

    # turntable: the camera turns round the event; collision: the tracks grow out of the
    # vertex, then the camera turns; reel: one movie of every selected event.
    kind: Literal["turntable", "collision", "reel"] = "turntable"
    frames: Annotated[int, Field(ge=1, le=10000)] = 72  # per movie (animate --duration sets it)
    fps: Annotated[int, Field(ge=1, le=120)] = 24  # frames per second
    axis: Literal["vertical", "beam"] = "vertical"  # what the camera turns about
    format: Literal["mp4", "webm", "gif"] = "mp4"  # H.264, VP8, or an animated GIF
    scale: Annotated[float, Field(gt=0.0, le=4.0)] = 2.0 / 3.0  # of the canvas: 1280x720
    # An explicit movie size in pixels; when set it wins over scale (both or neither).
    width: Annotated[int, Field(ge=16, le=7680)] | None = None
    height: Annotated[int, Field(ge=16, le=4320)] | None = None  # with width; null: scale
    # The story of the movie (see Keyframe); empty: the kind's own.
    keyframes: list[Keyframe] = []  # empty: a full turn (turntable) or grow-then-turn
    # reel: one movie through all selected events, each a turntable of `frames` frames,
    # preceded by a title card naming it when title_card is true.
    title_card: bool = True
    title_seconds: Annotated[float, Field(ge=0.0, le=30.0)] = 1.5  # each title card's

    @model_validator(mode="after")
    def _size_pair(self) -> Animation:
        if (self.width is None) != (self.height is None):
            raise ValueError("set animation.width and animation.height together (or neither)")
        return self

    @model_validator(mode="after")
    def _timeline_fits(self) -> Animation:
        """A keyframe in seconds past the last frame would never be reached: refused, with
        the length that would reach it (keyframes in fractions, 'at', always fit)."""
        last = (self.frames - 1) / self.fps  # seconds of the last frame
        late = max((k.time for k in self.keyframes if k.time is not None), default=0.0)
        if late > last + 1e-9:
            need = late + 1 / self.fps
            raise ValueError(
                f"a keyframe at {late:g} s is past the movie's last frame ({last:.2f} s: "
                f"{self.frames} frames at {self.fps} fps); make the movie longer (--duration "
                f"{need:.4g} or more) or give the keyframes as fractions of it ('at')"
            )
        return self

    def held_seconds(self) -> float:
        """Seconds at the end of the movie that hold the last keyframe's state, where every
        keyframe is timed in seconds and the movie is longer than they are (0 otherwise)."""
        if not self.keyframes or any(k.at is not None for k in self.keyframes):
            return 0.0
        late = max(k.time or 0.0 for k in self.keyframes)
        return max(0.0, (self.frames - 1) / self.fps - late)


class Style(StrictModel):
    """A complete, validated style."""

    name: Text = "custom"  # written into every file's metadata
    canvas: Canvas = Canvas()
    camera: Camera = Camera()
    labels: Labels = Labels()
    collections: Collections = Collections()
    energy_scale: EnergyScale = EnergyScale()
    cleaning: Cleaning = Cleaning()
    detector: Detector = Detector()
    output: Output = Output()
    animation: Animation = Animation()
    figure: Figure = Figure()
    # The collections a user's style file or --set names (set by the loader; built-in presets
    # do not count): only these are warned about when a file lacks them.
    _requested: frozenset[str] = PrivateAttr(default_factory=frozenset)
    # The preset a style file without `base:` started from (set by the loader), else None.
    _implicit_base: str | None = PrivateAttr(default=None)

    @property
    def implicit_base(self) -> str | None:
        return self._implicit_base

    @model_validator(mode="after")
    def _movie_fits(self) -> Style:
        """A movie drawn at animation.scale of the canvas stays within the one size limit of
        every picture (7680x4320): a 15360x8640 movie needs gigabytes and ends in the encoder's
        malloc error."""
        animation, canvas = self.animation, self.canvas
        if animation.width is None:
            width, height = canvas.width * animation.scale, canvas.height * animation.scale
            if round(width) > MAX_WIDTH or round(height) > MAX_HEIGHT:
                fits = largest_scale(canvas.width, canvas.height)
                raise ValueError(
                    f"animation.scale {animation.scale:g} makes {round(width)}x{round(height)} "
                    f"movies from the {canvas.width}x{canvas.height} canvas, over the "
                    f"{MAX_WIDTH}x{MAX_HEIGHT} limit: use animation.scale {fits:.3g} or less, "
                    "or set animation.width and animation.height"
                )
        return self

    @property
    def requested_collections(self) -> frozenset[str]:
        return self._requested

    def figure_page(self, scale: float = 1.0) -> tuple[float, float, float]:
        """The figure's page: width and height in inches, and dots per inch (times ``scale``):
        ``figure.size`` at ``figure.dpi``, else the canvas at 100 pixels per inch."""
        if self.figure.size is not None:
            width, height = self.figure.size
            return width, height, self.figure.dpi * scale
        return self.canvas.width / 100.0, self.canvas.height / 100.0, 100.0 * scale

    def figure_pixels(self, scale: float = 1.0) -> tuple[int, int]:
        """The pixels of the figure's PNG (and of the page its raster panels are cut from)."""
        width, height, dpi = self.figure_page(scale)
        return round(width * dpi), round(height * dpi)

    def figure_line_scale(self, scale: float = 1.0) -> float:
        """What a figure's 3D panels multiply the style's line widths (pixels at 1080 lines)
        by: the figure's pixel height over 1080 on a canvas page; on a page in inches, the
        pixels of PAGE_LINE points per style pixel at the page's dpi, as its projections."""
        if self.figure.size is not None:
            return PAGE_LINE * self.figure.dpi * scale / 100.0
        return self.figure_pixels(scale)[1] / 1080.0

    def digest(self) -> str:
        """A short, stable digest of every setting, written into each PNG."""
        import hashlib

        blob = self.model_dump_json(exclude={"name"}).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def style_schema() -> dict[str, Any]:
    return Style.model_json_schema()


__all__ = ["RGB", "Style", "parse_color", "style_schema"]
