"""The ``--where`` selection language: conditions over NanoAOD branches, evaluated with numpy.

Examples::

    nMuon >= 2 and Muon_pt[0] > 20 and abs(Muon_eta[1]) < 2.4
    any(Jet_pt > 30 and abs(Jet_eta) < 2.5) or MET_pt > 100
    20 < Muon_pt[-1] <= 50 and sum(Jet_pt) / len(Jet_pt) > 40

The text is tokenised and parsed by hand (a Pratt parser) into a small tree that is then
evaluated on numpy arrays one chunk of events at a time. User text is never handed to Python's
``eval``/``compile``: there are no strings, attribute access, assignments, lambdas or calls
other than the few functions listed below, so no input can run code.

Grammar (lowest precedence first; it is Python's for the operators it shares)::

    condition := disjunct (("or" | "||") disjunct)*
    disjunct  := conjunct (("and" | "&&") conjunct)*
    conjunct  := ("not" | "!") conjunct | compared
    compared  := sum (CMP sum)*               CMP: < <= > >= == !=  (a < b < c chains)
    sum       := product (("+" | "-") product)*
    product   := signed (("*" | "/") signed)*
    signed    := ("-" | "+") signed | power
    power     := atom ("**" signed)?          right associative: 2 ** 3 ** 2 == 2 ** 9
    atom      := NUMBER | BRANCH | BRANCH "[" ["-"] INTEGER "]" | FUNCTION "(" args ")"
               | "(" condition ")"

NUMBER is ``12``, ``2.4``, ``.5`` or ``1e3``. BRANCH is a branch name; ``Muon_pt[0]`` is the
first (leading) muon's pt, ``Muon_pt[-1]`` the last. ``nMuon`` reads the counter branch, or
counts ``Muon_pt`` (else another ``Muon_*`` branch) when the file has no counter. Functions:
``abs(x)``, ``len(Muon_pt)``, over a collection ``sum(...)``, ``min(...)``, ``max(...)``,
``any(...)``, ``all(...)`` (e.g. ``any(Muon_pt > 20)``), and ``min(a, b, ...)``/``max(a, b,
...)`` of values.

Semantics:

* A bare collection (``Muon_pt``) means one value per object; arithmetic and comparisons on it
  work object by object (``Muon_pt * 2 > MET_pt``), and the whole expression must end up one
  condition per event: use an index, ``len``, or a reduction such as ``any``.
* Missing objects make the comparison false, not an error: ``Muon_pt[2] > 20`` is false for
  an event with two muons, and so is ``Muon_pt[2] <= 20``. (``not (Muon_pt[2] > 20)`` is
  therefore true there.) ``min``/``max`` of an empty collection are missing too; ``sum`` of
  one is 0, ``any`` false and ``all`` true.
* A comparison with NaN is false, ``!=`` included.
* Integer branches (``int16``, ``uint8``, ``uint32``...) are computed as 64-bit integers, so
  ``uint8`` differences can be negative; ``/`` and ``**`` give floats. Boolean branches
  (``HLT_IsoMu24``, ``Muon_tightId[0]``) are conditions, and count as 0/1 in arithmetic;
  numbers are not conditions (write ``nMuon > 0``, not ``nMuon``).

Named selections are YAML files in ``configs/selections`` (``description:`` and ``where:``),
used as ``--where @dimuon``; see :func:`load_selection` for how names and expressions are told
apart.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ispyrender.errors import SelectionError

if TYPE_CHECKING:
    from ispyrender.sources.nanoaod import Dataset

__all__ = [
    "SELECTIONS_PACKAGE",
    "Expr",
    "NamedSelection",
    "branches_to_read",
    "check_branches",
    "evaluate",
    "list_selections",
    "load_selection",
    "parse_where",
    "select_where",
]

SELECTIONS_PACKAGE = "ispyrender.configs.selections"

# Deep nesting would exhaust Python's recursion limit in the parser and the evaluator; no real
# selection comes close.
_MAX_DEPTH = 100
_MAX_LENGTH = 10_000
_SNIPPET = 30

_FUNCTIONS = ("abs", "len", "sum", "min", "max", "any", "all")
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
# Aliases that C++/ROOT users type; normalised to the keywords.
_ALIASES = {"&&": "and", "||": "or", "!": "not"}

_NUMBER = re.compile(r"(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_OPERATORS = ("**", "<=", ">=", "==", "!=", "&&", "||", *"<>+-*/()[],!")
_BAD_CHARACTERS = {
    "'": "strings are not part of the language; compare numbers",
    '"': "strings are not part of the language; compare numbers",
    ".": "attribute access ('.') is not allowed; use branch names like Muon_pt",
    ";": "only one expression is allowed; join conditions with 'and'",
    "=": "use '==' to compare",
    "&": "use 'and' (or '&&')",
    "|": "use 'or' (or '||')",
    "%": "'%' is not supported; use + - * / ** and abs()",
    ":": "':' is not allowed; there are no slices or lambdas",
}


# -- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op", "end"
    text: str  # as typed (the end token's is "")
    start: int  # 0-based offsets into the text
    end: int

    @property
    def op(self) -> str:
        """The operator or keyword this token stands for ('' for numbers and names)."""
        if self.kind == "op":
            return _ALIASES.get(self.text, self.text)
        if self.kind == "name" and self.text in ("and", "or", "not"):
            return self.text
        return ""


def _tokenize(text: str, origin: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        match = _NUMBER.match(text, pos)
        if match:
            end = match.end()
            # "2x", "1e", "1.2.3": a number glued to more word characters is a typo, not two
            # tokens.
            if end < len(text) and (text[end].isalnum() or text[end] in "._"):
                stop = end
                while stop < len(text) and (text[stop].isalnum() or text[stop] in "._+-"):
                    stop += 1
                raise _error(origin, text, pos, stop, f"malformed number {text[pos:stop]!r}")
            tokens.append(_Token("number", match.group(), pos, end))
            pos = end
            continue
        match = _NAME.match(text, pos)
        if match:
            tokens.append(_Token("name", match.group(), pos, match.end()))
            pos = match.end()
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, pos)), None)
        if op is not None:
            tokens.append(_Token("op", op, pos, pos + len(op)))
            pos += len(op)
            continue
        reason = _BAD_CHARACTERS.get(char, f"unexpected character {char!r}")
        raise _error(origin, text, pos, pos + 1, reason)
    tokens.append(_Token("end", "", len(text), len(text)))
    return tokens


def _snippet(text: str, start: int, end: int) -> str:
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= _SNIPPET else piece[: _SNIPPET - 3] + "..."


def _error(
    origin: str,
    text: str,
    start: int,
    end: int,
    message: str,
    *,
    syntax: bool = True,
    quote_from: int | None = None,
) -> SelectionError:
    """A one-line error pointing at a 1-based column and quoting the text there.

    ``quote_from`` widens the quote leftwards (to the previous token) so that ``'and >'``
    shows what the operator lacked; the column still names the offending token.
    """
    kind = "syntax error at" if syntax else "at"
    if start >= len(text.rstrip()):
        tail = _snippet(text, quote_from, end) if quote_from is not None else ""
        where = f"column {start + 1} (end of text{f', after {tail!r}' if tail else ''})"
    else:
        first = start if quote_from is None else quote_from
        where = f"column {start + 1} ({_snippet(text, first, end)!r})"
    return SelectionError(f"{origin}: {kind} {where}: {message}")


# -- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Node:
    """A node of the parsed expression; ``start``/``end`` locate it in the text."""

    start: int
    end: int
    depth: int = 1

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True, kw_only=True)
class Number(Node):
    value: int | float


@dataclass(frozen=True, kw_only=True)
class Branch(Node):
    """A branch read whole: one value per event, or per object for collections."""

    name: str


@dataclass(frozen=True, kw_only=True)
class Index(Node):
    """``Muon_pt[i]``: the i-th object's value (negative i counts from the end)."""

    name: str
    index: int


@dataclass(frozen=True, kw_only=True)
class Unary(Node):
    op: str  # "-", "+", "not"
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, kw_only=True)
class Binary(Node):
    op: str  # "+", "-", "*", "/", "**"
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, kw_only=True)
class Logical(Node):
    """``a and b and c`` kept flat, so long conjunctions do not make deep trees."""

    op: str  # "and", "or"
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True, kw_only=True)
class Compare(Node):
    """``a < b <= c``: true where every adjacent pair holds."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True, kw_only=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


def _walk(node: Node) -> Iterator[Node]:
    """Nodes in text order (pre-order)."""
    yield node
    for child in node.children():
        yield from _walk(child)


def _read_name(node: Node) -> str | None:
    if isinstance(node, (Branch, Index)):
        return node.name
    return None


@dataclass(frozen=True)
class Expr:
    """A parsed ``--where`` expression."""

    text: str
    root: Node
    #: what to call it in messages: "--where" or "selection 'dimuon'"
    origin: str = "--where"
    name: str | None = field(default=None, compare=False)

    def branches(self) -> set[str]:
        """The branch names the expression reads (counters such as ``nMuon`` included)."""
        return {n for node in _walk(self.root) if (n := _read_name(node)) is not None}

    def _names_in_order(self) -> Iterator[tuple[str, Node]]:
        for node in _walk(self.root):
            name = _read_name(node)
            if name is not None:
                yield name, node

    def error(self, node: Node, message: str) -> SelectionError:
        return _error(self.origin, self.text, node.start, node.end, message, syntax=False)

    def __str__(self) -> str:
        return self.text


# -- parser -----------------------------------------------------------------------------------

# Binding powers (Python's order). Prefix "not" parses its operand above "and"; prefix "-"
# above "*" so that -2 ** 2 == -(2 ** 2); "**" takes a signed right operand: 2 ** -1.
_BP_OR, _BP_AND, _BP_NOT, _BP_CMP, _BP_SUM, _BP_PRODUCT, _BP_SIGN, _BP_POWER = range(1, 9)
_INFIX = {
    "or": _BP_OR,
    "and": _BP_AND,
    **dict.fromkeys(_COMPARISONS, _BP_CMP),
    "+": _BP_SUM,
    "-": _BP_SUM,
    "*": _BP_PRODUCT,
    "/": _BP_PRODUCT,
    "**": _BP_POWER,
}

# Which nodes are certainly numbers (never conditions), to reject "nMuon and ..." at parse time.
_NUMERIC_FUNCTIONS = ("abs", "len", "sum", "min", "max")


def _is_number(node: Node) -> bool:
    return (
        isinstance(node, (Number, Binary))
        or (isinstance(node, Unary) and node.op != "not")
        or (isinstance(node, Call) and node.func in _NUMERIC_FUNCTIONS)
    )


class _Parser:
    def __init__(self, text: str, origin: str) -> None:
        self.text = text
        self.origin = origin
        self.tokens = _tokenize(text, origin)
        self.pos = 0
        self.nesting = 0

    # helpers

    @property
    def token(self) -> _Token:
        return self.tokens[self.pos]

    @property
    def previous(self) -> _Token | None:
        return self.tokens[self.pos - 1] if self.pos else None

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, message: str, token: _Token | None = None) -> SelectionError:
        """Syntax error at ``token`` (default: the current one), quoting the token before."""
        token = token or self.token
        index = self.tokens.index(token)
        quote_from = self.tokens[index - 1].start if index else None
        return _error(
            self.origin, self.text, token.start, token.end, message, quote_from=quote_from
        )

    def expect(self, op: str, message: str) -> _Token:
        if self.token.kind == "op" and self.token.text == op:
            return self.advance()
        raise self.fail(message)

    def make(self, cls: type[Node], start: int, end: int, **fields: Any) -> Node:
        children = [
            v
            for value in fields.values()
            for v in (value if isinstance(value, tuple) else (value,))
            if isinstance(v, Node)
        ]
        depth = 1 + max((c.depth for c in children), default=0)
        if depth > _MAX_DEPTH:
            raise _error(
                self.origin,
                self.text,
                start,
                end,
                f"the expression is nested too deeply (more than {_MAX_DEPTH} levels); simplify it",
            )
        return cls(start=start, end=end, depth=depth, **fields)

    def describe(self, token: _Token) -> str:
        return "the end of the text" if token.kind == "end" else repr(token.text)

    # grammar

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise SelectionError(f"{self.origin} is empty; give a condition such as 'nMuon >= 2'")
        node = self.expression(0)
        if self.token.kind != "end":
            token = self.token
            if token.kind == "op" and token.text == ")":
                raise self.fail("unmatched ')'")
            raise self.fail(
                f"expected an operator, 'and', 'or' or the end after "
                f"{self.describe(self.previous)}"  # type: ignore[arg-type]
                f", got {self.describe(token)}"
            )
        if _is_number(node):
            raise self.node_error(
                node,
                "this is a number, not a condition; compare it, e.g. "
                f"'{_snippet(self.text, node.start, node.end)} > 0'",
            )
        return node

    def node_error(self, node: Node, message: str) -> SelectionError:
        return _error(self.origin, self.text, node.start, node.end, message, syntax=False)

    def expression(self, min_bp: int) -> Node:
        self.nesting += 1
        if self.nesting > _MAX_DEPTH:
            raise self.fail(f"the expression is nested too deeply (more than {_MAX_DEPTH} levels)")
        try:
            left = self.prefix(min_bp)
            while True:
                op = self.token.op
                bp = _INFIX.get(op)
                if bp is None or bp <= min_bp:
                    return left
                left = self.infix(left, op, bp)
        finally:
            self.nesting -= 1

    def prefix(self, min_bp: int) -> Node:
        token = self.token
        op = token.op
        if op == "not":
            if min_bp >= _BP_NOT:
                raise self.fail(
                    f"'{token.text}' cannot follow {self.describe(self.previous)}"  # type: ignore[arg-type]
                    " directly; put the negated condition in parentheses"
                )
            self.advance()
            operand = self.expression(_BP_AND)
            if _is_number(operand):
                raise self.node_error(
                    operand, f"'{token.text}' needs a condition, but this is a number"
                )
            return self.make(Unary, token.start, operand.end, op="not", operand=operand)
        if op in ("-", "+"):
            self.advance()
            operand = self.expression(_BP_SIGN)
            return self.make(Unary, token.start, operand.end, op=op, operand=operand)
        return self.atom()

    def infix(self, left: Node, op: str, bp: int) -> Node:
        token = self.advance()
        if op in ("and", "or"):
            right = self.expression(bp)
            for side in (left, right):
                if _is_number(side):
                    raise self.node_error(
                        side,
                        f"'{token.text}' joins conditions, but this is a number; compare it, "
                        f"e.g. '{_snippet(self.text, side.start, side.end)} > 0'",
                    )
            operands = (*left.operands,) if isinstance(left, Logical) and left.op == op else (left,)
            operands += (
                (*right.operands,) if isinstance(right, Logical) and right.op == op else (right,)
            )
            # Flattening keeps the depth of long conjunctions at one level.
            depth = 1 + max(o.depth for o in operands)
            return Logical(start=left.start, end=right.end, depth=depth, op=op, operands=operands)
        if op in _COMPARISONS:
            ops = [op]
            compared = [left, self.expression(_BP_CMP)]
            while self.token.op in _COMPARISONS:
                ops.append(self.advance().op)
                compared.append(self.expression(_BP_CMP))
            return self.make(
                Compare, left.start, compared[-1].end, ops=tuple(ops), operands=tuple(compared)
            )
        # Arithmetic: left-associative except "**", whose right side may carry a sign.
        right = self.expression(_BP_SIGN if op == "**" else bp)
        return self.make(Binary, left.start, right.end, op=op, left=left, right=right)

    def atom(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.advance()
            value: int | float
            if any(c in token.text for c in ".eE"):
                value = float(token.text)
            else:
                value = int(token.text)
                if abs(value) >= 2**63:
                    value = float(value)
            return self.make(Number, token.start, token.end, value=value)
        if token.kind == "name" and not token.op:
            self.advance()
            following = self.token
            if following.kind == "op" and following.text == "(":
                return self.call(token)
            if following.kind == "op" and following.text == "[":
                return self.index(token)
            return self.make(Branch, token.start, token.end, name=token.text)
        if token.kind == "op" and token.text == "(":
            self.advance()
            if self.token.kind == "op" and self.token.text == ")":
                raise self.fail("empty parentheses; put a condition or a value inside")
            inner = self.expression(0)
            self.expect(")", f"expected ')' to close the '(' at column {token.start + 1}")
            return inner
        previous = self.previous
        if token.kind == "end":
            message = (
                f"expected a value after {self.describe(previous)}"
                if previous
                else "expected a value"
            )
        elif previous is None:
            message = f"expected a value, got {self.describe(token)}"
        else:
            message = f"expected a value after {self.describe(previous)}"
            if token.kind == "op" and token.text == ")":
                message += ", got ')'"
        raise self.fail(message)

    def index(self, name: _Token) -> Node:
        self.advance()  # "["
        sign = 1
        if self.token.kind == "op" and self.token.text == "-":
            self.advance()
            sign = -1
        token = self.token
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail(
                f"the index of {name.text} must be a whole number such as 0 or -1 "
                "(the leading object is 0)"
            )
        self.advance()
        close = self.expect("]", f"expected ']' to close the index of {name.text}")
        return self.make(Index, name.start, close.end, name=name.text, index=sign * int(token.text))

    def call(self, name: _Token) -> Node:
        func = name.text
        if func not in _FUNCTIONS:
            raise self.fail(
                f"unknown function {func!r}; the functions are {', '.join(_FUNCTIONS)}", name
            )
        self.advance()  # "("
        args: list[Node] = []
        if not (self.token.kind == "op" and self.token.text == ")"):
            while True:
                args.append(self.expression(0))
                if self.token.kind == "op" and self.token.text == ",":
                    self.advance()
                    continue
                break
        close = self.expect(
            ")",
            f"expected ',' or ')' in the arguments of {func}() opened at column {name.start + 1}",
        )
        wanted = "one or more values" if func in ("min", "max") else "one argument"
        if not args or (len(args) > 1 and func not in ("min", "max")):
            raise _error(
                self.origin,
                self.text,
                name.start,
                close.end,
                f"{func}() takes {wanted}",
                syntax=False,
            )
        node = self.make(Call, name.start, close.end, func=func, args=tuple(args))
        if func == "len" and not isinstance(args[0], Branch):
            raise self.node_error(node, "len() takes a collection branch such as len(Muon_pt)")
        if func in ("any", "all") and _is_number(args[0]):
            raise self.node_error(
                args[0], f"{func}() needs a condition such as {func}(Muon_pt > 20)"
            )
        return node


def parse_where(text: str, origin: str = "--where") -> Expr:
    """Parse a selection expression, raising a one-line :class:`SelectionError` on mistakes.

    ``origin`` names the expression in messages ("--where", "selection 'dimuon'").
    """
    if len(text) > _MAX_LENGTH:
        raise SelectionError(f"{origin} is longer than {_MAX_LENGTH} characters; shorten it")
    root = _Parser(text, origin).parse()
    return Expr(text=text, root=root, origin=origin)


# -- branches ---------------------------------------------------------------------------------


def _counter_source(name: str, available: Collection[str]) -> str | None:
    """For a missing counter ``nColl``, the branch whose offsets give the counts."""
    if not name.startswith("n") or len(name) < 2:
        return None
    collection = name[1:]
    if f"{collection}_pt" in available:
        return f"{collection}_pt"
    members = sorted(b for b in available if b.startswith(f"{collection}_"))
    return members[0] if members else None


def check_branches(expr: Expr, available: set[str] | frozenset[str]) -> None:
    """Raise :class:`SelectionError` for the first name that is not a branch of the inputs."""
    for name, node in expr._names_in_order():
        if name in available or _counter_source(name, available) is not None:
            continue
        close = difflib.get_close_matches(name, sorted(available), n=3, cutoff=0.6)
        hint = (
            f"closest: {', '.join(close)}"
            if close
            else "no similar branch; list them with 'ispyrender inspect'"
        )
        at = f" at column {node.start + 1}" if expr.text.count(name) > 1 else ""
        raise SelectionError(f"{expr.origin}: unknown branch {name!r}{at}; {hint}")


def branches_to_read(expr: Expr, available: set[str] | frozenset[str]) -> set[str]:
    """The branches to read for ``expr``: a missing ``nColl`` is replaced by a ``Coll_`` one."""
    wanted: set[str] = set()
    for name in expr.branches():
        if name in available:
            wanted.add(name)
        else:
            source = _counter_source(name, available)
            wanted.add(source if source is not None else name)
    return wanted


# -- evaluation -------------------------------------------------------------------------------


class _ColumnLike(Protocol):
    @property
    def content(self) -> np.ndarray: ...
    @property
    def offsets(self) -> np.ndarray | None: ...


@dataclass(frozen=True)
class _Value:
    """Values of one node over a chunk: per event (``offsets is None``) or per object."""

    data: np.ndarray  # bool, int64 or float64
    valid: np.ndarray | None = None  # False where an object is missing; None: all present
    offsets: np.ndarray | None = None

    @property
    def is_bool(self) -> bool:
        return bool(self.data.dtype == np.bool_)


def _and_masks(*masks: np.ndarray | None) -> np.ndarray | None:
    present = [m for m in masks if m is not None]
    if not present:
        return None
    out = present[0]
    for m in present[1:]:
        out = out & m
    return out


def _numeric(array: np.ndarray) -> np.ndarray:
    """int64/float64/bool: 64-bit arithmetic avoids uint8/int16 wrap-around and overflow."""
    if array.dtype == np.bool_:
        return array
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    return array.astype(np.float64, copy=False)


_COMPARE_UFUNCS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_ARITHMETIC_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply}


class _Evaluator:
    def __init__(self, expr: Expr, columns: Mapping[str, _ColumnLike], n_events: int) -> None:
        self.expr = expr
        self.columns = columns
        self.n = n_events
        self.loaded: dict[str, _Value] = {}

    # reading

    def column(self, name: str, node: Node) -> _Value:
        if name in self.loaded:
            return self.loaded[name]
        column = self.columns.get(name)
        if column is not None:
            value = self.convert(name, column, node)
        else:
            source = _counter_source(name, self.columns.keys())
            counted = self.columns.get(source) if source is not None else None
            if counted is None or counted.offsets is None:
                raise self.expr.error(node, f"branch {name!r} was not read")
            value = _Value(np.diff(np.asarray(counted.offsets)).astype(np.int64))
        self.loaded[name] = value
        return value

    def convert(self, name: str, column: _ColumnLike, node: Node) -> _Value:
        content = np.asarray(column.content)
        if content.dtype.kind not in "biuf":
            raise self.expr.error(node, f"branch {name!r} holds {content.dtype} values")
        content = _numeric(content)
        if column.offsets is None:
            return _Value(content)
        offsets = np.asarray(column.offsets, dtype=np.int64)
        if offsets[0] != 0 or len(content) != offsets[-1]:
            # Normalise so that object i of the chunk is content[i]: broadcasting relies on it.
            content = content[offsets[0] : offsets[-1]]
            offsets = offsets - offsets[0]
        return _Value(content, None, offsets)

    # helpers

    def broadcast(self, values: Sequence[_Value], node: Node) -> list[_Value]:
        """Bring per-event and per-object values to a common shape."""
        jagged = [v for v in values if v.offsets is not None]
        if not jagged:
            return list(values)
        offsets = jagged[0].offsets
        assert offsets is not None
        for other in jagged[1:]:
            if other.offsets is not offsets and not np.array_equal(
                np.asarray(other.offsets), offsets
            ):
                raise self.expr.error(
                    node,
                    "this combines objects of different collections (or of different sizes); "
                    "index them (Muon_pt[0]) or reduce them (any(...), max(...)) first",
                )
        counts = np.diff(offsets)
        out = []
        for v in values:
            if v.offsets is None:
                valid = None if v.valid is None else np.repeat(v.valid, counts)
                v = _Value(np.repeat(v.data, counts), valid, offsets)
            out.append(v)
        return out

    def number(self, value: _Value) -> _Value:
        if value.is_bool:
            return _Value(value.data.astype(np.int64), value.valid, value.offsets)
        return value

    def condition(self, value: _Value, node: Node) -> _Value:
        if not value.is_bool:
            text = _snippet(self.expr.text, node.start, node.end)
            raise self.expr.error(
                node, f"this is a number, not a condition; compare it, e.g. '{text} > 0'"
            )
        # A missing object makes the condition false (see the module docstring).
        data = value.data if value.valid is None else value.data & value.valid
        return _Value(data, None, value.offsets)

    def collection(self, value: _Value, node: Node, func: str) -> np.ndarray:
        if value.offsets is None:
            raise self.expr.error(
                node,
                f"{func}() needs a collection such as Muon_pt, but this has one value per event",
            )
        return value.offsets

    # nodes

    def compute(self, node: Node) -> _Value:
        return _DISPATCH[type(node)](self, node)

    def eval_number(self, node: Number) -> _Value:
        dtype = np.int64 if isinstance(node.value, int) else np.float64
        return _Value(np.full(self.n, node.value, dtype=dtype))

    def eval_branch(self, node: Branch) -> _Value:
        return self.column(node.name, node)

    def eval_index(self, node: Index) -> _Value:
        value = self.column(node.name, node)
        if value.offsets is None:
            raise self.expr.error(
                node, f"{node.name!r} has one value per event, not a collection; drop the index"
            )
        offsets, i = value.offsets, node.index
        counts = np.diff(offsets)
        if i >= 0:
            present, positions = counts > i, offsets[:-1] + i
        else:
            present, positions = counts >= -i, offsets[1:] + i
        data = np.zeros(len(counts), dtype=value.data.dtype)
        data[present] = value.data[positions[present]]
        # Columns are always complete, so presence alone decides validity.
        return _Value(data, present)

    def eval_unary(self, node: Unary) -> _Value:
        operand = self.compute(node.operand)
        if node.op == "not":
            c = self.condition(operand, node.operand)
            return _Value(~c.data, None, c.offsets)
        operand = self.number(operand)
        data = np.negative(operand.data) if node.op == "-" else operand.data
        return _Value(data, operand.valid, operand.offsets)

    def eval_binary(self, node: Binary) -> _Value:
        left, right = self.broadcast(
            [self.number(self.compute(node.left)), self.number(self.compute(node.right))], node
        )
        with np.errstate(all="ignore"):
            if node.op in _ARITHMETIC_UFUNCS:
                data = _ARITHMETIC_UFUNCS[node.op](left.data, right.data)
            else:
                ufunc = np.true_divide if node.op == "/" else np.power
                data = ufunc(left.data.astype(np.float64), right.data.astype(np.float64))
        return _Value(data, _and_masks(left.valid, right.valid), left.offsets)

    def eval_logical(self, node: Logical) -> _Value:
        conditions = [self.condition(self.compute(o), o) for o in node.operands]
        conditions = self.broadcast(conditions, node)
        data = conditions[0].data
        for c in conditions[1:]:
            data = (data & c.data) if node.op == "and" else (data | c.data)
        return _Value(data, None, conditions[0].offsets)

    def eval_compare(self, node: Compare) -> _Value:
        operands = [self.number(self.compute(o)) for o in node.operands]
        results: list[_Value] = []
        for op, a, b in zip(node.ops, operands, operands[1:], strict=False):
            a, b = self.broadcast([a, b], node)
            with np.errstate(invalid="ignore"):
                data = _COMPARE_UFUNCS[op](a.data, b.data)
            # NaN compares false under every operator, "!=" included.
            for side in (a, b):
                if side.data.dtype.kind == "f":
                    data &= ~np.isnan(side.data)
            valid = _and_masks(a.valid, b.valid)
            if valid is not None:
                data &= valid
            results.append(_Value(data, None, a.offsets))
        results = self.broadcast(results, node)
        data = results[0].data
        for r in results[1:]:
            data = data & r.data
        return _Value(data, None, results[0].offsets)

    def eval_call(self, node: Call) -> _Value:
        func = node.func
        if func == "len":
            arg = node.args[0]
            value = self.compute(arg)
            return _Value(np.diff(self.collection(value, arg, func)))
        if func == "abs":
            value = self.number(self.compute(node.args[0]))
            return _Value(np.abs(value.data), value.valid, value.offsets)
        if func in ("min", "max") and len(node.args) > 1:
            values = self.broadcast([self.number(self.compute(a)) for a in node.args], node)
            ufunc = np.minimum if func == "min" else np.maximum
            data = values[0].data
            for v in values[1:]:
                data = ufunc(data, v.data)  # propagates NaN, as documented
            return _Value(data, _and_masks(*(v.valid for v in values)), values[0].offsets)
        arg = node.args[0]
        value = self.compute(arg)
        reduce_conditions = func in ("any", "all")
        value = self.condition(value, arg) if reduce_conditions else self.number(value)
        offsets = self.collection(value, arg, func)
        counts = np.diff(offsets)
        if func in ("any", "all"):
            hits = _segment_sum(value.data.astype(np.int64), offsets)
            return _Value(hits > 0 if func == "any" else hits == counts)
        # A missing element (from broadcasting a missing per-event value) spoils the result.
        valid = None
        if value.valid is not None:
            valid = _segment_sum((~value.valid).astype(np.int64), offsets) == 0
        if func == "sum":
            return _Value(_segment_sum(value.data, offsets), valid)
        present = counts > 0
        data = np.zeros(len(counts), dtype=value.data.dtype)
        if present.any():
            ufunc = np.minimum if func == "min" else np.maximum
            # Starting only at non-empty events makes each segment end where the next starts.
            data[present] = ufunc.reduceat(value.data, offsets[:-1][present])
        return _Value(data, present if valid is None else present & valid)


# Explicit node-type dispatch (no name lookups built from strings).
_DISPATCH: dict[type[Node], Callable[[_Evaluator, Any], _Value]] = {
    Number: _Evaluator.eval_number,
    Branch: _Evaluator.eval_branch,
    Index: _Evaluator.eval_index,
    Unary: _Evaluator.eval_unary,
    Binary: _Evaluator.eval_binary,
    Logical: _Evaluator.eval_logical,
    Compare: _Evaluator.eval_compare,
    Call: _Evaluator.eval_call,
}


def _segment_sum(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-event sums of a flat array (empty events give 0)."""
    n = len(offsets) - 1
    if data.dtype.kind == "f":
        # bincount adds in order, exactly as a Python loop would (reduceat mishandles empties).
        events = np.repeat(np.arange(n), np.diff(offsets))
        return np.bincount(events, weights=data, minlength=n)
    totals = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(data, out=totals[1:])
    return totals[offsets[1:]] - totals[offsets[:-1]]


def evaluate(expr: Expr, columns: Mapping[str, _ColumnLike], n_events: int) -> np.ndarray:
    """The per-event pass mask of ``expr`` over one chunk of ``n_events`` events.

    ``columns`` maps branch names to :class:`~ispyrender.sources.nanoaod.Column` (anything with
    numpy ``content`` and ``offsets``); a missing counter ``nColl`` is counted from a ``Coll_``
    column. Vectorised: the work is numpy operations over whole columns, never a Python loop
    over events.
    """
    evaluator = _Evaluator(expr, columns, n_events)
    value = evaluator.compute(expr.root)
    if value.offsets is not None:
        raise expr.error(
            expr.root,
            "this gives one result per object, not per event; use any(...) or all(...), or "
            "index an object such as Muon_pt[0]",
        )
    return np.asarray(evaluator.condition(value, expr.root).data, dtype=bool)


# -- datasets ---------------------------------------------------------------------------------


def _ranges(
    dataset: Dataset, entries: np.ndarray | None, chunk_size: int
) -> list[tuple[int, int, int]]:
    """(input, start, stop) spans covering ``entries``; nearby entries share a span."""
    spans: list[tuple[int, int, int]] = []
    for index, info in enumerate(dataset.inputs):
        if entries is None:
            if info.num_entries:
                spans.append((index, 0, info.num_entries))
            continue
        lo, hi = np.searchsorted(entries, [info.first_entry, info.first_entry + info.num_entries])
        local = entries[lo:hi] - info.first_entry
        if not len(local):
            continue
        # Split where the gap is wider than a chunk: reading across it would be wasted work.
        breaks = np.flatnonzero(np.diff(local) > chunk_size) + 1
        for part in np.split(local, breaks):
            spans.append((index, int(part[0]), int(part[-1]) + 1))
    return spans


def select_where(
    dataset: Dataset,
    expr: Expr | str,
    entries: Sequence[int] | None = None,
    *,
    limit: int | None = None,
    chunk_size: int = 50_000,
) -> list[int]:
    """Sorted global entries passing ``expr`` (among ``entries`` when given).

    Reads only the branches the expression names, one chunk at a time, so memory stays flat.
    With ``limit``, reading stops once that many events have passed.
    """
    if isinstance(expr, str):
        expr = parse_where(expr)
    available = dataset.available_branches()
    check_branches(expr, available)
    wanted = None if entries is None else np.unique(np.asarray(entries, dtype=np.int64))
    names = sorted(branches_to_read(expr, available))
    if not names:
        # A constant such as "1 < 2": one evaluation decides for every event.
        passes = bool(evaluate(expr, {}, 1)[0])
        chosen = (
            []
            if not passes
            else (list(range(dataset.num_entries)) if wanted is None else wanted.tolist())
        )
        return chosen if limit is None else chosen[:limit]
    passing: list[np.ndarray] = []
    found = 0
    ranges = _ranges(dataset, wanted, chunk_size)
    for info, start, columns in dataset.iter_chunks(names, chunk_size, ranges):
        n = len(next(iter(columns.values())))
        hits = np.flatnonzero(evaluate(expr, columns, n)) + info.first_entry + start
        if wanted is not None:
            hits = hits[np.isin(hits, wanted, assume_unique=True)]
        passing.append(hits)
        found += len(hits)
        if limit is not None and found >= limit:
            break
    result = np.concatenate(passing).tolist() if passing else []
    return result if limit is None else result[:limit]


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
    if text.startswith("@") or (_NAME.fullmatch(text) and text in files):
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
