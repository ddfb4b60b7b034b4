"""Strict JSON for every file and page the program writes.

Python's json writes NaN and Infinity as bare tokens, which JSON parsers (browsers' JSON.parse,
jq, Phoenix, glTF validators) refuse: one odd value would break a whole gallery's index. The
readers leave out objects with non-finite values; anything non-finite left is written as null
here, and json is told to refuse the rest.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps"]


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` that writes strict JSON: non-finite numbers become null."""
    return json.dumps(_finite(value), allow_nan=False, **options)
