"""The ``Examples`` of the analyzer's public math (dynamics, estimation, geometry, imitation) run
and print what they say; every function in those packages' ``__all__`` has one."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from types import ModuleType

import numpy as np
import pytest

PACKAGES = (
    "lesde_analyzer.dynamics",
    "lesde_analyzer.estimation",
    "lesde_analyzer.geometry",
    "lesde_analyzer.imitation",
)

OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

# numpy's own defaults, without any legacy printing mode another test may have left set
PRINT_OPTIONS = {
    "precision": 8,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 75,
    "suppress": False,
    "nanstr": "nan",
    "infstr": "inf",
    "sign": "-",
    "floatmode": "maxprec",
    "legacy": False,
}


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(module.__path__)]
    return names


def _public_functions() -> list[tuple[str, str]]:
    found = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        found += [(package, name) for name in module.__all__ if inspect.isfunction(getattr(module, name))]
    return found


@pytest.mark.parametrize("name", _modules())
def test_module_examples_run(name: str) -> None:
    module: ModuleType = importlib.import_module(name)
    with np.printoptions(**PRINT_OPTIONS):
        result = doctest.testmod(module, optionflags=OPTIONS, report=True, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed (see the output above)"


@pytest.mark.parametrize(("package", "name"), _public_functions(), ids=lambda value: str(value))
def test_public_function_has_examples(package: str, name: str) -> None:
    function = getattr(importlib.import_module(package), name)
    doc = inspect.getdoc(function) or ""
    assert "Examples\n--------" in doc, f"{package}.{name} has no numpydoc Examples section"
    examples = doctest.DocTestParser().get_examples(doc)
    assert examples, f"{package}.{name}: its Examples section holds no doctest"
