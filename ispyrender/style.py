"""Styles: validated settings for how events are drawn.

A :class:`Style` is a pydantic model built from a YAML preset (``configs/*.yaml``) or a user's
file, plus ``--set path.to.key=value`` overrides. It is passed explicitly to every stage that
needs it; there is no global style. Every field is validated: unknown keys, wrong types and
values out of range are errors that name the key, the file and line, and the allowed values.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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


class PartStyle(StrictModel):
    """How one detector part is drawn."""

    show: bool = True
    color: Color = "grey"
    opacity: Opacity = 0.1
    representation: Literal["surface", "wireframe"] = "surface"


class Detector(StrictModel):
    show: bool = True
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


class Style(StrictModel):
    """A complete, validated style."""

    name: str = "custom"
    canvas: Canvas = Canvas()
    camera: Camera = Camera()
    labels: Labels = Labels()
    collections: Collections = Collections()
    detector: Detector = Detector()
    output: Output = Output()

    def digest(self) -> str:
        """A short, stable digest of every setting, written into each PNG."""
        import hashlib

        blob = self.model_dump_json(exclude={"name"}).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def style_schema() -> dict[str, Any]:
    return Style.model_json_schema()
