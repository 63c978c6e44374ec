"""What every figure route shares: the formats a figure is served in and the names stored.

A figure is stored once per format (``figures/<name>.png``, ``.svg``, ``.pdf``) and, when
rendered on request, as ``figures/<name>@<variant>.<ext>``; a 404 lists each figure once.
"""

from __future__ import annotations

from lesde_contract.object_keys import FIGURE_FORMATS
from lesde_contract.object_store import ObjectStore

#: the media type each figure format (:data:`lesde_contract.object_keys.FIGURE_FORMATS`) is served with
FIGURE_MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def stored_figure_names(store: ObjectStore, prefix: str) -> list[str]:
    """The figures stored directly under ``prefix`` (``.../figures/``), each once, in name order,
    without the variants rendered on request."""
    names = set()
    for info in store.list(prefix):
        stem, dot, ext = info.key[len(prefix) :].rpartition(".")
        if dot and ext in FIGURE_FORMATS and "/" not in stem and "@" not in stem:
            names.add(stem)
    return sorted(names)
