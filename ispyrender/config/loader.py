"""Loading styles: presets, user files, inheritance, ``--set`` overrides.

Every mistake names the file and line (or the override), the key path and what is allowed; the
wording is :mod:`ispyrender.config.messages`'. All the mistakes of a style are reported at
once: one is a one-line :class:`~ispyrender.errors.StyleError`, several a
:class:`~ispyrender.config.messages.StyleErrors` with the count first and one mistake a line.
Only what stops reading altogether (a file that is not YAML, a base that does not exist or
inherits from itself) is reported alone, at once.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ispyrender.config.messages import (
    Key,
    KeyPath,
    Origin,
    Problem,
    describe,
    dotted,
    kind,
    properties,
    raise_problems,
    schema,
    show,
    unknown_key,
)
from ispyrender.config.style import TEXT_LIMIT, UNPRINTABLE, Style, excerpt
from ispyrender.errors import StyleError

# --------------------------------------------------------------------------------------------
# Loading: presets, user files, inheritance, --set overrides, and one-line error messages.
# --------------------------------------------------------------------------------------------

PRESETS_PACKAGE = "ispyrender.configs"
DEFAULT_BASE = "publication"
#: A style is a short YAML file: anything larger is the wrong file (or a hostile one).
MAX_FILE_BYTES = 1 << 20
#: The deepest a document may nest (aliases included); the deepest setting is 4 levels down.
MAX_NESTING = 32
#: The most values a document may stand for once its aliases are expanded: a few hundred
#: bytes of nested aliases ("billion laughs") would otherwise stand for billions.
MAX_VALUES = 100_000


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


def load_style(
    name_or_path: str | None = None,
    overrides: Sequence[str] = (),
    default_base: str = "publication",
) -> Style:
    """Build a validated Style from a preset name or a YAML file, then ``--set`` overrides.

    ``name_or_path`` is a preset name (see :func:`list_presets`) or the path of a YAML file;
    None means the ``publication`` preset. A file may say ``base: <preset or file>`` to start
    from another style (deep merge); a user file without ``base`` starts from ``default_base``
    (a command's own preset: paper for figures), and the style records that it did
    (``Style.implicit_base``). Each override is ``path.to.key=value`` with the value read as YAML.

    Raises StyleError naming the file and line (or the override), the key path and what is
    allowed; StyleErrors, one a line, when there are several mistakes.
    """
    problems: list[Problem] = []
    applied: list[str] = []  # the files, base first: the order their problems are listed in
    source = _resolve(name_or_path or DEFAULT_BASE, relative_to=None, where=None)
    implicit: list[str] = []
    data, origins = _load_chain(source, (), problems, applied, default_base, implicit)
    # Style.name says which style made a picture: the preset name or the file's stem, unless
    # the file names itself (bases never leak their name, see _load_chain).
    if "name" not in data:
        # Named after a file: its name may hold what a name in a style may not.
        data["name"] = UNPRINTABLE.sub("?", source.name)[:TEXT_LIMIT]
        origins[("name",)] = (source.label, None)
    for text in overrides:
        _apply_override(data, origins, text, problems)
    style = _validate(data, origins, problems, [*applied, *(_set_label(t) for t in overrides)])
    style._implicit_base = implicit[0] if implicit else None
    return style


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
            with self.path.open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise StyleError(
                f"style error in {self.path}: cannot be read ({exc.strerror or exc})"
            ) from None
        if len(data) > MAX_FILE_BYTES:
            raise StyleError(
                f"style error in {self.path}: larger than {MAX_FILE_BYTES // 2**20} MB; a style "
                "is a short YAML file: check the path"
            )
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StyleError(
                f"style error in {self.path}: not a UTF-8 text file ({exc.reason})"
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
    # From a `base:` line the message names that key, like every other error in a file.
    prefix = f"style error in {where}: base:" if where else "style error:"
    try:
        path = Path(ref).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        if path.is_file():
            return _Source(path=path)
        folder = path.is_dir()
    except (OSError, ValueError, RuntimeError) as exc:
        # A name over the file-name limit, a NUL, an unknown ~user.
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise StyleError(
            f"{prefix} {excerpt(ref, 300)} cannot be a style file ({reason}); give the path of a "
            f"YAML file or a preset: {', '.join(presets)}"
        ) from None
    hint = ""
    if not _looks_like_path(ref):
        close = difflib.get_close_matches(ref, presets, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    what = "is a folder, not a style file" if folder else "is neither a style file nor a preset"
    raise StyleError(f"{prefix} {excerpt(ref, 300)} {what}{hint}; presets: {', '.join(presets)}")


# ---- reading one document ------------------------------------------------------------------


def _read_document(
    source: _Source, problems: list[Problem]
) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    """Parse one YAML document into plain data plus the line of every key path; keys that
    cannot be used (duplicates, non-text keys) are added to ``problems`` and left out."""
    import yaml

    text = source.read()
    lines: dict[KeyPath, int] = {}
    loader = None
    try:
        loader, node = _compose(text)
        if node is not None:
            # Walk the composed nodes before constructing: they carry the line marks, and
            # duplicate keys (which PyYAML would silently resolve to the last) are still visible.
            _walk_node(node, (), lines, source.label, problems)
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise StyleError(f"style error in {source.label} line {exc.line}: {exc}") from None
    except yaml.reader.ReaderError as exc:
        raise StyleError(f"style error in {source.label}{_at(text, exc)}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = _clip(exc.problem or exc.context or "cannot be parsed")
        raise StyleError(f"style error in {source.label}{at}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise StyleError(f"style error in {source.label}: invalid YAML: {_clip(exc)}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:  # an empty file (or only comments) is a valid style: all defaults
        return {}, lines
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else 1
        raise StyleError(
            f"style error in {source.label} line {line}: the top level must be a mapping of "
            f"keys such as 'canvas:' and 'collections:', got {kind(data)}"
        )
    return data, lines


# ---- YAML with limits ------------------------------------------------------------------------


class _Refused(Exception):
    """A document beyond the limits (nesting, aliases); ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _clip(text: object, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _at(text: str, exc: Any) -> str:
    """Where PyYAML's reader stopped, and why: ' line 3 column 5: ...'."""
    position = min(max(int(getattr(exc, "position", 0) or 0), 0), len(text))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    character = getattr(exc, "character", None)  # the code point (an int), or a byte
    if isinstance(character, str) and len(character) == 1:
        character = ord(character)
    what = (
        f"character U+{character:04X} is not allowed in YAML; remove it"
        if isinstance(character, int) and getattr(exc, "encoding", None) == "unicode"
        else f"invalid YAML: {_clip(getattr(exc, 'reason', exc))}"
    )
    return f" line {line} column {column}: {what}"


@functools.lru_cache(maxsize=1)
def _loader_class() -> type:
    """PyYAML's SafeLoader with limits: nesting, and numbers and dates it cannot hold."""
    import yaml

    class Loader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.depth += 1
            try:
                if self.depth > MAX_NESTING:
                    line = self.peek_event().start_mark.line + 1
                    raise _Refused(line, f"nested deeper than {MAX_NESTING} levels; flatten it")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            if node.tag == "tag:yaml.org,2002:int" and len(str(node.value)) > 64:
                raise _Refused(
                    node.start_mark.line + 1,
                    f"the number {excerpt(node.value, 30)} is too long; write at most 64 digits",
                )
            try:
                return super().construct_object(node, deep)
            except (ValueError, OverflowError, TypeError) as exc:  # e.g. a date 2024-13-45
                raise _Refused(
                    node.start_mark.line + 1,
                    f"{excerpt(node.value, 30) if isinstance(node.value, str) else 'this value'}"
                    f" cannot be read ({_clip(exc, 80)}); quote it to mean text",
                ) from None

    return Loader


def _compose(text: str) -> tuple[Any, Any]:
    """A loader and the document's node tree, within the limits: raises _Refused for a
    document nested too deeply or whose aliases stand for too many values (or themselves),
    and PyYAML's errors for what is not YAML. The caller disposes of the loader."""
    loader = _loader_class()(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_size(node)
    except BaseException:
        loader.dispose()
        raise
    return loader, node


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_size(root: Any) -> None:
    """Measure the tree that the nodes (shared through aliases) stand for, without expanding
    it: its size and height, each node measured once; a node inside itself is refused."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        line = node.start_mark.line + 1
        if finished:
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            height[key] = 1 + max((height[id(c)] for c in children), default=0)
            open_nodes.discard(key)
            if height[key] > MAX_NESTING:
                raise _Refused(
                    line, f"nested deeper than {MAX_NESTING} levels through aliases; flatten it"
                )
            if size[key] > MAX_VALUES:
                raise _Refused(
                    line,
                    f"its aliases (*name) stand for more than {MAX_VALUES} values; a style "
                    "needs far fewer: write the values out",
                )
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise _Refused(line, "an alias (*name) refers to the value that holds it")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)


def _load_value(text: str) -> Any:
    """A --set value as YAML, within the same limits as a file."""
    loader, node = _compose(text)
    try:
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _walk_node(
    node: Any, path: KeyPath, lines: dict[KeyPath, int], label: str, problems: list[Problem]
) -> None:
    import yaml

    if len(path) > 32:  # a recursive alias (&a [*a]) would otherwise never end
        return
    if isinstance(node, yaml.MappingNode):
        seen: set[Key] = set()
        kept = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` keys
                kept.append((key_node, value_node))
                continue
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith(":str")):
                name = dotted(path) or "the top level"
                shown = (
                    excerpt(key_node.value, 30)
                    if isinstance(key_node, yaml.ScalarNode)
                    else "a list"
                    if isinstance(key_node, yaml.SequenceNode)
                    else "a mapping"
                )
                text = f"{name}: key {shown} must be a plain name"
                problems.append(Problem(label, line, text))
                continue
            key = key_node.value
            if key in seen:
                text = (
                    f"{dotted((*path, key))}: duplicate key (a later one would silently "
                    "replace the earlier)"
                )
                problems.append(Problem(label, line, text))
                continue
            seen.add(key)
            kept.append((key_node, value_node))
            child: KeyPath = (*path, key)
            lines[child] = line
            _walk_node(value_node, child, lines, label, problems)
        # What was reported is left out of the document, so that it is reported once (not
        # again by the validation) and the rest of the file is still checked.
        node.value = kept
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            item_path: KeyPath = (*path, index)
            lines[item_path] = item.start_mark.line + 1
            _walk_node(item, item_path, lines, label, problems)


# ---- inheritance ---------------------------------------------------------------------------


def _load_chain(
    source: _Source,
    chain: tuple[str, ...],
    problems: list[Problem],
    applied: list[str],
    default_base: str = DEFAULT_BASE,
    implicit: list[str] | None = None,
) -> tuple[dict[str, Any], dict[KeyPath, Origin]]:
    """Load ``source`` on top of its base (recursively), with the origin of every key; the
    files' labels are appended to ``applied`` base first. A file without ``base`` starts from
    ``default_base``, noted in ``implicit``."""
    data, lines = _read_document(source, problems)
    origins: dict[KeyPath, Origin] = {path: (source.label, line) for path, line in lines.items()}
    chain = (*chain, source.key)
    where = source.label
    if "base" in data:
        base_ref = data.pop("base")
        base_line = lines.get(("base",))
        where = f"{source.label} line {base_line}" if base_line else source.label
        if base_ref is None:  # `base: null`: start from the model's own defaults
            applied.append(source.label)
            return data, origins
        if not isinstance(base_ref, str) or not base_ref.strip():
            raise StyleError(
                f"style error in {where}: base: expected a preset name or a file path, "
                f"got {show(base_ref)}; presets: {', '.join(list_presets())}"
            )
        relative_to = source.path.parent if source.path is not None else None
        base = _resolve(base_ref.strip(), relative_to=relative_to, where=where)
    elif source.preset is None:
        base = _Source(preset=default_base)  # user files start from the command's preset
        if implicit is not None:
            implicit.append(default_base)
    else:
        applied.append(source.label)
        return data, origins
    if base.key in chain:
        raise StyleError(f"style error in {where}: base: {base.name!r} inherits from itself")
    base_data, base_origins = _load_chain(base, chain, problems, applied, default_base, implicit)
    applied.append(source.label)
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


def _apply_override(
    data: dict[str, Any], origins: dict[KeyPath, Origin], text: str, problems: list[Problem]
) -> None:
    """Apply one ``path.to.key=value`` override to ``data`` in place; one that names no
    setting is added to ``problems`` and skipped."""
    import yaml

    label = _set_label(text)
    key_text, sep, value_text = text.partition("=")
    keys = [part.strip() for part in key_text.split(".")]
    if not sep or not all(keys):
        problems.append(Problem(label, None, "expected path.to.key=value, e.g. canvas.width=800"))
        return
    path_problem = _check_override_path(keys)
    if path_problem:
        problems.append(Problem(label, None, path_problem))
        return
    value_text = value_text.strip()
    # YAML would read '#000000' as a comment (so: null) and '' as null; both are meant as text.
    if value_text == "" or value_text.startswith("#"):
        value: Any = value_text
    else:
        try:
            value = _load_value(value_text)
        except _Refused as exc:
            problems.append(Problem(label, None, f"{dotted(tuple(keys))}: {exc}"))
            return
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


def _set_label(text: str) -> str:
    """How a --set option is named in messages: whole, or its start when it is long."""
    return f"--set {text}" if len(text) <= 80 else f"--set {text[:60]}... ({len(text)} characters)"


def _mark_origin(origins: dict[KeyPath, Origin], path: KeyPath, value: Any, origin: Origin) -> None:
    origins[path] = origin
    if isinstance(value, dict):
        for key, item in value.items():
            _mark_origin(origins, (*path, key), item, origin)


def _check_override_path(keys: list[str]) -> str | None:
    """What is wrong with an override into keys the model does not have (listing those it
    does), or None."""
    node: dict[str, Any] | None = schema()
    for depth, key in enumerate(keys):
        props = properties(node)
        if props is None:
            done = dotted(tuple(keys[:depth]))
            return f"{done} is a setting, not a section: use --set {done}=VALUE"
        if key not in props:
            return f"{dotted(tuple(keys[: depth + 1]))}: {unknown_key(key, list(props))}"
        node = props[key]
    return None


# ---- validation and messages ---------------------------------------------------------------


def style_from_data(data: dict[str, Any] | Style, overrides: Sequence[str] = ()) -> Style:
    """A Style from plain settings (e.g. another Style's ``model_dump()``, or that Style
    itself, whose requested collections then carry over) and ``--set``-style overrides,
    validated as a loaded style is."""
    import copy

    requested: frozenset[str] = frozenset()
    if isinstance(data, Style):
        requested = data.requested_collections
        data = data.model_dump()
    data = copy.deepcopy(data)
    origins: dict[KeyPath, Origin] = {}
    problems: list[Problem] = []
    for text in overrides:
        _apply_override(data, origins, text, problems)
    style = _validate(data, origins, problems, [_set_label(text) for text in overrides])
    style._requested = style.requested_collections | requested
    return style


def _validate(
    data: dict[str, Any],
    origins: dict[KeyPath, Origin],
    problems: list[Problem],
    order: Sequence[str],
) -> Style:
    """The Style, or every problem at once: those found while reading and every validation
    error, in the order of the files and their lines, then the overrides."""
    from pydantic import ValidationError

    style: Style | None = None
    try:
        style = Style.model_validate(data)
    except ValidationError as exc:
        problems = [*problems, *(describe(error, origins) for error in exc.errors())]
    # Raised outside the except block: the user sees the style's mistakes, not pydantic's.
    raise_problems(problems, order)
    assert style is not None
    style._requested = requested_collections(origins)
    return style


def requested_collections(origins: dict[KeyPath, Origin]) -> frozenset[str]:
    """The collections (``collections.<key>``) that a user's file or a ``--set`` names: those
    whose absence from an input is worth a warning. Built-in presets name every collection,
    so their settings do not count."""
    return frozenset(
        str(path[1])
        for path, (label, _line) in origins.items()
        if len(path) >= 2 and path[0] == "collections" and not label.startswith("preset ")
    )
