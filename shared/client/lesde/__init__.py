"""LE-SDE Lab.

For researchers, three names at the top (each imported on first use, so ``import lesde``
stays light):

- :class:`lesde.Recorder`: record the LE-SDE streams from your own training loop;
- :func:`lesde.analyze`: the service's analysis, in this process (``lesde[analysis]``);
- :class:`lesde.AnalysisResult`: what both the service and :func:`lesde.analyze` give back.

The HTTP client is :class:`lesde.client.LesdeClient`; the command line is ``lesde``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lesde.inprocess import analyze
    from lesde.recorder import Recorder
    from lesde.results import AnalysisResult

_LAZY = {"Recorder": "lesde.recorder", "analyze": "lesde.inprocess", "AnalysisResult": "lesde.results"}

__all__ = ["AnalysisResult", "Recorder", "analyze"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lesde' has no attribute {name!r}")
