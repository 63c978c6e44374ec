"""Every image the stack pulls is pinned by a version tag and pulled from where it is
published today (MinIO's from quay.io: they left Docker Hub in September 2026), in every
compose file (the GPU overrides too), with no .env as with a filled-in one."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_files import (
    COMPOSE,
    COMPOSE_FILES,
    FRESH_CLONE_ENV,
    REPO,
    dockerfile_base_images,
    interpolate,
    load_compose_yaml,
    operator_env,
    pin_problems,
)

# The last community server release, and the last mc release before it (tags of
# github.com/minio/mc; the same tag is on quay.io/minio/mc).
MINIO_SERVER = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
MINIO_CLIENT = "quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return load_compose_yaml(COMPOSE.read_text())["services"]


def compose_images(services: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    """Service name -> image reference, interpolated with ``env``."""
    return {name: interpolate(service["image"], env) for name, service in services.items() if "image" in service}


@pytest.mark.parametrize("env", [FRESH_CLONE_ENV, operator_env()], ids=["no .env", "operator .env"])
@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_every_compose_image_is_pinned_and_pullable(path, env: dict[str, str]) -> None:
    services = load_compose_yaml(path.read_text())["services"]
    images = compose_images(services, env)
    if path == COMPOSE:
        assert {"redis", "minio", "minio-setup", "secrets-init"} <= set(images)
    problems = [problem for reference in images.values() for problem in pin_problems(reference)]
    assert not problems, "\n".join(problems)
    # a service without an image of its own inherits one (extends) or builds it
    for name, service in services.items():
        assert "image" in service or "extends" in service or "build" in service or set(service) <= {"deploy"}, name


def test_secrets_init_needs_no_image_we_do_not_already_pull(services: dict[str, Any]) -> None:
    # python:3.11.13-slim-bookworm: the base of the API and analyzer images (pulled for the build anyway).
    image = compose_images(services, FRESH_CLONE_ENV)["secrets-init"]
    bases = {base for dockerfile in (REPO / "deploy").glob("*.Dockerfile") for base in dockerfile_base_images(dockerfile)}
    assert image in bases


def test_our_images_default_to_a_version_tag_not_latest(services: dict[str, Any]) -> None:
    # With no LESDE_TAG at all, our built images are still named by a version.
    env = {k: v for k, v in operator_env().items() if k != "LESDE_TAG"}
    for name in ("api", "trainer", "analyzer", "reaper"):
        reference = compose_images(services, env)[name]
        assert not pin_problems(reference), pin_problems(reference)


def test_minio_comes_from_quay_at_its_last_community_release(services: dict[str, Any]) -> None:
    images = compose_images(services, operator_env())
    assert images["minio"] == MINIO_SERVER
    assert images["minio-setup"] == MINIO_CLIENT


@pytest.mark.parametrize("dockerfile", sorted((REPO / "deploy").glob("*.Dockerfile")), ids=lambda p: p.name)
def test_every_dockerfile_base_image_is_pinned(dockerfile) -> None:
    bases = dockerfile_base_images(dockerfile)
    assert bases, f"{dockerfile.name} has no FROM"
    problems = [problem for base in bases for problem in pin_problems(base)]
    assert not problems, "\n".join(problems)


# The check itself: it must fail on what broke `docker compose up`, and on floating tags.
@pytest.mark.parametrize(
    "reference",
    [
        "minio/minio:latest",
        "minio/minio",
        "minio/minio:RELEASE.2025-09-07T16-13-09Z",  # pinned, but Docker Hub no longer has it
        "docker.io/minio/mc:RELEASE.2025-08-13T08-35-41Z",
        "index.docker.io/minio/minio:RELEASE.2025-09-07T16-13-09Z",
        "quay.io/minio/minio:latest",
        "quay.io/minio/mc",
        "redis",
        "redis:latest",
        "redis:alpine",
        "redis:7-alpine",  # a major version moves too
        "python:3",
        "lesde/api:${LESDE_TAG:-latest}",
    ],
)
def test_the_pin_check_rejects(reference: str) -> None:
    assert pin_problems(interpolate(reference, {})), f"{reference} passed the pin check"


@pytest.mark.parametrize(
    "reference",
    [
        MINIO_SERVER,
        MINIO_CLIENT,
        "redis:7.4-alpine",
        "python:3.11.13-slim-bookworm",
        "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04",
        "registry.example.org:5000/lesde/api:0.1.0",
        "redis@sha256:0123456789abcdef",
    ],
)
def test_the_pin_check_accepts(reference: str) -> None:
    assert pin_problems(reference) == []


def test_the_check_reads_a_compose_file_with_latest_as_failing() -> None:
    # End to end on a compose file as it was before: MinIO from Docker Hub at `latest`.
    old = load_compose_yaml(
        "services:\n"
        "  minio:\n    image: minio/minio:latest\n"
        "  minio-init:\n    image: minio/mc:latest\n"
        "  redis:\n    image: redis:7-alpine\n"
    )["services"]
    problems = [problem for reference in compose_images(old, {}).values() for problem in pin_problems(reference)]
    assert len(problems) == 5, problems  # two floating tags, two Docker Hub MinIO images, one major-only tag
