"""The ``--where`` selection language: conditions over NanoAOD branches, evaluated with numpy.

Examples::

    nMuon >= 2 and Muon_pt[0] > 20 and abs(Muon_eta[1]) < 2.4
    any(Jet_pt > 30 and abs(Jet_eta) < 2.5) or MET_pt > 100
    20 < Muon_pt[-1] <= 50 and sum(Jet_pt) / len(Jet_pt) > 40

The text is tokenised and parsed by hand (a Pratt parser, :mod:`.where_parse`) into a small
tree that is then evaluated on numpy arrays one chunk of events at a time (:mod:`.where_eval`).
User text is never handed to Python's ``eval``/``compile``: there are no strings, attribute
access, assignments, lambdas or calls other than the few functions listed below, so no input
can run code.

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

from ispyrender.selection.named import (
    SELECTIONS_PACKAGE,
    NamedSelection,
    list_selections,
    load_selection,
)
from ispyrender.selection.where_eval import evaluate, select_where
from ispyrender.selection.where_parse import Expr, branches_to_read, check_branches, parse_where

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
