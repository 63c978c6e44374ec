"""Every package declares what it imports, and imports (or runs) what it declares.

Imports are read from the source with ``ast``, so a lazy import inside a function counts;
a top-level module maps to its distribution through the installed metadata. A
dependency that a package runs rather than imports is listed in ``RUN_NOT_IMPORTED``
with the reason.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# project folder -> its import package
PACKAGES = {
    "shared": "lesde",
    "services/api": "lesde_api",
    "services/trainer": "lesde_trainer",
    "services/analyzer": "lesde_analyzer",
    "services/launcher": "lesde_launcher",
}
# The modules of `pip install lesde` without extras: the HTTP client and the CLI.
CLIENT_MODULES = {
    "lesde",
    "lesde.client",
    "lesde.cli",
    "lesde.cli_datasets",
    "lesde.dataset_pack",
    "lesde.cli_sweeps",
    "lesde.cli_url",
    "lesde.event_stream",
    "lesde.progress",
    "lesde.terminal",
}
# `lesde export --format mlflow|tensorboard` (the CLI imports them inside the command; mlflow and tensorboard are extras)
CLIENT_MODULES |= {"lesde.exports", "lesde.exports.content", "lesde.exports.mlflow_export", "lesde.exports.tensorboard_export"}
# The Recorder (numpy only: the chunk bytes, manifest and reduction of the contract, and the
# object keys) and AnalysisResult, whose views import pandas / xarray / the analyzer lazily.
CLIENT_MODULES |= {
    "lesde.results",
    "lesde.recorder",
    "lesde.recorder.recorder",
    "lesde.recorder.pending",
    "lesde.recorder.run_folder",
    "lesde.recorder.upload",
    "lesde_contract.chunks.format",
    "lesde_contract.chunks.reduction",
    "lesde_contract.chunks.manifest",
    "lesde_contract.object_keys",
}
# lesde.analyze: imported inside lesde.analyze / the CLI's export of a run folder, with the
# analysis extra and the lesde-analyzer package installed (it imports the contract's specs).
ANALYSIS_MODULES = {"lesde.inprocess"}
# AnalysisResult.typed: imported inside the property, with the analysis extra (pydantic; the contract's specs).
ANALYSIS_MODULES |= {"lesde_contract.analysis_results"}
# The client's optional extras: imported only inside the method that needs one (pandas in client.dataframe).
CLIENT_EXTRAS = ("dataframe", "images", "mlflow", "tensorboard", "xarray", "analysis")
# Imported lazily by lesde but not declared by it: a local project installed beside it.
IMPORTED_BESIDE = {
    "lesde": {
        "lesde-analyzer": "lesde.analyze and AnalysisResult.figure import its math; `pip install lesde[analysis] lesde-analyzer` "
        "(an extra naming it would send pip to the package index for a project that is only here)"
    },
}
RUN_NOT_IMPORTED = {
    "lesde-api": {
        "uvicorn": "serves the app (the image's CMD)",
        "python-multipart": "FastAPI parses form uploads with it",
        "fastapi-offline": "its Swagger UI and ReDoc files are served from the package folder (docs_pages.py), never imported",
    },
    "lesde-launcher": {
        "lesde-api": "started as uvicorn lesde_api.main:app",
        "lesde-trainer": "started as celery -A lesde_trainer.worker",
        "lesde-analyzer": "started as celery -A lesde_analyzer.worker",
        "uvicorn": "run as python -m uvicorn",
        "celery": "run as python -m celery",
    },
}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(text: str) -> tuple[str, set[str]]:
    """``"celery[redis]>=5.3"`` -> ``("celery", {"redis"})``."""
    match = re.match(r"\s*([A-Za-z0-9._-]+)\s*(?:\[([^\]]*)\])?", text)
    assert match, f"cannot read the requirement {text!r}"
    extras = {normalize(extra) for extra in (match.group(2) or "").split(",") if extra.strip()}
    return normalize(match.group(1)), extras


def project(folder: str) -> dict:
    return tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]


def declared(folder: str, *, extras: bool = True) -> dict[str, set[str]]:
    """Distribution -> the extras asked of it, over the dependencies (and, with ``extras``, every extra)."""
    meta = project(folder)
    texts = list(meta.get("dependencies", []))
    if extras:
        texts += [text for group in meta.get("optional-dependencies", {}).values() for text in group]
    asked: dict[str, set[str]] = {}
    for text in texts:
        name, wanted = requirement(text)
        asked.setdefault(name, set()).update(wanted)
    return asked


def imported_modules(folder: str, package: str, *, only: set[str] | None = None) -> set[str]:
    """Absolute module names imported by ``package`` (by its modules in ``only``, if given)."""
    root = REPO / folder / package
    modules: set[str] = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if only is not None and name not in only:
            continue
        for node in _runtime_nodes(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module)
    return modules


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (imports for annotations only, never run)."""
    found, pending = [], [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


@cache
def distributions_of_modules() -> dict[str, list[str]]:
    return packages_distributions()


def distributions(modules: set[str], own: str) -> set[str]:
    """The distributions providing ``modules`` (a top-level name nothing provides stands for itself)."""
    found: set[str] = set()
    for top in {module.split(".")[0] for module in modules} - set(sys.stdlib_module_names) - {own}:
        found.update(normalize(name) for name in distributions_of_modules().get(top, [top]))
    return found


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_every_import_is_declared_and_every_dependency_used(folder: str) -> None:
    package = PACKAGES[folder]
    name = normalize(project(folder)["name"])
    uses = distributions(imported_modules(folder, package), own=package)
    asked = set(declared(folder)) | set(IMPORTED_BESIDE.get(name, {}))
    runs = set(RUN_NOT_IMPORTED.get(name, {}))
    assert not uses - asked, f"{folder}/pyproject.toml does not declare {sorted(uses - asked)}, which {package} imports"
    assert not asked - uses - runs, f"{folder}/pyproject.toml declares {sorted(asked - uses - runs)}, which {package} never imports"


def contract_modules(modules: set[str]) -> set[str]:
    """The modules of ``lesde`` among ``modules`` that a plain ``pip install lesde`` cannot import."""
    return {module for module in modules if module.split(".")[0] == "lesde"} - CLIENT_MODULES - ANALYSIS_MODULES


def test_the_client_and_cli_need_only_the_base_dependencies() -> None:
    modules = imported_modules("shared", "lesde", only=CLIENT_MODULES)
    assert not contract_modules(modules), f"the client and CLI import {sorted(contract_modules(modules))}"
    uses = distributions(modules, own="lesde")
    base = set(declared("shared", extras=False))
    base |= {requirement(text)[0] for extra in CLIENT_EXTRAS for text in project("shared")["optional-dependencies"][extra]}
    base |= set(IMPORTED_BESIDE["lesde"])
    assert uses <= base, f"the client and CLI import {sorted(uses - base)}, not among lesde's base dependencies"


@pytest.mark.parametrize("folder", sorted(set(PACKAGES) - {"shared"}))
def test_a_package_that_uses_the_contract_asks_for_it(folder: str) -> None:
    """Importing more of ``lesde`` than the client and CLI needs the ``services`` extra."""
    contract = contract_modules(imported_modules(folder, PACKAGES[folder]))
    if contract:
        assert "services" in declared(folder).get("lesde", set()), (
            f"{folder} imports {sorted(contract)[:3]} but asks for plain lesde, not lesde[services]"
        )
