"""The wording of style errors: where a setting came from, what is wrong with it, and what is
allowed (keys, ranges and choices read from the style's JSON schema)."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

from ispyrender.config.style import Style, excerpt
from ispyrender.errors import StyleError

Key = str | int
KeyPath = tuple[Key, ...]
# Where a setting came from: a label ("my.yaml", "preset 'outreach'", "--set canvas.width=0")
# and a 1-based line (None for overrides), so errors can point at the exact spot.
Origin = tuple[str, int | None]


class Problem(NamedTuple):
    """One mistake in a style: where it is and what is wrong."""

    label: str  # the file ("my.yaml", "preset 'paper'") or the override ("--set x=1")
    line: int | None  # 1-based line in that file; None for overrides
    text: str  # "canvas.width = 1: must be at least 16 (allowed 16..7680)"

    @property
    def where(self) -> str:
        return f"{self.label} line {self.line}" if self.line else self.label

    @property
    def message(self) -> str:
        """The problem as a one-line error of its own."""
        return f"style error in {self.where}: {self.text}"


class StyleErrors(StyleError):
    """Several mistakes in one style, all reported at once (as rendercv reports a CV's
    validation errors): the count on the first line, then one mistake a line, each with its
    file and line (or its --set), so that one round of editing fixes them all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [f"  {p.where}: {' '.join(p.text.split())}" for p in self.problems]
        # Not IspyError.__init__, which joins lines: here the line breaks are the format.
        Exception.__init__(self, "\n".join([f"{len(lines)} style errors:", *lines]))


def raise_problems(problems: Sequence[Problem], order: Sequence[str] = ()) -> None:
    """Raise the problems found, if any: one as the usual one-line StyleError, several as one
    StyleErrors listing them all. ``order`` lists the labels as they were applied (base files
    first, then the --set options): problems sort by it, then by line, so a base's mistakes
    come before those of the file built on it, and overrides come last."""
    if not problems:
        return

    def key(p: Problem) -> tuple[int, int, int]:
        index = order.index(p.label) if p.label in order else len(order)
        return (1 if p.label.startswith("--set") else 0, index, p.line or 0)

    ordered = sorted(problems, key=key)
    if len(ordered) == 1:
        raise StyleError(ordered[0].message)
    raise StyleErrors(ordered)


def describe(error: Any, origins: dict[KeyPath, Origin]) -> Problem:
    """A pydantic validation error as a Problem: where the setting came from (file and line,
    or the --set), the key path, and what is wrong and what is allowed."""
    loc: KeyPath = tuple(error["loc"])
    label, line = _origin(loc, origins)
    # A check of the whole style (its message names the keys) has no key path of its own.
    text = f"{dotted(loc)}{_problem(error, loc)}" if loc else _problem(error, loc).lstrip(": ")
    return Problem(label, line, text)


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
        parent = properties(_schema_at(loc[:-1])) or {}
        allowed = list(parent) + (["base"] if len(loc) == 1 else [])
        return f": {unknown_key(str(loc[-1]), allowed)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        keys = ", ".join(properties(field) or {})
        return f": expected a section of keys ({keys}), got {show(value)}"
    shown = f" = {show(value)}"
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
        limits = f" ({_range(field)})" if _bounds(field) else ""
        return f": expected {expected}, got {show(value)}{limits}"
    return f"{shown}: {error['msg']}"


def unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}; allowed: {', '.join(allowed)}"


# ---- the JSON schema, used to list keys, ranges and choices in messages ---------------------


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return Style.model_json_schema()


def _deref(node: dict[str, Any] | None) -> dict[str, Any] | None:
    """Follow $ref, and unwrap `X | None` to X, so callers see the interesting part."""
    while node is not None:
        if "$ref" in node:
            node = schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]]
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


def properties(node: dict[str, Any] | None) -> dict[str, Any] | None:
    node = _deref(node)
    return node.get("properties") if node is not None else None


def _schema_at(loc: KeyPath) -> dict[str, Any] | None:
    node: dict[str, Any] | None = schema()
    for key in loc:
        if isinstance(key, int):
            # An entry of a list (e.g. animation.keyframes[0]): its schema is the items'.
            items = _deref(node)
            node = items.get("items") if items is not None else None
            if node is None:
                return None
            continue
        props = properties(node)
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


def dotted(path: KeyPath) -> str:
    """``canvas.width``, ``figure.panels[0].view``; a long key (a hostile file's) cut short."""
    return ".".join(
        f"[{k}]" if isinstance(k, int) else (k if len(k) <= 40 else f"{k[:37]}...") for k in path
    ).replace(".[", "[")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def show(value: Any) -> str:
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
    if isinstance(value, str):
        return excerpt(value)  # a short excerpt: never a whole file in a message
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return f"the single value {show(value)}"
