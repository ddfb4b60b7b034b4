"""Named selections: YAML files in ``configs/selections`` (``description:`` and ``where:``),
used as ``--where @dimuon``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ispyrender.errors import SelectionError
from ispyrender.selection.where_parse import NAME, Expr, parse_where

__all__ = ["SELECTIONS_PACKAGE", "NamedSelection", "list_selections", "load_selection"]

SELECTIONS_PACKAGE = "ispyrender.configs.selections"


# -- named selections -------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedSelection:
    """A selection shipped in ``configs/selections/<name>.yaml``."""

    name: str
    description: str
    where: str


def _selection_files() -> dict[str, Any]:
    from importlib import resources

    folder = resources.files(SELECTIONS_PACKAGE)
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".yaml")
    }


def _read_selection(name: str, resource: Any) -> NamedSelection:
    import yaml

    label = f"selection file {name}.yaml"
    try:
        data = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SelectionError(f"{label} is not valid YAML ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise SelectionError(f"{label} must be a mapping with 'description' and 'where' keys")
    unknown = sorted(set(map(str, data)) - {"description", "where"})
    if unknown:
        raise SelectionError(
            f"{label}: unknown key(s) {', '.join(unknown)}; allowed: description, where"
        )
    for key in ("description", "where"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise SelectionError(f"{label}: '{key}' must be a non-empty string")
    return NamedSelection(name, " ".join(data["description"].split()), data["where"].strip())


def list_selections() -> list[NamedSelection]:
    """The named selections shipped with ispyrender, sorted by name."""
    return [_read_selection(name, res) for name, res in sorted(_selection_files().items())]


def load_selection(name_or_expression: str) -> Expr:
    """Parse ``--where`` text, looking up named selections.

    The rule: ``@name`` always means the named selection ``name`` (an error if there is none);
    a bare word that is the name of a shipped selection (``dimuon``) means it too; anything
    else is an expression. A boolean branch that happens to share a selection's name can still
    be used by writing it in parentheses: ``(dimuon)``.
    """
    text = name_or_expression.strip()
    files = _selection_files()
    if text.startswith("@") or (NAME.fullmatch(text) and text in files):
        name = text.removeprefix("@").strip()
        if name not in files:
            known = ", ".join(f"@{n}" for n in sorted(files)) or "none"
            raise SelectionError(
                f"--where: unknown named selection '@{name}'; available: {known} (see "
                "'ispyrender selections')"
            )
        selection = _read_selection(name, files[name])
        expr = parse_where(selection.where, origin=f"selection '@{name}'")
        return Expr(text=expr.text, root=expr.root, origin=expr.origin, name=name)
    return parse_where(name_or_expression)
