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
    "shared/contract": "lesde_contract",
    "shared/runtime": "lesde_runtime",
    "shared/client": "lesde",
    "services/api": "lesde_api",
    "services/trainer": "lesde_trainer",
    "services/analyzer": "lesde_analyzer",
    "services/launcher": "lesde_launcher",
}
# Which of our own packages each may import (issue 23: three packages under shared/ with one
# purpose each). The client never imports the runtime; the contract imports neither.
OWN_IMPORTS_ALLOWED = {
    "lesde_contract": {"lesde_contract"},
    "lesde_runtime": {"lesde_runtime", "lesde_contract"},
    "lesde": {"lesde", "lesde_contract", "lesde_analyzer"},  # lesde_analyzer: the analysis extra (lesde.analyze, figures)
    "lesde_api": {"lesde_api", "lesde_runtime", "lesde_contract"},
    "lesde_trainer": {"lesde_trainer", "lesde_runtime", "lesde_contract"},
    "lesde_analyzer": {"lesde_analyzer", "lesde_runtime", "lesde_contract"},
    "lesde_launcher": {"lesde_launcher", "lesde", "lesde_api", "lesde_runtime", "lesde_contract"},
}
OUR_PACKAGES = set(OWN_IMPORTS_ALLOWED)
# The client's optional extras: imported only inside the method that needs one (pandas in client.dataframe).
CLIENT_EXTRAS = ("dataframe", "images", "mlflow", "tensorboard", "xarray", "analysis")
# The analyzer's modules the analysis extra runs (lesde.analyze): the worker's are the rest.
ANALYZER_WORKER_MODULES = (
    "tasks",
    "worker",
    "experiments.job",
    "experiments.analysis_job",
    "imports.import_job",
    "imports.run",
    "datasets.validation_job",
    "simulations.simulation_job",
    "simulations.service",
    "sweeps.sweep_analysis_job",
    "imports.grid",  # the CSV import's bounds are the deployment's (LESDE_MAX_TRIAL_ITERATIONS)
    "sweeps.reader",
)  # a sweep's children are job records
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
    asked = set(declared(folder))
    runs = set(RUN_NOT_IMPORTED.get(name, {}))
    assert not uses - asked, f"{folder}/pyproject.toml does not declare {sorted(uses - asked)}, which {package} imports"
    assert not asked - uses - runs, f"{folder}/pyproject.toml declares {sorted(asked - uses - runs)}, which {package} never imports"


def own_packages(modules: set[str]) -> set[str]:
    return {module.split(".")[0] for module in modules} & OUR_PACKAGES


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_each_package_imports_only_the_packages_it_may(folder: str) -> None:
    package = PACKAGES[folder]
    found = own_packages(imported_modules(folder, package))
    assert found <= OWN_IMPORTS_ALLOWED[package], f"{package} imports {sorted(found - OWN_IMPORTS_ALLOWED[package])}"


def test_the_client_needs_only_its_base_dependencies_and_its_extras() -> None:
    uses = distributions(imported_modules("shared/client", "lesde"), own="lesde")
    base = set(declared("shared/client", extras=False))
    base |= {requirement(text)[0] for extra in CLIENT_EXTRAS for text in project("shared/client")["optional-dependencies"][extra]}
    assert uses <= base, f"the client imports {sorted(uses - base)}, not among lesde's base dependencies or its extras"
    assert "lesde-runtime" not in base and "celery" not in base


def test_the_contract_is_pydantic_and_numpy_only() -> None:
    uses = distributions(imported_modules("shared/contract", "lesde_contract"), own="lesde_contract")
    assert uses <= {"pydantic", "pydantic-core", "numpy"}, uses


def test_the_analysis_the_client_runs_in_process_needs_no_runtime() -> None:
    modules = imported_modules("services/analyzer", "lesde_analyzer")
    everything = own_packages(modules)
    assert "lesde_runtime" in everything  # the worker's modules use it ...
    pure: set[str] = set()
    root = REPO / "services/analyzer/lesde_analyzer"
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        if not name.endswith(ANALYZER_WORKER_MODULES) and not any(name == worker for worker in ANALYZER_WORKER_MODULES):
            pure |= {module for module in _imports_of(path)}
    assert "lesde_runtime" not in own_packages(pure), sorted(m for m in pure if m.startswith("lesde_runtime"))  # ... the math does not


def _imports_of(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules
