"""``lesde[analysis]`` (the client with ``lesde-analyzer``) is the analysis without the
services: its requirements name no runtime, Celery, S3 client or web framework, and
recording a run and analysing it in-process imports none of them (checked in a fresh
interpreter that refuses them)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICES_ONLY = (
    "lesde_runtime",
    "celery",
    "kombu",
    "redis",
    "minio",
    "fastapi",
    "starlette",
    "uvicorn",
    "prometheus_client",
    "torch",
    "pydantic_settings",
)


def test_the_analysis_requirements_name_no_service_library():
    client = tomllib.loads((REPO / "shared/client/pyproject.toml").read_text())["project"]
    contract = tomllib.loads((REPO / "shared/contract/pyproject.toml").read_text())["project"]
    analyzer = tomllib.loads((REPO / "services/analyzer/pyproject.toml").read_text())["project"]
    requirements = (
        client["dependencies"] + client["optional-dependencies"]["analysis"] + contract["dependencies"] + analyzer["dependencies"]
    )
    named = {text.split("[")[0].split(">")[0].split("=")[0].strip().lower() for text in requirements}
    assert named.isdisjoint({"lesde-runtime", "celery", "minio", "fastapi", "redis", "uvicorn", "prometheus-client", "torch"}), named
    assert client["optional-dependencies"]["analysis"] == ["lesde-analyzer"]
    assert "lesde-runtime" in analyzer["optional-dependencies"]["worker"]


SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys, tempfile
    from pathlib import Path

    BLOCKED = set(sys.argv[1].split(","))

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not installed with lesde[analysis]")
            return None

    sys.meta_path.insert(0, Refuse())
    import numpy as np
    import lesde

    rng = np.random.default_rng(0)
    folder = Path(tempfile.mkdtemp()) / "run"
    rec = lesde.Recorder(classes=["a", "b", "c"], trials=3, store=folder)
    for step in range(300):
        for trial in range(3):
            y = int(rng.integers(3))
            rec.log(step, 0.01 * step * np.eye(3)[y] + 0.1 * rng.standard_normal(3), y, trial=trial)
    rec.close()
    result = lesde.analyze(folder)
    result.figure("alpha-beta")
    assert result.to_pandas().shape[0] > 0
    print("verdict", result.verdict["label"])
    """
)


def test_recording_and_analysing_in_process_import_no_service_library(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(SERVICES_ONLY)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "verdict" in done.stdout
