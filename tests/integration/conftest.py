"""Start the real services (uvicorn, Celery workers) against the test Redis and S3."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from lesde_launcher.stack import EmbeddedStack, free_port
from lesde_runtime.storage.s3 import S3Store

from .helpers import stack_overrides


@pytest.fixture(scope="module")
def start_services(redis_url, s3_settings, tmp_path_factory) -> Iterator[Callable[..., tuple[EmbeddedStack, S3Store]]]:
    """Factory: ``start_services(chunk=25, trainer_pool="solo")`` -> (running stack, its S3 store).

    Each stack gets a bucket of its own and is stopped (and its bucket emptied) after the module.
    """
    started: list[tuple[EmbeddedStack, S3Store]] = []

    def start(*, chunk: int, trainer_pool: str = "solo") -> tuple[EmbeddedStack, S3Store]:
        bucket = f"lesde-e2e-{uuid.uuid4().hex[:8]}"
        overrides = stack_overrides(redis_url, s3_settings, bucket=bucket, chunk=chunk)
        stack = EmbeddedStack(state_dir=tmp_path_factory.mktemp("stack"), port=free_port(), overrides=overrides, trainer_pool=trainer_pool)
        stack.start(timeout=120)
        store = S3Store(endpoint=s3_settings.endpoint, access_key=s3_settings.access_key, secret_key=s3_settings.secret_key, bucket=bucket)
        started.append((stack, store))
        return stack, store

    yield start
    for stack, store in started:
        stack.stop()
        store.delete_prefix("")
