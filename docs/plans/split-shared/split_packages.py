"""One-off migration (issue 23, part 2), prepared and not yet applied: split shared/lesde into
shared/contract (lesde_contract), shared/runtime (lesde_runtime) and shared/client (lesde),
rename the colliding modules, rewrite every reference. See README.md beside it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else Path(__file__).resolve().parents[3]
S = "shared/lesde"

# old module -> new module (files move accordingly); order: specific first
CONTRACT = {
    "lesde_contract.specs": "lesde_contract.specs",
    "lesde_contract.records": "lesde_contract.records",
    "lesde_contract.object_keys": "lesde_contract.object_keys",
    "lesde_contract.csv_layout": "lesde_contract.csv_layout",
    "lesde_contract.json_safe": "lesde_contract.json_safe",
    "lesde_contract.dataset_files": "lesde_contract.dataset_files",
    "lesde_contract.chunks.format": "lesde_contract.chunks.format",
    "lesde_contract.chunks.manifest": "lesde_contract.chunks.manifest",
    "lesde_contract.chunks.reduction": "lesde_contract.chunks.reduction",
    "lesde_contract.chunks.validation": "lesde_contract.chunks.validation",
    "lesde_contract.chunks.reader": "lesde_contract.chunks.reader",
    "lesde_contract.chunks": "lesde_contract.chunks",
    "lesde_contract.object_store": "lesde_contract.object_store",
    "lesde_contract.run_folder_store": "lesde_contract.run_folder_store",
    "lesde_contract.sweep_children": "lesde_contract.sweep_children",
    "lesde_contract.analysis_results": "lesde_contract.analysis_results",
}
RUNTIME = {
    "lesde_runtime.chunk_writer": "lesde_runtime.chunk_writer",
    "lesde_runtime.storage": "lesde_runtime.storage",
    "lesde_runtime.job_repository": "lesde_runtime.job_repository",
    "lesde_runtime.job_index": "lesde_runtime.job_index",
    "lesde_runtime.leases": "lesde_runtime.leases",
    "lesde_runtime.analysis_leases": "lesde_runtime.analysis_leases",
    "lesde_runtime.analysis_state": "lesde_runtime.analysis_state",
    "lesde_runtime.reaper": "lesde_runtime.reaper",
    "lesde_runtime.tombstones": "lesde_runtime.tombstones",
    "lesde_runtime.broker_census": "lesde_runtime.broker_census",
    "lesde_runtime.celery_app": "lesde_runtime.celery_app",
    "lesde_runtime.task_signals": "lesde_runtime.task_signals",
    "lesde_runtime.queue_depth": "lesde_runtime.queue_depth",
    "lesde_runtime.logs": "lesde_runtime.logs",
    "lesde_runtime.job_logs": "lesde_runtime.job_logs",
    "lesde_runtime.settings": "lesde_runtime.settings",
    "lesde_runtime.worker_metrics": "lesde_runtime.worker_metrics",
    "lesde_runtime.purge": "lesde_runtime.purge",
    "lesde_runtime.optimistic": "lesde_runtime.optimistic",
    "lesde_runtime.secret_files": "lesde_runtime.secret_files",
}
SERVICE_RENAMES = {
    "lesde_trainer.training_job": "lesde_trainer.training_job",
    "lesde_analyzer.experiments.analysis_job": "lesde_analyzer.experiments.analysis_job",
    "lesde_analyzer.imports.import_job": "lesde_analyzer.imports.import_job",
    "lesde_analyzer.datasets.validation_job": "lesde_analyzer.datasets.validation_job",
    "lesde_analyzer.simulations.simulation_job": "lesde_analyzer.simulations.simulation_job",
    "lesde_analyzer.sweeps.sweep_analysis_job": "lesde_analyzer.sweeps.sweep_analysis_job",
    "lesde_analyzer.imitation.fit_quality": "lesde_analyzer.imitation.fit_quality",
    "lesde_api.gateway_metrics": "lesde_api.gateway_metrics",
    "lesde_api.operations.job_views": "lesde_api.operations.job_views",
    "lesde_api.routes.common_job_routes": "lesde_api.routes.common_job_routes",
}
MAPPING = {**CONTRACT, **RUNTIME}
BASE_STORE_NAMES = {"ObjectStore", "ObjectInfo", "ObjectNotFound", "StoreUnavailable"}
RUNTIME_CHUNK_NAMES = {"ChunkWriter"}


def module_path(module: str, root: str) -> Path:
    parts = module.split(".")
    return REPO / root / Path(*parts)


def source_of(module: str) -> Path:
    """shared/client/lesde/... file or package for an old lesde module."""
    rel = Path(*module.split(".")[1:])
    pkg = REPO / S / rel
    return pkg if pkg.is_dir() else pkg.with_suffix(".py")


def git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=REPO, check=True)


def move_files() -> None:
    (REPO / "shared/contract/lesde_contract/chunks").mkdir(parents=True, exist_ok=True)
    (REPO / "shared/runtime/lesde_runtime").mkdir(parents=True, exist_ok=True)
    whole_dirs = {"lesde_contract.specs", "lesde_contract.analysis_results"}
    for old, new in sorted(MAPPING.items(), key=lambda kv: -len(kv[0])):
        if old in ("lesde_contract.chunks", "lesde_runtime.storage"):
            continue  # packages split below
        src = source_of(old)
        if not src.exists():
            print("missing", src, file=sys.stderr)
            continue
        root = "shared/contract" if new.startswith("lesde_contract") else "shared/runtime"
        dst = module_path(new, root)
        if src.is_dir() and old not in whole_dirs:
            continue
        if not src.is_dir():
            dst = dst.with_suffix(".py")
        dst.parent.mkdir(parents=True, exist_ok=True)
        git("mv", str(src.relative_to(REPO)), str(dst.relative_to(REPO)))
    # the chunks package's __init__ goes to the contract; the storage package's rest to the runtime
    git("mv", f"{S}/chunks/__init__.py", "shared/contract/lesde_contract/chunks/__init__.py")
    (REPO / "shared/runtime/lesde_runtime/storage").mkdir(parents=True, exist_ok=True)
    for path in sorted((REPO / S / "storage").glob("*.py")):
        git("mv", str(path.relative_to(REPO)), f"shared/runtime/lesde_runtime/storage/{path.name}")
    # the client
    (REPO / "shared/client").mkdir(exist_ok=True)
    git("mv", S, "shared/client/lesde")
    git("mv", "shared/client/pyproject.toml", "shared/client/pyproject.toml")
    # service renames
    for old, new in SERVICE_RENAMES.items():
        top = old.split(".")[0]
        folder = {"lesde_trainer": "services/trainer", "lesde_analyzer": "services/analyzer", "lesde_api": "services/api"}[top]
        src = REPO / folder / Path(*old.split(".")).with_suffix(".py")
        dst = REPO / folder / Path(*new.split(".")).with_suffix(".py")
        git("mv", str(src.relative_to(REPO)), str(dst.relative_to(REPO)))


def split_from_import(match: re.Match) -> str:
    """Rewrite one ``from lesde[.x] import a, b`` statement (single line)."""
    indent, module, names, tail = match.group(1), match.group(2), match.group(3), match.group(4) or ""
    items = [item.strip() for item in names.split(",") if item.strip()]
    groups: dict[str, list[str]] = {}
    for item in items:
        name = item.split(" as ")[0].strip()
        alias = item[len(name) :]
        target: str | None = None
        submodule = f"{module}.{name}"
        if module != "lesde" and submodule in SERVICE_RENAMES:
            parent, _, leaf = SERVICE_RENAMES[submodule].rpartition(".")
            groups.setdefault(parent, []).append(leaf + alias)
            continue
        if module == "lesde":
            old = f"lesde.{name}"
            if old in MAPPING:
                new = MAPPING[old]
                parent, _, leaf = new.rpartition(".")
                if leaf != name and not alias:
                    alias = ""  # renamed module: imported under its new name
                groups.setdefault(parent, []).append(leaf + alias)
                continue
            groups.setdefault("lesde", []).append(item)
            continue
        if module == "lesde_runtime.storage":
            target = "lesde_contract.object_store" if name in BASE_STORE_NAMES else "lesde_runtime.storage"
        elif module == "lesde_contract.chunks":
            target = "lesde_runtime.chunk_writer" if name in RUNTIME_CHUNK_NAMES else "lesde_contract.chunks"
        else:
            target = rename_module(module)
        groups.setdefault(target, []).append(item)
    lines = [f"{indent}from {target} import {', '.join(sorted(set(group), key=group.index))}{tail}" for target, group in groups.items()]
    return "\n".join(lines)


def rename_module(module: str) -> str:
    for old, new in sorted({**MAPPING, **SERVICE_RENAMES}.items(), key=lambda kv: -len(kv[0])):
        if module == old or module.startswith(old + "."):
            return new + module[len(old) :]
    return module


DOTTED = re.compile(r"(?<![\w.])(lesde(?:_trainer|_analyzer|_api)?(?:\.\w+)+)")
FROM_IMPORT = re.compile(r"^([ \t]*)from (lesde(?:_trainer|_analyzer|_api)?(?:\.\w+)*) import ([^()\n#]+?)([ \t]*#.*)?$", re.M)
# bare module names used after `from lesde import keys` -> object_keys
RENAMED_LEAVES = {"keys": "object_keys", "metrics": "worker_metrics", "jobs": "job_repository", "sweeps": "sweep_children"}


def rewrite_text(text: str, *, python: bool) -> str:
    if python:
        renamed_here: dict[str, str] = {}
        for match in FROM_IMPORT.finditer(text):
            for item in match.group(3).split(","):
                name = item.strip()
                if " as " in item:
                    continue
                if match.group(2) == "lesde" and name in RENAMED_LEAVES:
                    renamed_here[name] = RENAMED_LEAVES[name]
                submodule = f"{match.group(2)}.{name}"
                if submodule in SERVICE_RENAMES:
                    renamed_here[name] = SERVICE_RENAMES[submodule].rpartition(".")[2]
        text = FROM_IMPORT.sub(split_from_import, text)
        for old, new in renamed_here.items():
            text = re.sub(rf"(?<![\w.]){old}\.", new + ".", text)

    def dotted(match: re.Match) -> str:
        return rename_module(match.group(1))

    text = DOTTED.sub(dotted, text)
    return text


def rewrite_relative(rel: str, text: str) -> str:
    """``from .leaf import`` in a package whose module ``leaf`` was renamed."""
    roots = {"lesde_trainer": "services/trainer", "lesde_analyzer": "services/analyzer", "lesde_api": "services/api"}
    for old, new in SERVICE_RENAMES.items():
        parent, _, leaf = old.rpartition(".")
        folder = roots[parent.split(".")[0]] + "/" + parent.replace(".", "/") + "/"
        if rel.startswith(folder) and "/" not in rel[len(folder) :]:
            text = re.sub(rf"^(\s*)from \.{leaf} import", rf"\1from .{new.rpartition('.')[2]} import", text, flags=re.M)
    return text


def rewrite_all() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for rel in tracked:
        path = REPO / rel
        if not path.is_file() or path.suffix in (".png", ".npz", ".pdf", ".whl", ".c", ".inc"):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        new = rewrite_text(text, python=path.suffix == ".py")
        if path.suffix == ".py":
            new = rewrite_relative(rel, new)
        new = new.replace("shared/client/lesde/", "shared/client/lesde/").replace("shared/client/pyproject.toml", "shared/client/pyproject.toml")
        if new != text:
            path.write_text(new)


if __name__ == "__main__":
    if "--move" in sys.argv:
        move_files()
    if "--rewrite" in sys.argv:
        rewrite_all()
