"""The style reference: every key of a style, its type, allowed values, default and meaning,
generated from the schema itself (:mod:`ispyrender.config.style`), so that it cannot drift.

The meaning of a key is the comment written beside or above it in the schema's source, and a
section's is its class docstring. ``configs/STYLE_REFERENCE.md`` is this text (a test checks
that it is current); ``ispyrender styles --reference`` prints it.
"""

from __future__ import annotations

import inspect
import io
import json
import re
import tokenize
import types
import typing
from collections.abc import Iterator
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ispyrender.config.style import Style

__all__ = ["style_reference"]

_HEADER = """# Style reference

Every key a style file or `--set` can give, generated from the schema (`python -m
ispyrender.config.reference`, or `ispyrender styles --reference`): its type and allowed values,
its default before any preset, and what it does. A preset (`configs/*.yaml`) changes some of
these defaults; `ispyrender styles --show NAME` prints a preset in full. How styles are
written and merged: [README.md](README.md).
"""


def _comments(cls: type) -> dict[str, str]:
    """The comment of each field of ``cls`` in its source: the block of comment lines right
    above it, then the one at the end of its line."""
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return {}
    found: dict[str, str] = {}
    above: list[str] = []
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("#").strip())
            continue
        match = re.match(r"    (\w+)\s*:", line)
        if match and not line.startswith("     "):
            inline = [
                tok.string.lstrip("#").strip()
                for tok in _tokens(line.strip())
                if tok.type == tokenize.COMMENT
            ]
            found[match.group(1)] = " ".join([*above, *inline]).strip()
        above = []
    return found


def _tokens(text: str) -> Iterator[tokenize.TokenInfo]:
    try:
        yield from tokenize.generate_tokens(io.StringIO(text).readline)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return


def _type_text(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_text(args[0])
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_text(a) for a in args if a is not type(None)]
        text = " or ".join(parts)
        return f"{text} or null" if type(None) in args else text
    if origin in (list, tuple):
        inner = ", ".join(_type_text(a) for a in args if a is not Ellipsis)
        return f"list of {inner}" if origin is list else f"[{inner}]"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"{annotation.__name__} (below)"
        return {"str": "text", "bool": "true \\| false", "int": "whole number"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation)


#: How each kind of constraint reads: its class, the attribute holding its value, the text.
_MARKS = (
    (Ge, "ge", "≥ {}"),
    (Gt, "gt", "> {}"),
    (Le, "le", "≤ {}"),
    (Lt, "lt", "< {}"),
    (MinLen, "min_length", "at least {} items"),
    (MaxLen, "max_length", "at most {} items"),
)


def _bounds(info: FieldInfo) -> str:
    """The limits a field's value must keep (from its Field constraints, nested too)."""
    marks: list[str] = []

    def walk(metadata: list[Any]) -> None:
        for m in metadata:
            if isinstance(m, FieldInfo):
                walk(m.metadata)
            for kind, attribute, text in _MARKS:
                if isinstance(m, kind):
                    marks.append(text.format(getattr(m, attribute)))

    walk(info.metadata)

    def nested(annotation: Any) -> None:
        for arg in typing.get_args(annotation):
            if typing.get_origin(arg) is typing.Annotated:
                walk(list(typing.get_args(arg)[1:]))
            else:
                nested(arg)

    nested(info.annotation)
    return ", ".join(dict.fromkeys(marks))


def _default(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "(below)"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        value = [v.model_dump(exclude_defaults=True) for v in value]
    text = json.dumps(value, ensure_ascii=False) if value is not None else "null"
    text = text.replace("|", "\\|")
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _family(cls: type[BaseModel]) -> type[BaseModel] | None:
    """The base shared by three or more sub-model fields of ``cls`` (the detector's parts,
    the collections): such fields are listed once, as ``path.<name>.key``."""
    kinds = [
        f.annotation
        for f in cls.model_fields.values()
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)
    ]
    if len(kinds) < 3:
        return None
    shared = [b for b in kinds[0].__mro__ if all(issubclass(k, b) for k in kinds)]
    base = next(b for b in shared if isinstance(b, type) and issubclass(b, BaseModel))
    return base if base.__name__ != "StrictModel" else None


def _table(cls: type[BaseModel], prefix: str, instance: BaseModel | None = None) -> list[str]:
    comments: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if isinstance(klass, type) and issubclass(klass, BaseModel):
            comments.update(_comments(klass))
    family = _family(cls)
    rows = ["| key | type | allowed | default | what it does |", "|---|---|---|---|---|"]
    for name, info in cls.model_fields.items():
        annotation = info.annotation
        if family is not None and isinstance(annotation, type) and issubclass(annotation, family):
            continue  # listed in the family's own section
        if instance is not None:
            default = _default(getattr(instance, name))
        elif info.is_required():
            default = "required"
        else:
            default = _default(info.get_default(call_default_factory=True))
        what = comments.get(name, "")
        if not what and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            what = _doc(annotation)
        rows.append(
            f"| `{prefix}{name}` | {_type_text(annotation)} | {_bounds(info)} | "
            f"{default} | {_cell(what)} |"
        )
    return rows


def _doc(cls: type) -> str:
    own = cls.__dict__.get("__doc__")  # not a base class's
    return " ".join(inspect.cleandoc(own).split()) if own else ""


def _sections(cls: type[BaseModel], path: str, instance: BaseModel | None) -> Iterator[list[str]]:
    """One section per model, depth first: the style, its sections, their sub-sections
    (``instance`` holds the defaults; None for list items, whose fields say their own)."""
    family = _family(cls)
    if family is None or len(_table(cls, "")) > 2:
        table = _table(cls, f"{path}." if path else "", instance)
        yield [f"## `{path or 'style'}`", "", _doc(cls), "", *table]
    if family is not None:
        assert instance is not None
        yield from _members(cls, path, instance, family)
    for name, info in cls.model_fields.items():
        value = (
            getattr(instance, name)
            if instance is not None
            else info.get_default(call_default_factory=True)
        )
        if isinstance(value, BaseModel) and not (family and isinstance(value, family)):
            yield from _sections(type(value), f"{path}.{name}".lstrip("."), value)
        elif isinstance(value, list) and _item_model(info.annotation) is not None:
            model = _item_model(info.annotation)
            assert model is not None
            yield from _sections(model, f"{path}.{name}[]".lstrip("."), None)


def _item_model(annotation: Any) -> type[BaseModel] | None:
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        found = _item_model(arg)
        if found is not None:
            return found
    return None


def _members(
    cls: type[BaseModel], path: str, instance: BaseModel, family: type[BaseModel]
) -> Iterator[list[str]]:
    """A family of sub-models (the collections, the detector's parts): which there are, with
    each one's own defaults, then each kind's keys once."""
    comments = _comments(cls)
    rows = [
        f"## `{path}.<name>`",
        "",
        f"{_doc(cls) or _doc(family)} Each has the keys of its kind (below); the defaults here "
        "are each one's own.",
        "",
        "| name | kind | its defaults | notes |",
        "|---|---|---|---|",
    ]
    kinds: dict[type[BaseModel], list[str]] = {}
    for name in cls.model_fields:
        value = getattr(instance, name)
        if not isinstance(value, family):
            continue
        kinds.setdefault(type(value), []).append(name)
        own = value.model_dump(exclude_defaults=True)
        shown = ", ".join(f"{k}: {json.dumps(v)}" for k, v in own.items())
        note = _cell(" ".join(filter(None, [comments.get(name, ""), _source_note(name)])))
        rows.append(f"| `{name}` | {type(value).__name__} | {_cell(shown)} | {note} |")
    yield rows
    for kind, names in kinds.items():
        listed = ", ".join(f"`{n}`" for n in names)
        yield [
            f"### {kind.__name__}: {listed}",
            "",
            _doc(kind),
            "",
            *_table(kind, f"{path}.<name>."),
        ]


def _source_note(name: str) -> str:
    """Where a collection comes from: its NanoAOD branches, its iSpy collections, its IDs."""
    from ispyrender.config.collections import COLLECTIONS

    info = next((c for c in COLLECTIONS if c.key == name), None)
    if info is None:
        return ""
    parts = [f"NanoAOD `{info.nanoaod}_*`" if info.nanoaod else ""]
    parts.append(f"iSpy {', '.join(info.ispy)}" if info.ispy else "")
    if info.ids:
        parts.append(f"id: {', '.join(info.ids)} (default {info.default_id})")
    return "; ".join(p for p in parts if p) + ("." if any(parts) else "")


def style_reference() -> str:
    """The reference as Markdown."""
    blocks = [_HEADER.strip()]
    for section in _sections(Style, "", Style()):
        blocks.append("\n".join(section).strip())
    return "\n\n".join(blocks) + "\n"


if __name__ == "__main__":
    print(style_reference(), end="")
