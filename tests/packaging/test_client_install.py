"""The HTTP client and the ``lesde`` command install alone, without the runtime or what the
services need.

A fresh virtual environment gets ``pip install`` of copies of ``shared/client`` and the
contract it depends on (``shared/contract``), with their declared dependencies from the
package index (nothing else: not ``shared/runtime``), then imports the client, records a run
and runs ``lesde --help``. It takes up to a minute or two: building the
package and fetching httpx is most of it, so the timeouts are generous.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_TIMEOUT_S = 120
INSTALL_TIMEOUT_S = 300
RUN_TIMEOUT_S = 60
# What only the services need (the ``services`` extra and the workers); none may come with the client.
# (numpy and pydantic come with it: the Recorder's chunks, and the contract's specs and result models)
SERVICE_ONLY = ("lesde_runtime", "celery", "kombu", "redis", "minio", "pydantic_settings", "sqlalchemy", "torch", "fastapi")


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with only ``pip install shared/client shared/contract`` in it (from copies, so the build leaves the checkout alone)."""
    root = tmp_path_factory.mktemp("client-install")
    sources = []
    for part in ("client", "contract"):
        sources.append(root / part)
        shutil.copytree(REPO / "shared" / part, sources[-1], ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=VENV_TIMEOUT_S)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *map(str, sources)],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    assert install.returncode == 0, f"pip install shared/client shared/contract failed:\n{install.stdout}\n{install.stderr}"
    return venv


def run_in(venv: Path, *command: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}  # only what the venv installed
    return subprocess.run(
        [str(venv / "bin" / command[0]), *command[1:]], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=venv, env=clean
    )


def test_client_imports_without_the_services_dependencies(client_venv: Path) -> None:
    probe = (
        "import importlib.util, lesde.client, lesde.cli\n"
        f"print(','.join(name for name in {SERVICE_ONLY!r} if importlib.util.find_spec(name)))\n"
    )
    result = run_in(client_venv, "python", "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"the client's install pulled in {result.stdout.strip()}"


def test_lesde_help_runs_and_up_says_how_to_get_the_launcher(client_venv: Path) -> None:
    helped = run_in(client_venv, "lesde", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "submit" in helped.stdout and "up" in helped.stdout
    up = run_in(client_venv, "lesde", "up", "--port", "8123")
    assert up.returncode == 2
    assert "./services/launcher" in up.stderr, up.stderr


def test_the_recorder_records_a_run_with_the_client_alone(client_venv: Path) -> None:
    script = (
        "import json, numpy as np, lesde\n"
        "rec = lesde.Recorder(classes=['a', 'b'], trials=2, store='run', chunk_iterations=10)\n"
        "for trial in range(2):\n"
        "    for step in range(25):\n"
        "        rec.log(step, np.array([[0.1 * step, -0.1]]), step % 2, trial=trial)\n"
        "rec.close()\n"
        "print(json.load(open('run/manifest.json'))['iterations_done'])\n"
    )
    result = run_in(client_venv, "python", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "25"
