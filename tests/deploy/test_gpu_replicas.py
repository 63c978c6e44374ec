"""GPUs come from an override, one trainer per GPU: docker-compose.yml reserves none (the
trainer runs on CPU, so a host without the NVIDIA container toolkit starts the stack);
deploy/gpu_trainers.py writes the overrides: `trainer` on GPU 0 (deploy/compose.gpu.yml,
--gpus 1) and trainer-gpu1.. each extending it with its own device (deploy/compose.gpus.yml;
docker compose's --scale cannot give replicas different devices). Parsed here as Compose
would merge them."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from deploy_files import COMPOSE, GPU_OVERRIDE, GPUS_OVERRIDE, REPO, load_compose_yaml, tagged_paths

sys.path.insert(0, str(REPO / "deploy"))
from gpu_trainers import MAX_GPUS, output_path, render


def gpu_devices(service: dict[str, Any]) -> list[dict[str, Any]]:
    reservations = ((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}
    return [d for d in reservations.get("devices") or [] if d.get("driver") == "nvidia"]


def merged_with_base(override: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The trainers once Compose applied the override: `trainer` is the base service with the
    override's keys merged in (`-f`); a trainer-gpuK is what `extends` makes of the base file's
    `trainer` (which has no device: nothing to append to) with its own keys on top."""
    base = load_compose_yaml(COMPOSE.read_text())["services"]
    merged = {}
    for name, service in override["services"].items():
        parent = base[service["extends"]["service"]] if "extends" in service else base[name]
        merged[name] = {**parent, **{k: v for k, v in service.items() if k != "extends"}}
    return merged


def test_base_trainer_reserves_no_gpu() -> None:
    # Was: GPU 0 reserved here, and `docker compose up` failed without the NVIDIA toolkit.
    trainer = load_compose_yaml(COMPOSE.read_text())["services"]["trainer"]
    assert gpu_devices(trainer) == [] and "deploy" not in trainer


def test_one_gpu_override_takes_gpu_zero_by_id_not_by_count() -> None:
    trainer = merged_with_base(load_compose_yaml(GPU_OVERRIDE.read_text()))["trainer"]
    devices = gpu_devices(trainer)
    assert len(devices) == 1 and devices[0]["device_ids"] == ["0"] and "count" not in devices[0]
    assert devices[0]["capabilities"] == ["gpu"]


@pytest.mark.parametrize("gpus", [1, 2, 4, 8])
def test_override_gives_each_gpu_its_own_trainer(gpus: int) -> None:
    text = render(gpus)
    override = load_compose_yaml(text)
    assert set(override["services"]) == {"trainer"} | {f"trainer-gpu{k}" for k in range(1, gpus)}
    for name, service in override["services"].items():
        if name != "trainer":
            assert service["extends"] == {"file": "docker-compose.yml", "service": "trainer"}
    # The base trainer has no device list to inherit, so none needs `!override` (Compose 2.24.4+).
    assert tagged_paths(text, "!override") == []
    owned = [gpu_devices(service)[0]["device_ids"] for service in merged_with_base(override).values()]
    assert all(len(gpu_devices(service)) == 1 for service in merged_with_base(override).values())
    assert sorted(owned, key=lambda ids: int(ids[0])) == [[str(k)] for k in range(gpus)], "each GPU exactly once"


def test_override_trainers_keep_the_trainer_command_health_and_grace() -> None:
    base = load_compose_yaml(COMPOSE.read_text())["services"]["trainer"]
    for service in merged_with_base(load_compose_yaml(render(3))).values():
        for key in ("command", "healthcheck", "stop_grace_period", "environment", "depends_on", "image", "volumes"):
            assert service[key] == base[key]


def test_the_checked_in_overrides_are_the_generators_output() -> None:
    assert GPU_OVERRIDE.read_text() == render(1), "deploy/compose.gpu.yml was edited by hand: run deploy/gpu_trainers.py --gpus 1"
    text = GPUS_OVERRIDE.read_text()
    gpus = len(load_compose_yaml(text)["services"])
    assert gpus >= 2
    assert text == render(gpus), "deploy/compose.gpus.yml was edited by hand: run deploy/gpu_trainers.py again"
    assert output_path(1) == "deploy/compose.gpu.yml" and output_path(gpus) == "deploy/compose.gpus.yml"


# 1 was refused while the base file held GPU 0 (an override for one GPU added nothing); it is
# now the override that gives the trainer its GPU.
@pytest.mark.parametrize("gpus", ["0", "-1", str(MAX_GPUS + 1)])
def test_generator_refuses_counts_out_of_range(gpus: str) -> None:
    result = subprocess.run(
        [sys.executable, "-I", str(REPO / "deploy" / "gpu_trainers.py"), "--gpus", gpus],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"--gpus must be 1 to {MAX_GPUS} (got {gpus})" in result.stderr
    assert result.stdout == ""


def test_compose_documents_the_gpu_overrides() -> None:
    text = COMPOSE.read_text()
    assert "--scale" in text and "deploy/gpu_trainers.py --gpus" in text and "-f deploy/compose.gpus.yml" in text
    assert "-f deploy/compose.gpu.yml" in text
