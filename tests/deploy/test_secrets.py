"""Compose starts only with the operator's own secrets, and the services reach MinIO as a
user of their own, limited to the bucket, never as MinIO's root.

The set-up script (deploy/minio-setup.sh) runs here for real in a POSIX shell; only `mc`
is a stand-in that records its arguments, because no MinIO server or mc binary can run
on this machine (no Docker engine). The stand-in answers `admin user info` as told.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deploy_files import (
    COMPOSE,
    REPO,
    MissingVariable,
    compose_file_refs,
    env_example,
    load_compose_yaml,
    operator_env,
    service_env,
    strings_in,
)

SETUP_SCRIPT = REPO / "deploy" / "minio-setup.sh"
# Environment names that hold a secret (or name the account a secret unlocks).
SECRET_NAME = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|API_KEYS$|TOKEN|ROOT_USER")
# Defaults that were, or are commonly, shipped as passwords.
KNOWN_DEFAULTS = ("change-me", "changeme", "minioadmin")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose_yaml(COMPOSE.read_text())


def environments(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Service name -> its raw (not interpolated) environment mapping."""
    return {name: service.get("environment") or {} for name, service in compose["services"].items()}


# --------------------------------------------------------------------------- compose


def test_every_secret_is_required_with_a_message(compose: dict[str, Any]) -> None:
    seen = set()
    for name, env in environments(compose).items():
        for var, raw in env.items():
            if not SECRET_NAME.search(var):
                continue
            refs = compose_file_refs(f"x: {json.dumps(str(raw))}")
            assert len(refs) == 1 and str(raw).startswith("${") and str(raw).endswith("}"), (
                f"{name}: {var} must be exactly one ${{VAR:?message}}, not {raw!r}"
            )
            ref = refs[0]
            assert ref.op == ":?" and ref.arg.strip(), f"{name}: {var} is {raw!r}: write ${{{ref.name}:?why}}, no default"
            assert ref.name in ref.arg, f"{name}: the message of {var} should name the variable to set"
            seen.add(var)
    assert {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "LESDE_S3_ACCESS_KEY", "LESDE_S3_SECRET_KEY", "LESDE_API_KEYS"} <= seen


@pytest.mark.parametrize("missing", ["MINIO_ROOT_PASSWORD", "LESDE_S3_SECRET_KEY", "LESDE_S3_ACCESS_KEY", "LESDE_API_KEYS"])
def test_compose_stops_without_each_secret(compose: dict[str, Any], missing: str) -> None:
    for empty in ({k: v for k, v in operator_env().items() if k != missing}, {**operator_env(), missing: ""}):
        stopped = []
        for service in compose["services"].values():
            try:
                service_env(service, empty)
            except MissingVariable as error:
                assert error.name == missing
                stopped.append(error)
        assert stopped, f"compose starts with {missing} unset or empty"


def test_no_default_password_anywhere_in_compose(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text().lower()
    for default in KNOWN_DEFAULTS:
        assert default not in text, f"docker-compose.yml still mentions {default!r}"
    for ref in compose_file_refs(COMPOSE.read_text()):
        if SECRET_NAME.search(ref.name):
            assert ref.op in ("", ":?", "?"), f"${{{ref.name}}} has a default ({ref.op}{ref.arg})"
    # No literal value anywhere that is not a variable for a secret-named key.
    for name, env in environments(compose).items():
        for var, raw in env.items():
            if SECRET_NAME.search(var):
                assert "${" in str(raw), f"{name}: {var} is a literal in compose"
    values = " ".join(strings_in(compose)).lower()
    assert "password=" not in values and "secret=" not in values


def test_env_example_leaves_every_secret_empty() -> None:
    example = env_example()
    secrets = {name: value for name, value in example.items() if re.search(r"PASSWORD|SECRET|API_KEYS$", name)}
    assert {"MINIO_ROOT_PASSWORD", "LESDE_S3_SECRET_KEY", "LESDE_API_KEYS"} <= set(secrets)
    filled = {name: value for name, value in secrets.items() if value}
    assert not filled, f".env.example ships secrets {sorted(filled)}: a copied .env would start with known ones"


def test_services_s3_credentials_differ_from_minio_root(compose: dict[str, Any]) -> None:
    env = operator_env()
    root = service_env(compose["services"]["minio"], env)
    raw_root = compose["services"]["minio"]["environment"]
    for name in ("api", "trainer", "analyzer", "reaper"):
        raw = compose["services"][name]["environment"]
        # Not merely different values today: different variables, so no .env can make them one.
        assert raw["LESDE_S3_ACCESS_KEY"] != raw_root["MINIO_ROOT_USER"]
        assert raw["LESDE_S3_SECRET_KEY"] != raw_root["MINIO_ROOT_PASSWORD"]
        ours = service_env(compose["services"][name], env)
        assert ours["LESDE_S3_ACCESS_KEY"] != root["MINIO_ROOT_USER"]
        assert ours["LESDE_S3_SECRET_KEY"] != root["MINIO_ROOT_PASSWORD"]
        assert "MINIO_ROOT_PASSWORD" not in ours and "MINIO_ROOT_USER" not in ours, f"{name} sees MinIO's root pair"


def test_only_minio_and_its_setup_see_the_root_pair(compose: dict[str, Any]) -> None:
    for name, env in environments(compose).items():
        if "MINIO_ROOT_PASSWORD" in env:
            assert name in ("minio", "minio-setup"), f"{name} gets MinIO's root password"


def test_minio_setup_runs_the_script_once(compose: dict[str, Any]) -> None:
    setup = compose["services"]["minio-setup"]
    assert setup["entrypoint"][0] == "/bin/sh"
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in setup["volumes"]}
    script = setup["entrypoint"][1]
    assert (REPO / mounted[script]).resolve() == SETUP_SCRIPT
    assert str(setup["restart"]) == "no"
    assert setup["depends_on"]["minio"]["condition"] == "service_healthy"


# --------------------------------------------------------------------------- the set-up script


FAKE_MC = """#!/bin/sh
# Stand-in for MinIO's mc: records its arguments; answers `admin user info` from $FAKE_USER_INFO.
printf '%s\\n' "$*" >> "$MC_LOG"
if [ "$1 $2 $3" = "admin user info" ]; then printf '%s\\n' "$FAKE_USER_INFO"; fi
if [ "$1 $2 $3" = "admin policy create" ]; then cat "$6" > "$MC_LOG.policy"; fi
exit 0
"""


def run_setup(tmp_path: Path, *args: str, user_info: str = "AccessKey: lesde-services\nStatus: enabled", **env: str):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "mc").write_text(FAKE_MC)
    (bin_dir / "mc").chmod(0o755)
    full_env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "MC_LOG": str(tmp_path / "mc.log"),
        "FAKE_USER_INFO": user_info,
        "MINIO_ROOT_USER": "root-user",
        "MINIO_ROOT_PASSWORD": "root-password-123",
        "LESDE_S3_ACCESS_KEY": "lesde-services",
        "LESDE_S3_SECRET_KEY": "service-secret-456",
        "LESDE_S3_BUCKET": "lab-bucket",
    } | env
    result = subprocess.run(["sh", str(SETUP_SCRIPT), *args], env=full_env, capture_output=True, text=True, timeout=60)
    log = (tmp_path / "mc.log").read_text().splitlines() if (tmp_path / "mc.log").exists() else []
    return result, log


def test_setup_policy_allows_only_the_bucket(tmp_path: Path) -> None:
    result, log = run_setup(tmp_path, "policy")
    assert result.returncode == 0, result.stderr
    assert log == [], "printing the policy talks to no server"
    policy = json.loads(result.stdout)
    resources = {resource for statement in policy["Statement"] for resource in statement["Resource"]}
    assert resources == {"arn:aws:s3:::lab-bucket", "arn:aws:s3:::lab-bucket/*"}
    actions = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert all(statement["Effect"] == "Allow" for statement in policy["Statement"])
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"} <= actions
    assert not any("*" in action or "Bucket" in action and action.startswith(("s3:Create", "s3:Delete")) for action in actions)
    assert not any(action.startswith("admin:") for action in actions)


def test_setup_creates_bucket_policy_and_user_as_root(tmp_path: Path) -> None:
    result, log = run_setup(tmp_path)
    assert result.returncode == 0, result.stderr
    assert log[0] == "alias set lesde http://minio:9000 root-user root-password-123"
    assert "mb --ignore-existing lesde/lab-bucket" in log
    assert "admin policy create lesde lesde-bucket-access " in "\n".join(log)
    assert "admin user add lesde lesde-services service-secret-456" in log
    assert "admin policy attach lesde lesde-bucket-access --user lesde-services" in log
    assert log.index("admin user add lesde lesde-services service-secret-456") < log.index(
        "admin policy attach lesde lesde-bucket-access --user lesde-services"
    )
    written = json.loads((tmp_path / "mc.log.policy").read_text())
    assert {r for s in written["Statement"] for r in s["Resource"]} == {"arn:aws:s3:::lab-bucket", "arn:aws:s3:::lab-bucket/*"}


@pytest.mark.parametrize("policies", ["lesde-bucket-access", "readonly,lesde-bucket-access", "lesde-bucket-access,diagnostics"])
def test_setup_run_again_does_not_attach_twice(tmp_path: Path, policies: str) -> None:
    # MinIO answers an attach of a policy the user already has with an error; the script
    # must not fail on the second `docker compose up`. (mc's `admin user info` lines.)
    info = f"AccessKey: lesde-services\nStatus: enabled\nPolicyName: {policies}\nMemberOf: []"
    result, log = run_setup(tmp_path, user_info=info)
    assert result.returncode == 0, result.stderr
    assert not any(line.startswith("admin policy attach") for line in log)
    assert "already has the policy" in result.stdout


@pytest.mark.parametrize("policies", ["", "readwrite", "lesde-bucket-access-old", "x-lesde-bucket-access"])
def test_setup_attaches_when_the_user_lacks_the_policy(tmp_path: Path, policies: str) -> None:
    # The access key, or a policy whose name contains ours, must not pass for ours.
    info = f"AccessKey: lesde-bucket-access\nStatus: enabled\nPolicyName: {policies}\nMemberOf: []"
    result, log = run_setup(tmp_path, user_info=info, LESDE_S3_ACCESS_KEY="lesde-bucket-access")
    assert result.returncode == 0, result.stderr
    assert "admin policy attach lesde lesde-bucket-access --user lesde-bucket-access" in log


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LESDE_S3_ACCESS_KEY": "root-user"}, "LESDE_S3_ACCESS_KEY must differ from MINIO_ROOT_USER"),
        ({"LESDE_S3_SECRET_KEY": "root-password-123"}, "LESDE_S3_SECRET_KEY must differ from MINIO_ROOT_PASSWORD"),
        ({"LESDE_S3_SECRET_KEY": "short"}, "LESDE_S3_SECRET_KEY must be at least 8 characters"),
        ({"LESDE_S3_SECRET_KEY": ""}, "LESDE_S3_SECRET_KEY is empty"),
        ({"MINIO_ROOT_PASSWORD": ""}, "MINIO_ROOT_PASSWORD is empty"),
        ({"LESDE_S3_BUCKET": "Lab_Bucket"}, "LESDE_S3_BUCKET='Lab_Bucket': use lowercase letters, digits"),
        ({"LESDE_S3_BUCKET": 'x", "Resource": "*'}, "LESDE_S3_BUCKET="),
        ({"LESDE_S3_BUCKET": "ab"}, "LESDE_S3_BUCKET must be 3 to 63 characters long (it has 2)"),
    ],
)
def test_setup_refuses_bad_settings_before_touching_minio(tmp_path: Path, env: dict[str, str], message: str) -> None:
    result, log = run_setup(tmp_path, **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert log == [], "nothing is sent to MinIO when a setting is wrong"
