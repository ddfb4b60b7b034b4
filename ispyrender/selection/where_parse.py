"""The ``--where`` language, part one: tokens, the expression tree, the parser, and the
branch names an expression reads. The language itself is described in
:mod:`ispyrender.selection.where`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from ispyrender.errors import SelectionError

__all__ = [
    "Expr",
    "Node",
    "branches_to_read",
    "check_branches",
    "counter_source",
    "parse_where",
    "snippet",
]

# Deep nesting would exhaust Python's recursion limit in the parser and the evaluator; no real
# selection comes close.
_MAX_DEPTH = 100
_MAX_LENGTH = 10_000
_SNIPPET = 30
#: Integers are computed in int64: literals and results beyond are errors, never wrapped.
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

_FUNCTIONS = ("abs", "len", "sum", "min", "max", "any", "all")
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
# Aliases that C++/ROOT users type; normalised to the keywords.
_ALIASES = {"&&": "and", "||": "or", "!": "not"}

_NUMBER = re.compile(r"(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?", re.ASCII)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
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
        match = NAME.match(text, pos)
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


def snippet(text: str, start: int, end: int) -> str:
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
        tail = snippet(text, quote_from, end) if quote_from is not None else ""
        where = f"column {start + 1} (end of text{f', after {tail!r}' if tail else ''})"
    else:
        first = start if quote_from is None else quote_from
        where = f"column {start + 1} ({snippet(text, first, end)!r})"
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
                f"'{snippet(self.text, node.start, node.end)} > 0'",
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
                        f"e.g. '{snippet(self.text, side.start, side.end)} > 0'",
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
                value = float(token.text)  # 1e400 is inf, as in numpy
            else:
                value = self.integer(
                    token, "write it as a float (e.g. 1e19) to compare with a larger value"
                )
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

    def integer(self, token: _Token, hint: str) -> int:
        """A whole number that int64 holds, the type integers are computed in; a larger one
        (or one of thousands of digits, which int() refuses) is an error, not a float."""
        digits = token.text.lstrip("0") or "0"
        if len(digits) > 19 or int(digits) > INT64_MAX:
            raise _error(
                self.origin,
                self.text,
                token.start,
                token.end,
                f"a {len(digits)}-digit whole number is out of the 64-bit range (at most "
                f"{INT64_MAX}); {hint}",
                syntax=False,
            )
        return int(digits)

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
        index = self.integer(token, "no collection has that many objects")
        self.advance()
        close = self.expect("]", f"expected ']' to close the index of {name.text}")
        return self.make(Index, name.start, close.end, name=name.text, index=sign * index)

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


def counter_source(name: str, available: Collection[str]) -> str | None:
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
        if name in available or counter_source(name, available) is not None:
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
            source = counter_source(name, available)
            wanted.add(source if source is not None else name)
    return wanted
