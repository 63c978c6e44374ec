"""Fixtures shared by every test.

Integration fixtures read the servers started by ``scripts/test_stack.py`` (``make test``)
from ``LESDE_TEST_*`` variables. Without them a test that needs a server is skipped,
unless ``LESDE_REQUIRE_SERVICES`` is set (the test stack sets it): then it fails, so CI
can never pass by silently skipping integration tests.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from lesde_runtime.storage.local import LocalStore
    from lesde_runtime.storage.s3 import S3Store

# --------------------------------------------------------------------------- services


def services_required() -> bool:
    return os.environ.get("LESDE_REQUIRE_SERVICES", "").strip().lower() not in ("", "0", "false", "no")


def _require_env(*names: str) -> dict[str, str]:
    """The values of ``names``; skip (or fail, when services are required) if any is unset."""
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        reason = (
            f"{', '.join(missing)} not set: this test needs the servers of scripts/test_stack.py "
            "(run `make test`, or `.venv/bin/python scripts/test_stack.py --services-only` and export what it prints)"
        )
        if services_required():
            pytest.fail(f"LESDE_REQUIRE_SERVICES is set but {reason}", pytrace=False)
        pytest.skip(reason)
    return {name: os.environ[name] for name in names}


@dataclass(frozen=True)
class S3TestSettings:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    secure: bool = False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """``redis://host:port/0`` of the test Redis."""
    return _require_env("LESDE_TEST_REDIS_URL")["LESDE_TEST_REDIS_URL"]


@pytest.fixture(scope="session")
def s3_settings() -> S3TestSettings:
    """Endpoint, keys and the shared bucket of the test S3 server."""
    env = _require_env("LESDE_TEST_S3_ENDPOINT", "LESDE_TEST_S3_ACCESS_KEY", "LESDE_TEST_S3_SECRET_KEY", "LESDE_TEST_S3_BUCKET")
    return S3TestSettings(
        endpoint=env["LESDE_TEST_S3_ENDPOINT"],
        access_key=env["LESDE_TEST_S3_ACCESS_KEY"],
        secret_key=env["LESDE_TEST_S3_SECRET_KEY"],
        bucket=env["LESDE_TEST_S3_BUCKET"],
    )


@pytest.fixture
def s3_store(s3_settings: S3TestSettings) -> Iterator[S3Store]:
    """An :class:`~lesde_runtime.storage.s3.S3Store` on a fresh bucket of its own; emptied and removed after the test."""
    from lesde_runtime.storage.s3 import S3Store

    store = S3Store(
        endpoint=s3_settings.endpoint,
        access_key=s3_settings.access_key,
        secret_key=s3_settings.secret_key,
        bucket=f"lesde-t-{uuid.uuid4().hex[:8]}",
        secure=s3_settings.secure,
    )
    yield store
    with contextlib.suppress(Exception):  # clean-up must not mask the test's own outcome
        store.delete_prefix("")
        store.client.remove_bucket(store.bucket)


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    """A :class:`~lesde_runtime.storage.local.LocalStore` in the test's temporary directory."""
    from lesde_runtime.storage.local import LocalStore

    return LocalStore(tmp_path / "store")


# --------------------------------------------------------------------------- more shared fixtures
# (the lead adds further project-wide fixtures below this line)


# In-process code that enqueues tasks (the API under TestClient) uses the real filesystem
# transport in a private folder, never a Redis the machine happens to run. This runs at
# import, before any conftest or test module below imports ``lesde_runtime.celery_app`` (which
# reads it once); a pytest_configure hook would be too late for the initial conftests.
os.environ.setdefault("LESDE_BROKER_URL", "filesystem://")
os.environ.setdefault("LESDE_BROKER_DIR", tempfile.mkdtemp(prefix="lesde-test-broker-"))
