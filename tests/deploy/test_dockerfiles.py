"""Dockerfiles install dependencies from the manifests before copying the source (so a
code change rebuilds only the last layer), and deploy/requirements_from_pyproject.py
lists exactly the third-party requirements those installs need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from deploy_files import REPO

sys.path.insert(0, str(REPO / "deploy"))
from requirements_from_pyproject import requirement_target, third_party_requirements
from test_compose import copy_sources, dockerfile_instructions

DOCKERFILES = sorted((REPO / "deploy").glob("*.Dockerfile"))
SERVICE_OF = {"api.Dockerfile": "api", "trainer.Dockerfile": "trainer", "analyzer.Dockerfile": "analyzer"}
MANIFEST_OR_TOOL = ("pyproject.toml", "deploy/requirements_from_pyproject.py")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dependencies_install_before_the_source_is_copied(dockerfile: Path) -> None:
    steps = dockerfile_instructions(dockerfile)
    copies = [(index, copy_sources_of(args)) for index, (ins, args) in enumerate(steps) if ins in ("COPY", "ADD")]
    installs = [index for index, (ins, args) in enumerate(steps) if ins == "RUN" and "pip install" in args and "-r " in args]
    assert installs, f"{dockerfile.name}: no `pip install -r` of the requirements"
    first_source = min(index for index, sources in copies if not all(src.endswith(MANIFEST_OR_TOOL) for src in sources))
    manifests = [index for index, sources in copies if any(src.endswith("pyproject.toml") for src in sources)]
    service = SERVICE_OF[dockerfile.name]
    copied_manifests = {src for _, sources in copies for src in sources if src.endswith("pyproject.toml")}
    assert copied_manifests == {"shared/contract/pyproject.toml", "shared/runtime/pyproject.toml", f"services/{service}/pyproject.toml"}
    assert max(manifests) < installs[0] < first_source, f"{dockerfile.name}: manifests, then install, then source"
    final = [args for ins, args in steps[first_source:] if ins == "RUN" and "pip install" in args]
    assert final and all("--no-deps" in args for args in final), f"{dockerfile.name}: the source install resolves again"
    assert any("pip check" in args for args in final), f"{dockerfile.name}: no pip check after --no-deps"


def copy_sources_of(args: str) -> list[str]:
    """Sources of one COPY's arguments (through the test_compose parser, on a one-line file)."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".Dockerfile", delete=False) as handle:
        handle.write(f"COPY {args}\n")
    try:
        return copy_sources(Path(handle.name))
    finally:
        Path(handle.name).unlink()


@pytest.mark.parametrize("service", ["api", "trainer", "analyzer"])
def test_requirements_cover_the_service_and_the_shared_extras(service: str) -> None:
    manifests = [
        REPO / "shared" / "contract" / "pyproject.toml",
        REPO / "shared" / "runtime" / "pyproject.toml",
        REPO / "services" / service / "pyproject.toml",
    ]
    # the analyzer's image asks for its worker extra (Celery, S3); without it the package is the math alone
    printed = third_party_requirements(manifests, {"lesde-analyzer": {"worker"}} if service == "analyzer" else None)
    names = {requirement_target(line)[0] for line in printed}
    assert not names & {"lesde", "lesde-contract", "lesde-runtime", f"lesde-{service}"}, "local projects are installed from source"
    # the runtime's requirements and the contract's are in; the client's are not needed
    assert {"pydantic", "pydantic-settings", "celery", "minio", "urllib3", "numpy"} <= names
    assert len(printed) == len(set(printed))
    if service == "trainer":
        assert "torch==2.14.1" in printed
    else:
        assert "torch" not in names


def test_the_analyzer_math_alone_needs_no_worker_library() -> None:
    printed = third_party_requirements([REPO / "shared" / "contract" / "pyproject.toml", REPO / "services" / "analyzer" / "pyproject.toml"])
    names = {requirement_target(line)[0] for line in printed}
    assert {"numpy", "scipy", "matplotlib", "pydantic"} <= names and not names & {"celery", "minio", "fastapi"}
    assert '"/app/services/analyzer/pyproject.toml[worker]"' in (REPO / "deploy" / "analyzer.Dockerfile").read_text()


def test_requirements_script_runs_on_a_bare_python(tmp_path: Path) -> None:
    # As the Dockerfile runs it: a plain interpreter, isolated from our site-packages.
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            str(REPO / "deploy" / "requirements_from_pyproject.py"),
            str(REPO / "shared" / "contract" / "pyproject.toml"),
            str(REPO / "shared" / "runtime" / "pyproject.toml"),
            str(REPO / "services" / "api" / "pyproject.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert "fastapi>=0.110" in lines and "celery[redis]>=5.3" in lines
    assert not any(line.startswith("lesde") for line in lines)


def test_requirements_script_names_a_missing_extra(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "a"\ndependencies = ["b[gpu]"]\n')
    (tmp_path / "b" / "pyproject.toml").write_text('[project]\nname = "b"\ndependencies = ["numpy"]\n')
    with pytest.raises(ValueError, match=r"b has no extras \['gpu'\]"):
        third_party_requirements([tmp_path / "a" / "pyproject.toml", tmp_path / "b" / "pyproject.toml"])
