"""No secret has a default: each is generated at the first start (the one-shot secrets-init
writes them into the volume `secrets`) or set by the operator in .env, which wins. The
services reach MinIO as a user of their own, limited to the bucket, never as MinIO's root.

The shell scripts (deploy/minio-setup.sh, deploy/minio-entrypoint.sh) run here for real in
a POSIX shell; only `mc` and MinIO's own entrypoint are stand-ins that record what they are
given, because no MinIO server or mc binary can run on this machine (no Docker engine).
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
    COMPOSE_FILES,
    FRESH_CLONE_ENV,
    REPO,
    compose_file_refs,
    env_example,
    load_compose_yaml,
    operator_env,
    secrets_mount,
    service_env,
    strings_in,
    volume_mounts,
)

SETUP_SCRIPT = REPO / "deploy" / "minio-setup.sh"
# The scripts run under this machine's sh (dash here: strict POSIX); MinIO's images (ubi-micro)
# have bash as /bin/sh, which test_scripts_run_under_bash_too checks.
SHELL = "sh"
MINIO_ENTRYPOINT = REPO / "deploy" / "minio-entrypoint.sh"
# Environment names that hold a secret (or name the account a secret unlocks); NAME_FILE
# variables hold a path, and secrets-init's SECRETS_DIR / SECRETS_GID a folder and a group.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|API_KEYS$|TOKEN|ROOT_USER")
NOT_A_SECRET = re.compile(r"_(FILE|DIR|GID)$")
# Defaults that were, or are commonly, shipped as passwords.
KNOWN_DEFAULTS = ("change-me", "changeme", "minioadmin")


def is_secret(var: str) -> bool:
    return bool(SECRET_NAME.search(var)) and not NOT_A_SECRET.search(var)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose_yaml(COMPOSE.read_text())


def environments(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Service name -> its raw (not interpolated) environment mapping."""
    return {name: service.get("environment") or {} for name, service in compose["services"].items()}


def generated_files() -> set[str]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("secrets_init", REPO / "deploy" / "secrets_init.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return set(module.GENERATED) | {module.API_KEYS}


# --------------------------------------------------------------------------- compose


def test_every_secret_is_the_operators_or_a_generated_file(compose: dict[str, Any]) -> None:
    # Each secret is `${VAR:-}` (no default: empty unless .env sets it) beside VAR_FILE, a
    # path in the volume secrets-init fills, naming a file it generates.
    generated = generated_files()
    seen = set()
    for name, env in environments(compose).items():
        for var, raw in env.items():
            if not is_secret(var):
                continue
            refs = compose_file_refs(f"x: {json.dumps(str(raw))}")
            assert str(raw) == f"${{{var}:-}}" and len(refs) == 1, f"{name}: {var} must be ${{{var}:-}} (.env's or nothing), not {raw!r}"
            assert f"{var}_FILE" in env, f"{name}: {var} has no {var}_FILE: unset in .env, nothing provides it"
            path = service_env({"environment": {"p": env[f"{var}_FILE"]}}, FRESH_CLONE_ENV)["p"]
            mount = secrets_mount(compose["services"][name])
            assert mount and path.startswith(mount + "/"), f"{name}: {var}_FILE={path} is not in the secrets volume"
            assert path.removeprefix(mount + "/") in generated, f"{name}: secrets-init does not generate {path}"
            seen.add(var)
    assert {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "LESDE_S3_ACCESS_KEY", "LESDE_S3_SECRET_KEY", "LESDE_API_KEYS"} <= seen


def test_no_default_password_anywhere_in_compose() -> None:
    for path in COMPOSE_FILES:
        text = path.read_text()
        for default in KNOWN_DEFAULTS:
            assert default not in text.lower(), f"{path.name} still mentions {default!r}"
        for ref in compose_file_refs(text):
            if is_secret(ref.name):
                # empty unless set; or secrets-init's flag naming the variable (never its value)
                assert (ref.op, ref.arg) == (":-", "") or (ref.op == ":+" and ref.arg == ref.name), (
                    f"{path.name}: ${{{ref.name}{ref.op}{ref.arg}}} would put a value in compose"
                )
        data = load_compose_yaml(text)
        for name, service in data["services"].items():
            for var, raw in (service.get("environment") or {}).items():
                if is_secret(var):
                    assert "${" in str(raw), f"{path.name}: {name}: {var} is a literal in compose"
        values = " ".join(strings_in(data)).lower()
        assert "password=" not in values and "secret=" not in values


def test_env_example_leaves_every_secret_empty() -> None:
    example = env_example()
    secrets = {name: value for name, value in example.items() if re.search(r"PASSWORD|SECRET|ACCESS_KEY|ROOT_USER|API_KEYS", name)}
    assert {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "LESDE_S3_ACCESS_KEY", "LESDE_S3_SECRET_KEY", "LESDE_API_KEYS"} <= set(secrets)
    filled = {name: value for name, value in secrets.items() if value}
    assert not filled, f".env.example ships {sorted(filled)}: a copied .env would replace the generated secrets with known ones"


@pytest.mark.parametrize("env", [FRESH_CLONE_ENV, operator_env()], ids=["no .env", "operator .env"])
def test_services_s3_credentials_differ_from_minio_root(compose: dict[str, Any], env: dict[str, str]) -> None:
    root = service_env(compose["services"]["minio"], env)
    raw_root = compose["services"]["minio"]["environment"]
    for name in ("api", "trainer", "analyzer", "reaper"):
        raw = compose["services"][name]["environment"]
        # Not merely different values today: different variables and files, so no .env can make them one.
        for ours, theirs in (("LESDE_S3_ACCESS_KEY", "MINIO_ROOT_USER"), ("LESDE_S3_SECRET_KEY", "MINIO_ROOT_PASSWORD")):
            assert raw[ours] != raw_root[theirs]
            assert raw[f"{ours}_FILE"] != raw_root[f"{theirs}_FILE"]
        values = service_env(compose["services"][name], env)
        if env:
            assert values["LESDE_S3_ACCESS_KEY"] != root["MINIO_ROOT_USER"]
            assert values["LESDE_S3_SECRET_KEY"] != root["MINIO_ROOT_PASSWORD"]
        assert not any(var.startswith("MINIO_ROOT") for var in values), f"{name} sees MinIO's root pair"


def test_only_minio_and_its_setup_see_the_root_pair(compose: dict[str, Any]) -> None:
    for name, env in environments(compose).items():
        if any(var.startswith("MINIO_ROOT") for var in env):
            assert name in ("minio", "minio-setup"), f"{name} gets MinIO's root password (or its file)"


def test_every_consumer_mounts_the_secrets_read_only(compose: dict[str, Any]) -> None:
    services = compose["services"]
    writer = services["secrets-init"]
    writer_mount = secrets_mount(writer)
    assert writer_mount == service_env(writer, FRESH_CLONE_ENV)["SECRETS_DIR"]
    assert volume_mounts(writer)[writer_mount] == ("secrets", False), "secrets-init must write the volume"
    assert "secrets" in compose["volumes"]
    for name, service in services.items():
        if name in ("secrets-init", "redis"):
            continue
        mount = secrets_mount(service)
        assert mount == writer_mount, f"{name} does not mount the secrets at {writer_mount}"
        assert volume_mounts(service)[mount][1], f"{name} mounts the secrets writable"
        assert service["depends_on"]["secrets-init"]["condition"] == "service_completed_successfully", name
    assert secrets_mount(services["redis"]) is None, "redis needs no secret"


def test_secrets_init_is_a_one_shot_without_network(compose: dict[str, Any]) -> None:
    init = compose["services"]["secrets-init"]
    assert str(init["restart"]) == "no" and init["network_mode"] == "none"
    script = init["command"][-1]
    mounted = {target: source for target, (source, _ro) in volume_mounts(init).items()}
    assert (REPO / mounted[script]).resolve() == REPO / "deploy" / "secrets_init.py"
    assert init["command"][0] == "python"


def test_secrets_init_learns_only_whether_env_sets_the_api_keys(compose: dict[str, Any]) -> None:
    init = compose["services"]["secrets-init"]
    values = " ".join(str(v) for v in init["environment"].values())
    for env, expected in (
        (FRESH_CLONE_ENV, ""),
        ({"LESDE_API_KEYS": "alice=key-of-alice"}, "LESDE_API_KEYS"),
        ({"LESDE_API_KEYS": ""}, ""),  # an empty line in .env is "not set"
        ({"LESDE_API_KEYS_FILE": "/run/secrets/keys"}, "LESDE_API_KEYS_FILE"),
    ):
        flag = service_env(init, env)["API_KEYS_FROM_ENV"]
        assert flag.strip() == expected
        assert "key-of-alice" not in flag and "/run/secrets/keys" not in flag
    assert "LESDE_API_KEYS:+" in values


def test_minio_setup_runs_the_script_once(compose: dict[str, Any]) -> None:
    setup = compose["services"]["minio-setup"]
    assert setup["entrypoint"][0] == "/bin/sh"
    mounted = {target: source for target, (source, _ro) in volume_mounts(setup).items()}
    script = setup["entrypoint"][1]
    assert (REPO / mounted[script]).resolve() == SETUP_SCRIPT
    assert str(setup["restart"]) == "no"
    assert setup["depends_on"]["minio"]["condition"] == "service_healthy"


def test_minio_starts_through_the_one_source_entrypoint(compose: dict[str, Any]) -> None:
    minio = compose["services"]["minio"]
    mounted = {target: source for target, (source, _ro) in volume_mounts(minio).items()}
    assert minio["entrypoint"][:2] == ["/bin/sh", "/setup/minio-entrypoint.sh"]
    assert (REPO / mounted["/setup/minio-entrypoint.sh"]).resolve() == MINIO_ENTRYPOINT
    # then the image's own entrypoint (ENTRYPOINT of MinIO's Dockerfile.release), given the command
    assert minio["entrypoint"][2:] == ["/usr/bin/docker-entrypoint.sh"]
    assert minio["command"][0] == "server"


# --------------------------------------------------------------------------- MinIO's entrypoint


def run_minio_entrypoint(tmp_path: Path, shell: str = SHELL, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """The entrypoint with `env` standing in for MinIO's: what the server would be given."""
    result = subprocess.run(
        [shell, str(MINIO_ENTRYPOINT), "env"], env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=60
    )
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return result, seen


def secret_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_minio_gets_the_generated_files_when_env_sets_nothing(tmp_path: Path) -> None:
    user, password = secret_file(tmp_path, "u", "root-abc\n"), secret_file(tmp_path, "p", "generated-password\n")
    result, seen = run_minio_entrypoint(
        tmp_path, MINIO_ROOT_USER="", MINIO_ROOT_PASSWORD="", MINIO_ROOT_USER_FILE=user, MINIO_ROOT_PASSWORD_FILE=password
    )
    assert result.returncode == 0, result.stderr
    assert seen["MINIO_ROOT_USER_FILE"] == user and seen["MINIO_ROOT_PASSWORD_FILE"] == password
    assert "MINIO_ROOT_USER" not in seen and "MINIO_ROOT_PASSWORD" not in seen


def test_minio_gets_only_the_env_value_when_set(tmp_path: Path) -> None:
    # MinIO would let an existing *_FILE replace the variable: the file must not reach it.
    user, password = secret_file(tmp_path, "u", "root-abc"), secret_file(tmp_path, "p", "generated-password")
    result, seen = run_minio_entrypoint(
        tmp_path,
        MINIO_ROOT_USER="operator-root",
        MINIO_ROOT_PASSWORD="operator-password",
        MINIO_ROOT_USER_FILE=user,
        MINIO_ROOT_PASSWORD_FILE=password,
    )
    assert result.returncode == 0, result.stderr
    assert seen["MINIO_ROOT_USER"] == "operator-root" and seen["MINIO_ROOT_PASSWORD"] == "operator-password"
    assert "MINIO_ROOT_USER_FILE" not in seen and "MINIO_ROOT_PASSWORD_FILE" not in seen


@pytest.mark.parametrize("content", [None, ""], ids=["missing", "empty"])
def test_minio_never_falls_back_to_its_default_pair(tmp_path: Path, content: str | None) -> None:
    # With no readable file MinIO would start silently as minioadmin:minioadmin: stop instead.
    path = tmp_path / "minio-root-password"
    if content is not None:
        path.write_text(content)
    user = secret_file(tmp_path, "u", "root-abc")
    result, seen = run_minio_entrypoint(tmp_path, MINIO_ROOT_USER_FILE=user, MINIO_ROOT_PASSWORD_FILE=str(path))
    assert result.returncode == 2 and not seen
    assert f"MINIO_ROOT_PASSWORD_FILE={path}" in result.stderr


def test_minio_entrypoint_stops_with_neither(tmp_path: Path) -> None:
    result, _seen = run_minio_entrypoint(tmp_path, MINIO_ROOT_PASSWORD="operator-password")
    assert result.returncode == 2
    assert "neither MINIO_ROOT_USER nor MINIO_ROOT_USER_FILE" in result.stderr


# --------------------------------------------------------------------------- the set-up script


FAKE_MC = """#!/bin/sh
# Stand-in for MinIO's mc: records its arguments; answers `admin user info` from $FAKE_USER_INFO.
printf '%s\\n' "$*" >> "$MC_LOG"
if [ "$1 $2 $3" = "admin user info" ]; then printf '%s\\n' "$FAKE_USER_INFO"; fi
if [ "$1 $2 $3" = "admin policy create" ]; then cat "$6" > "$MC_LOG.policy"; fi
exit 0
"""


def run_setup(tmp_path: Path, *args: str, user_info: str = "AccessKey: lesde-services\nStatus: enabled", shell: str = SHELL, **env: str):
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
    result = subprocess.run([shell, str(SETUP_SCRIPT), *args], env=full_env, capture_output=True, text=True, timeout=60)
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


# --------------------------------------------------------------------------- minio-setup's files


def credential_files(tmp_path: Path) -> dict[str, str]:
    """The four credentials as secrets-init leaves them (one line each), as NAME_FILE variables."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    values = {
        "MINIO_ROOT_USER": "root-0a1b2c3d4e5f",
        "MINIO_ROOT_PASSWORD": "GeneratedRootPassword0123456789",
        "LESDE_S3_ACCESS_KEY": "lesde-0a1b2c3d4e5f",
        "LESDE_S3_SECRET_KEY": "GeneratedServiceSecret0123456789",
    }
    for name, value in values.items():
        (folder / name.lower()).write_text(value + "\n")
    return {f"{name}_FILE": str(folder / name.lower()) for name in values}


def test_setup_reads_each_credential_from_its_file_when_env_sets_none(tmp_path: Path) -> None:
    files = credential_files(tmp_path)
    # as compose passes them without a .env: the variables set, but empty
    empty = {"MINIO_ROOT_USER": "", "MINIO_ROOT_PASSWORD": "", "LESDE_S3_ACCESS_KEY": "", "LESDE_S3_SECRET_KEY": ""}
    result, log = run_setup(tmp_path, **empty, **files)
    assert result.returncode == 0, result.stderr
    assert log[0] == "alias set lesde http://minio:9000 root-0a1b2c3d4e5f GeneratedRootPassword0123456789"
    assert "admin user add lesde lesde-0a1b2c3d4e5f GeneratedServiceSecret0123456789" in log


def test_setup_takes_a_variable_set_directly_over_its_file(tmp_path: Path) -> None:
    files = credential_files(tmp_path)
    files["LESDE_S3_SECRET_KEY_FILE"] = str(tmp_path / "no-such-file")  # not even read
    result, log = run_setup(
        tmp_path, LESDE_S3_SECRET_KEY="operator-secret-789", MINIO_ROOT_USER="", MINIO_ROOT_PASSWORD="", LESDE_S3_ACCESS_KEY="", **files
    )
    assert result.returncode == 0, result.stderr
    assert "admin user add lesde lesde-0a1b2c3d4e5f operator-secret-789" in log
    assert log[0] == "alias set lesde http://minio:9000 root-0a1b2c3d4e5f GeneratedRootPassword0123456789"


@pytest.mark.parametrize("content", [None, "", "\n"], ids=["missing", "empty", "blank line"])
def test_setup_stops_on_a_file_it_cannot_use(tmp_path: Path, content: str | None) -> None:
    files = credential_files(tmp_path)
    path = Path(files["LESDE_S3_SECRET_KEY_FILE"])
    path.unlink()
    if content is not None:
        path.write_text(content)
    result, log = run_setup(tmp_path, LESDE_S3_SECRET_KEY="", **files)
    assert result.returncode == 2
    assert f"LESDE_S3_SECRET_KEY_FILE={path}" in result.stderr
    assert log == [], "nothing is sent to MinIO without its credentials"


def test_scripts_run_under_bash_too(tmp_path: Path) -> None:
    import shutil

    if not shutil.which("bash"):
        pytest.skip("no bash here")
    files = credential_files(tmp_path)
    result, log = run_setup(tmp_path, shell="bash", LESDE_S3_SECRET_KEY="", MINIO_ROOT_USER="", **files)
    assert result.returncode == 0, result.stderr
    assert "admin user add lesde lesde-services GeneratedServiceSecret0123456789" in log
    assert log[0] == "alias set lesde http://minio:9000 root-0a1b2c3d4e5f root-password-123"
    result, seen = run_minio_entrypoint(
        tmp_path,
        shell="bash",
        MINIO_ROOT_USER="",
        MINIO_ROOT_USER_FILE=files["MINIO_ROOT_USER_FILE"],
        MINIO_ROOT_PASSWORD="direct-password",
        MINIO_ROOT_PASSWORD_FILE=files["MINIO_ROOT_PASSWORD_FILE"],
    )
    assert result.returncode == 0, result.stderr
    assert "MINIO_ROOT_USER" not in seen and seen["MINIO_ROOT_USER_FILE"] == files["MINIO_ROOT_USER_FILE"]
    assert seen["MINIO_ROOT_PASSWORD"] == "direct-password" and "MINIO_ROOT_PASSWORD_FILE" not in seen
