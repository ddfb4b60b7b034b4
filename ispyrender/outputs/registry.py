"""Every output format in one table: what the CLI help, the Python API, the output plan and the
batch path read.

A format is a :class:`Product`: its name (what ``--format`` takes), the family of jobs that make
it (``event``: one file set per event by ``render`` and batches; ``figure``: a publication
figure; ``movie``: ``animate``), the files it writes per event (the first is the event's main
file), whether it needs the headless OpenGL stack, and one line for the help. Adding a format
is one entry here plus its own writing code (:mod:`.products` for event files, the figure
encoder or the movie writer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ispyrender.errors import UsageError

__all__ = [
    "PRODUCTS",
    "Family",
    "Product",
    "check_format",
    "format_help",
    "formats",
    "register",
    "suffix_formats",
]

Family = Literal["event", "figure", "movie"]


@dataclass(frozen=True)
class Product:
    name: str
    family: Family
    suffixes: tuple[str, ...]
    needs_gl: bool
    help: str
    #: Event formats: "module:function" that writes one event's files (resolved when used,
    #: so that reading this table imports nothing heavy).
    writer: str | None = None
    detector: bool = False  # the writer needs the detector's primitives

    @property
    def suffix(self) -> str:
        """The suffix of the event's main file."""
        return self.suffixes[0]


_W = "ispyrender.outputs.products"

#: Every format, in the order the help lists them.
PRODUCTS: tuple[Product, ...] = (
    Product("png", "event", (".png",), True, "a labelled picture", f"{_W}:write_png"),
    Product("phoenix", "event", (".json",), False, "HSF Phoenix JSON", f"{_W}:write_phoenix"),
    Product(
        "glb", "event", (".glb",), False, "binary glTF with the detector", f"{_W}:write_glb", True
    ),
    Product(
        "obj",
        "event",
        (".obj", ".mtl"),
        False,
        "OBJ + MTL with the detector",
        f"{_W}:write_obj",
        True,
    ),
    Product(
        "html",
        "event",
        (".html",),
        False,
        "a page to turn the event with the mouse, offline",
        f"{_W}:write_html",
        True,
    ),
    Product("png", "figure", (".png",), False, "raster"),
    Product("svg", "figure", (".svg",), False, "vector, the 3D panel as a raster"),
    Product("pdf", "figure", (".pdf",), False, "vector, the 3D panel as a raster"),
    Product("eps", "figure", (".eps",), False, "vector, the 3D panel as a raster"),
    Product("mp4", "movie", (".mp4",), True, "H.264"),
    Product("webm", "movie", (".webm",), True, "VP9, or VP8 where FFmpeg lacks VP9"),
    Product("gif", "movie", (".gif",), True, "animated GIF"),
)

#: Figures and movies share names with event formats ("png"): each family has its own map.
_FAMILIES: dict[Family, dict[str, Product]] = {
    family: {p.name: p for p in PRODUCTS if p.family == family}
    for family in ("event", "figure", "movie")
}


def register(product: Product) -> None:
    """Add a format (or replace one of the same name and family): from then on the CLI, the
    API, the output plan and batches take it."""
    _FAMILIES[product.family][product.name] = product


def formats(family: Family) -> dict[str, Product]:
    """The formats of one family, by name, in the order of the table."""
    return _FAMILIES[family]


def check_format(name: str, family: Family = "event") -> Product:
    """The product called ``name`` in ``family``, or a UsageError listing the allowed ones."""
    table = _FAMILIES[family]
    if name not in table:
        raise UsageError(f"--format {name!r} is not known: use {', '.join(table)}")
    return table[name]


def format_help(family: Family) -> str:
    """The help of a --format option, made from the table: 'png (a labelled picture); ...'."""
    return "; ".join(f"{p.name} ({p.help})" for p in _FAMILIES[family].values()) + "."


def suffix_formats(family: Family = "event") -> dict[str, Product]:
    """The products of a family by the suffix of their main file ('.json' -> phoenix)."""
    return {p.suffix: p for p in _FAMILIES[family].values()}
