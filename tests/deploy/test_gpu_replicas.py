"""One trainer per GPU: `trainer` keeps GPU 0 and deploy/gpu_trainers.py writes an override
with trainer-gpu1.. each extending it with its own device (docker compose's --scale
cannot give replicas different devices). Parsed here as Compose would merge it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from deploy_files import COMPOSE, REPO, load_compose_yaml, tagged_paths

sys.path.insert(0, str(REPO / "deploy"))
from gpu_trainers import MAX_GPUS, render  # noqa: E402

CHECKED_IN = REPO / "deploy" / "compose.gpus.yml"


def gpu_devices(service: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in service["deploy"]["resources"]["reservations"]["devices"] if d.get("driver") == "nvidia"]


def merged_with_base(override: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The override's services as `extends` resolves them: the base service, with the
    override's keys replacing (``!override``) the inherited ones at the top of ``deploy``."""
    base = load_compose_yaml(COMPOSE.read_text())["services"]
    merged = {}
    for name, service in override["services"].items():
        parent = base[service["extends"]["service"]]
        merged[name] = {**parent, **{k: v for k, v in service.items() if k != "extends"}}
    return merged


def test_base_trainer_takes_gpu_zero_by_id_not_by_count() -> None:
    trainer = load_compose_yaml(COMPOSE.read_text())["services"]["trainer"]
    devices = gpu_devices(trainer)
    assert len(devices) == 1 and devices[0]["device_ids"] == ["0"] and "count" not in devices[0]
    assert devices[0]["capabilities"] == ["gpu"]


@pytest.mark.parametrize("gpus", [2, 4, 8])
def test_override_gives_each_gpu_its_own_trainer(gpus: int) -> None:
    text = render(gpus)
    override = load_compose_yaml(text)
    assert set(override["services"]) == {f"trainer-gpu{k}" for k in range(1, gpus)}
    for name, service in override["services"].items():
        assert service["extends"] == {"file": "docker-compose.yml", "service": "trainer"}
        # Without !override Compose appends the list to the inherited GPU 0: two GPUs each.
        assert f"services.{name}.deploy.resources.reservations.devices" in tagged_paths(text, "!override")
    owned = [gpu_devices(service)[0]["device_ids"] for service in merged_with_base(override).values()]
    owned.append(gpu_devices(load_compose_yaml(COMPOSE.read_text())["services"]["trainer"])[0]["device_ids"])
    assert sorted(owned, key=lambda ids: int(ids[0])) == [[str(k)] for k in range(gpus)], "each GPU exactly once"


def test_override_trainers_keep_the_trainer_command_health_and_grace() -> None:
    base = load_compose_yaml(COMPOSE.read_text())["services"]["trainer"]
    for service in merged_with_base(load_compose_yaml(render(3))).values():
        for key in ("command", "healthcheck", "stop_grace_period", "environment", "depends_on", "image"):
            assert service[key] == base[key]


def test_the_checked_in_override_is_the_generators_output() -> None:
    text = CHECKED_IN.read_text()
    gpus = len(load_compose_yaml(text)["services"]) + 1
    assert text == render(gpus), "deploy/compose.gpus.yml was edited by hand: run deploy/gpu_trainers.py again"


@pytest.mark.parametrize("gpus", ["1", "0", str(MAX_GPUS + 1)])
def test_generator_refuses_counts_out_of_range(gpus: str) -> None:
    result = subprocess.run(
        [sys.executable, "-I", str(REPO / "deploy" / "gpu_trainers.py"), "--gpus", gpus],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert f"--gpus must be 2 to {MAX_GPUS} (got {gpus})" in result.stderr
    assert result.stdout == ""


def test_compose_documents_the_per_gpu_recipe() -> None:
    text = COMPOSE.read_text()
    assert "--scale" in text and "deploy/gpu_trainers.py --gpus" in text and "-f deploy/compose.gpus.yml" in text
