"""One way from a typed analysis result to the JSON the analyzer stores.

``encode`` writes the fields that were set (a field an analysis leaves out, such as
``curves.final`` of a run without evaluations, stays out) and turns NaN and infinities
into ``null``: JSON has no NaN, and a typed result may carry one where a computation had
no value.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

__all__ = ["encode", "finite_json"]


def encode(result: BaseModel) -> dict[str, Any]:
    """The stored JSON (a dict) of ``result``: the fields that were set, NaN and infinities as ``None``."""
    return finite_json(result.model_dump(mode="json", exclude_unset=True))


def finite_json(tree: Any) -> Any:
    """``tree`` (dicts, lists and scalars) with every non-finite float replaced by ``None``."""
    if isinstance(tree, dict):
        return {key: finite_json(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [finite_json(value) for value in tree]
    if isinstance(tree, float) and not math.isfinite(tree):
        return None
    return tree
