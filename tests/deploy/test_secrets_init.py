"""deploy/secrets_init.py, the one-shot `secrets-init`: run here for real, with a temporary
folder as the volume `secrets` (as a user, not root: the group of the files is not set)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from deploy_files import REPO, run_secrets_init
from lesde_api.api_keys import KeyRing

ROOT_ONLY = {"minio-root-user", "minio-root-password", "api-key"}
SERVICES = {"s3-access-key", "s3-secret-key", "api-keys"}
ALNUM = re.compile(r"^[A-Za-z0-9-]+$")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def contents(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(folder.iterdir())}


def printed_key(stdout: str) -> str | None:
    """The key on the line after "shown this once", if printed."""
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if "shown this once" in line:
            return lines[index + 1].strip()
    return None


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "secrets"


def test_first_start_generates_every_secret_and_prints_the_key_once(folder: Path) -> None:
    first = run_secrets_init(folder)
    assert first.returncode == 0, first.stderr
    assert set(contents(folder)) == ROOT_ONLY | SERVICES, "no stray temporary files"
    key = (folder / "api-key").read_text().strip()
    assert printed_key(first.stdout) == key
    assert first.stdout.count(key) == 1
    assert "docker compose run --rm secrets-init cat" in first.stdout

    before = contents(folder)
    second = run_secrets_init(folder)
    assert second.returncode == 0, second.stderr
    assert contents(folder) == before, "a later start changed a secret"
    assert key not in second.stdout and printed_key(second.stdout) is None
    assert "nothing generated" in second.stdout


def test_modes_root_only_and_services(folder: Path) -> None:
    assert run_secrets_init(folder).returncode == 0
    assert mode(folder) == 0o750
    for name in ROOT_ONLY:
        assert mode(folder / name) == 0o600, name
    for name in SERVICES:
        assert mode(folder / name) == 0o640, name
    if os.geteuid() == 0:  # as in compose: the services' files get our images' group, the others root's
        assert folder.stat().st_gid == 1000
        assert {name: (folder / name).stat().st_gid for name in ROOT_ONLY} == dict.fromkeys(ROOT_ONLY, 0)
        assert {name: (folder / name).stat().st_gid for name in SERVICES} == dict.fromkeys(SERVICES, 1000)
    # a kept file gets its mode back
    (folder / "minio-root-password").chmod(0o644)
    assert run_secrets_init(folder).returncode == 0
    assert mode(folder / "minio-root-password") == 0o600


def test_secrets_fit_minio_and_the_shell(folder: Path) -> None:
    assert run_secrets_init(folder).returncode == 0
    values = {name: (folder / name).read_text().strip() for name in ROOT_ONLY | SERVICES - {"api-keys"}}
    for name, value in values.items():
        assert ALNUM.match(value) and not value.startswith("-"), f"{name} would need quoting or read as an mc option"
    # MinIO: access keys 3 to 20 characters, secret keys 8 to 40 (internal/auth/credentials.go)
    for name in ("minio-root-user", "s3-access-key"):
        assert 3 <= len(values[name]) <= 20, name
    for name in ("minio-root-password", "s3-secret-key"):
        assert len(values[name]) == 40, name
    assert len(set(values.values())) == len(values), "two secrets alike"
    assert len(values["api-key"]) >= 43
    # another volume, other secrets
    other = folder.parent / "other"
    assert run_secrets_init(other).returncode == 0
    assert all((other / name).read_text() != (folder / name).read_text() for name in values)


def test_the_gateway_accepts_the_generated_key_as_admin(folder: Path) -> None:
    assert run_secrets_init(folder).returncode == 0
    ring = KeyRing(None, folder / "api-keys")  # LESDE_API_KEYS_FILE's parser, hashed lines
    key = (folder / "api-key").read_text().strip()
    assert ring.configured and ring.owner_of(key) == "admin"
    assert ring.owner_of(key + "x") is None
    assert key not in (folder / "api-keys").read_text(), "the file the gateway reads holds only the hash"


@pytest.mark.parametrize("flag", ["LESDE_API_KEYS ", " LESDE_API_KEYS_FILE", "LESDE_API_KEYS LESDE_API_KEYS_FILE"])
def test_keys_in_env_replace_the_generated_one(folder: Path, flag: str) -> None:
    result = run_secrets_init(folder, {"API_KEYS_FROM_ENV": flag})
    assert result.returncode == 0, result.stderr
    key = (folder / "api-key").read_text().strip()
    assert key not in result.stdout and printed_key(result.stdout) is None
    assert ".env sets LESDE_API_KEYS" in result.stdout
    ring = KeyRing("alice=key-of-alice", folder / "api-keys")  # as the API then loads both
    assert ring.owner_of("key-of-alice") == "alice"
    assert ring.owner_of(key) is None, "the generated key still opens the gateway"
    # .env's keys removed again: the generated key is back, unchanged
    again = run_secrets_init(folder, {"API_KEYS_FROM_ENV": " "})
    assert again.returncode == 0
    assert (folder / "api-key").read_text().strip() == key
    assert KeyRing(None, folder / "api-keys").owner_of(key) == "admin"


def test_deleting_the_key_rotates_it(folder: Path) -> None:
    assert run_secrets_init(folder).returncode == 0
    old = (folder / "api-key").read_text().strip()
    kept = (folder / "s3-secret-key").read_text()
    (folder / "api-key").unlink()
    result = run_secrets_init(folder)
    new = (folder / "api-key").read_text().strip()
    assert new != old and printed_key(result.stdout) == new
    ring = KeyRing(None, folder / "api-keys")
    assert ring.owner_of(new) == "admin" and ring.owner_of(old) is None
    assert (folder / "s3-secret-key").read_text() == kept, "only the deleted secret is made again"
    assert "generated api-key in" in result.stdout


def test_an_empty_file_is_generated_again(folder: Path) -> None:
    assert run_secrets_init(folder).returncode == 0
    (folder / "s3-secret-key").write_text("\n")
    result = run_secrets_init(folder)
    assert result.returncode == 0
    assert len((folder / "s3-secret-key").read_text().strip()) == 40
    assert "generated s3-secret-key in" in result.stdout


def test_an_unwritable_volume_fails_with_the_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_secrets_init(blocker / "secrets")
    assert result.returncode == 2
    assert f"cannot write the secrets in {blocker / 'secrets'}" in result.stderr


def test_the_group_is_the_one_our_images_run_as() -> None:
    # secrets-init gives the services' files the group SECRETS_GID; our images' user must be in it.
    from deploy_files import COMPOSE, load_compose_yaml

    gid = int(load_compose_yaml(COMPOSE.read_text())["services"]["secrets-init"]["environment"]["SECRETS_GID"])
    for dockerfile in sorted((REPO / "deploy").glob("*.Dockerfile")):
        text = dockerfile.read_text()
        # useradd makes a group of the user's name with the gid equal to the uid (USERGROUPS_ENAB)
        assert re.search(rf"useradd [^\n]*--uid {gid} lesde", text), f"{dockerfile.name}: its user is not uid/gid {gid}"
        assert re.search(r"^USER lesde$", text, re.MULTILINE), f"{dockerfile.name} does not run as lesde"
