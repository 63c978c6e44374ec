"""Static checks of docker-compose.yml, its GPU overrides, the Dockerfiles and .dockerignore
(no Docker engine, no `docker compose` here: Compose's interpolation is emulated, deploy_files).

The key checks: a fresh clone starts (no .env: every ${VAR} has a default, nothing stops
compose, every image is pinned), and every service that runs our code gets, from its compose
environment, every setting it cannot start without, as declared by the pydantic-settings
classes in lesde_runtime.settings (introspected, never a hard-coded list of names): from .env when
the operator sets it, else from the secrets secrets-init generates (LESDE_<NAME>_FILE).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_files import (
    COMPOSE,
    COMPOSE_FILES,
    FRESH_CLONE_ENV,
    GPU_OVERRIDE,
    REPO,
    MissingVariable,
    compose_file_refs,
    load_compose_yaml,
    operator_env,
    remap,
    run_secrets_init,
    secrets_mount,
    strings_in,
)
from deploy_files import interpolate as compose_interpolate
from deploy_files import service_env as _service_env
from lesde_runtime import settings as lesde_settings
from lesde_runtime.secret_files import file_variable, secret_file_fields
from pydantic import ValidationError
from pydantic_settings import BaseSettings

# Which settings classes each of our services builds.
SERVICE_SETTINGS: dict[str, list[type[BaseSettings]]] = {
    "api": [
        lesde_settings.StoreSettings,
        lesde_settings.BrokerSettings,
        lesde_settings.LimitSettings,
        lesde_settings.ApiSettings,
        lesde_settings.AuthSettings,
    ],
    "trainer": [lesde_settings.StoreSettings, lesde_settings.BrokerSettings, lesde_settings.TrainerSettings],
    "analyzer": [lesde_settings.StoreSettings, lesde_settings.BrokerSettings],
    "reaper": [lesde_settings.StoreSettings, lesde_settings.BrokerSettings, lesde_settings.LeaseSettings],
}
# The service directory (services/<name>) each of our images installs, and only that one.
SERVICE_PACKAGE = {"api": "services/api", "trainer": "services/trainer", "analyzer": "services/analyzer"}
HEAVY_PACKAGES = {"torch", "torchvision", "scipy", "scikit-learn", "matplotlib"}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = load_compose_yaml(COMPOSE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), "docker-compose.yml has no services"
    return data


def interpolate(value: str) -> str:
    """Compose interpolation with the operator's .env (see deploy_files.operator_env)."""
    return compose_interpolate(value, operator_env())


def compose_vars(text: str) -> set[str]:
    return {ref.name for ref in compose_file_refs(text)}


def service_env(service: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    """A service's environment, interpolated with ``env`` (default: the operator's .env)."""
    return _service_env(service, operator_env() if env is None else env)


# The two .env files every environment check runs with: none at all, and a filled-in one.
ENVS = pytest.mark.parametrize("dotenv", ["fresh clone", "operator"])


def dotenv_values(dotenv: str) -> dict[str, str]:
    return FRESH_CLONE_ENV if dotenv == "fresh clone" else operator_env()


def file_settings() -> dict[str, str]:
    """LESDE_<NAME>_FILE -> LESDE_<NAME>, for every secret a settings class reads from a file."""
    found = {}
    for obj in vars(lesde_settings).values():
        if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not BaseSettings:
            found |= {file_variable(obj, field): env_name(obj, field) for field in secret_file_fields(obj)}
    return found


def env_name(cls: type[BaseSettings], field: str) -> str:
    prefix = cls.model_config.get("env_prefix", "")
    return (prefix + field).upper()


def required_env(classes: list[type[BaseSettings]], env: dict[str, str]) -> set[str]:
    """Variables a service must set: fields without default, the broker URL, and every
    S3 field when the store is S3 (explicitly, or by the settings' default)."""
    needed: set[str] = set()
    for cls in classes:
        for name, info in cls.model_fields.items():
            if info.is_required() or name == "broker_url":
                needed.add(env_name(cls, name))
        if "store" in cls.model_fields:
            default_store = cls.model_fields["store"].default
            store = env.get(env_name(cls, "store"), str(getattr(default_store, "value", default_store)))
            if store == lesde_settings.StoreKind.s3.value:
                needed |= {env_name(cls, name) for name in cls.model_fields if name.startswith("s3_")}
    return needed


def all_setting_names() -> set[str]:
    names: set[str] = set()
    for obj in vars(lesde_settings).values():
        if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not BaseSettings:
            names |= {env_name(obj, name) for name in obj.model_fields}
    return names


def dockerfile_of(service: dict[str, Any]) -> tuple[Path, Path] | None:
    """(context, Dockerfile) of a service that builds, else None."""
    build = service.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        context, dockerfile = REPO / build, "Dockerfile"
    else:
        context, dockerfile = REPO / build.get("context", "."), build.get("dockerfile", "Dockerfile")
    return context.resolve(), (context / dockerfile).resolve()


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    if pending:
        lines.append(pending)
    result = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def instructions_text(path: Path) -> str:
    """The Dockerfile without its comments."""
    return "\n".join(f"{ins} {args}" for ins, args in dockerfile_instructions(path))


def copy_sources(path: Path) -> list[str]:
    """Source paths of the build-context COPY/ADD instructions (not COPY --from=...)."""
    sources: list[str] = []
    for instruction, args in dockerfile_instructions(path):
        if instruction not in ("COPY", "ADD"):
            continue
        parts = args.split()
        if any(part.startswith("--from") for part in parts):
            continue
        parts = [part for part in parts if not part.startswith("--")]
        if parts and parts[0].startswith("["):  # JSON form
            parts = yaml.safe_load(args[args.index("[") :])
        sources += [src for src in parts[:-1] if "://" not in src]
    return sources


def our_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    missing = set(SERVICE_SETTINGS) - set(services)
    assert not missing, f"docker-compose.yml lacks the services {sorted(missing)}"
    return {name: services[name] for name in SERVICE_SETTINGS}


def dockerignored(relative: str) -> bool:
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    parts = Path(relative).parts
    for pattern in patterns:
        bare = pattern.removeprefix("**/").rstrip("/")
        if any(Path(part).match(bare) for part in parts) or Path(relative).match(pattern):
            return True
    return False


# --------------------------------------------------------------------------- structure


def test_compose_parses(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= {"api", "trainer", "analyzer", "redis", "minio", "minio-setup"}


def test_every_service_has_an_image_or_an_existing_dockerfile(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service.get("image") or service.get("build"), f"{name}: neither image nor build"
        built = dockerfile_of(service)
        if built:
            context, dockerfile = built
            assert context.is_dir(), f"{name}: build context {context} missing"
            assert dockerfile.is_file(), f"{name}: Dockerfile {dockerfile} missing"


def test_dockerfile_copy_sources_exist(compose: dict[str, Any]) -> None:
    built = [dockerfile_of(service) for service in compose["services"].values()]
    assert any(built)
    for context, dockerfile in filter(None, built):
        sources = copy_sources(dockerfile)
        assert sources, f"{dockerfile.name} copies nothing"
        for source in sources:
            assert (context / source).exists(), f"{dockerfile.name}: COPY source {source} does not exist"
            assert not dockerignored(source.rstrip("/")), f"{dockerfile.name}: COPY source {source} is excluded by .dockerignore"


def test_depends_on_conditions(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {dep: {"condition": "service_started"} for dep in depends}
        for dep, spec in depends.items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            condition = (spec or {}).get("condition", "service_started")
            assert condition in ("service_started", "service_healthy", "service_completed_successfully"), condition
            if condition == "service_healthy":
                assert services[dep].get("healthcheck", {}).get("test"), f"{name} waits for {dep} to be healthy, which has no healthcheck"
            if condition == "service_completed_successfully":
                assert str(services[dep].get("restart", "no")) in ("no", "on-failure"), f"{dep} is a one-shot but restarts"


def test_our_services_wait_for_broker_store_and_bucket(compose: dict[str, Any]) -> None:
    for name, service in our_services(compose).items():
        depends = service.get("depends_on") or {}
        assert depends.get("redis", {}).get("condition") == "service_healthy", name
        assert depends.get("minio", {}).get("condition") == "service_healthy", name
        assert depends.get("minio-setup", {}).get("condition") == "service_completed_successfully", name


def test_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "/healthz" in str(services["api"]["healthcheck"]["test"])
    assert "ping" in str(services["redis"]["healthcheck"]["test"])
    assert services["minio"]["healthcheck"]["test"]


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else command.split()


def _seconds(duration: str) -> float:
    """A compose duration such as ``10m``, ``1m30s`` or ``90s``, in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a compose duration: {duration!r}"
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}
    return sum(float(number) * scale[unit] for number, unit in parts)


def test_redis_keeps_queued_messages(compose: dict[str, Any]) -> None:
    # Celery's messages are Redis keys: an evicted key is a job queued forever, a restart
    # without the append-only file loses every queued job (the reaper re-sends them, later).
    command = " ".join(_command(compose["services"]["redis"]))
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command


@pytest.mark.parametrize("name", ["trainer", "analyzer"])
def test_workers_answer_a_health_ping_by_their_own_name(compose: dict[str, Any], name: str) -> None:
    from celery.app.utils import find_app

    service = compose["services"][name]
    command = _command(service)
    node = command[command.index("-n") + 1]
    assert node == f"{name}@%h", "the healthcheck pings the worker by this name"
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL", "the healthcheck needs the shell for $HOSTNAME"
    shell = interpolate(test[1])
    assert "inspect ping" in shell and f"-d {name}@$HOSTNAME" in shell, shell
    app_module = shell.split("-A", 1)[1].split()[0]
    assert find_app(app_module).main == "lesde", f"{app_module} is not the lesde Celery app"
    assert "torch" not in app_module and "worker" not in app_module, "the ping should not import the worker's heavy modules"


def test_trainer_gets_time_to_finish_its_chunk_on_stop(compose: dict[str, Any]) -> None:
    grace = _seconds(compose["services"]["trainer"]["stop_grace_period"])
    assert grace >= 300, f"docker stop kills the trainer after {grace:.0f} s, mid-chunk"


def test_a_reaper_runs_beside_the_workers(compose: dict[str, Any]) -> None:
    reaper = compose["services"]["reaper"]
    assert _command(reaper) == ["python", "-m", "lesde_runtime.reaper"]
    assert str(reaper.get("restart")) == "unless-stopped"
    _context, dockerfile = dockerfile_of(reaper)
    assert dockerfile == dockerfile_of(compose["services"]["api"])[1], "the reaper needs only the shared package: the API's image"


def test_trainer_reserves_no_gpu_unless_the_override_is_added(compose: dict[str, Any]) -> None:
    # Was: the base trainer reserved GPU 0, and `docker compose up` failed on every host
    # without the NVIDIA container toolkit. Now the reservation is in deploy/compose.gpu.yml.
    for name, service in compose["services"].items():
        assert "devices" not in ((service.get("deploy") or {}).get("resources") or {}).get("reservations", {}), name
    override = load_compose_yaml(GPU_OVERRIDE.read_text())["services"]
    assert set(override) == {"trainer"}
    devices = override["trainer"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "device_ids": ["0"], "capabilities": ["gpu"]}]
    assert service_env(compose["services"]["trainer"], FRESH_CLONE_ENV)["LESDE_DEVICE"] == "auto", "CPU when no CUDA is there"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else volume.split(":", 1)[0]
            if source and not source.startswith(("/", ".", "~", "$")):
                used.add(source)
    assert used, "no named volumes used"
    assert used <= declared, f"undeclared named volumes: {sorted(used - declared)}"
    assert {"redis-data", "minio-data"} <= used


def test_published_ports_bind_to_localhost(compose: dict[str, Any]) -> None:
    assert "127.0.0.1:8000:8000" in compose["services"]["api"].get("ports", [])
    for name, service in compose["services"].items():
        for port in service.get("ports") or []:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on all interfaces"


def test_workers_consume_their_queues_and_register_their_tasks(compose: dict[str, Any]) -> None:
    import importlib

    from lesde_runtime import celery_app

    for name, queue in (("trainer", "train"), ("analyzer", "analyze")):
        command = compose["services"][name]["command"]
        command = command if isinstance(command, list) else command.split()
        assert command[:2] == ["celery", "-A"], command
        assert command[command.index("-Q") + 1] == queue
        worker = importlib.import_module(command[2])  # the -A module must import and register the tasks
        routed_here = {task for task, task_queue in celery_app.TASK_QUEUES.items() if task_queue == queue}
        assert routed_here <= set(worker.app.tasks), f"{command[2]} does not register {routed_here}"


# --------------------------------------------------------------------------- settings


@ENVS
@pytest.mark.parametrize("name", sorted(SERVICE_SETTINGS))
def test_service_environment_provides_every_required_setting(compose: dict[str, Any], name: str, dotenv: str) -> None:
    service = compose["services"][name]
    env = service_env(service, dotenv_values(dotenv))
    classes = SERVICE_SETTINGS[name]
    needed = required_env(classes, env)
    assert env.get("LESDE_STORE") == "s3", f"{name}: compose services use the MinIO store"
    assert {"LESDE_BROKER_URL", "LESDE_S3_ACCESS_KEY", "LESDE_S3_SECRET_KEY"} <= needed  # the introspection works
    from_files = {setting: variable for variable, setting in file_settings().items()}
    mount = secrets_mount(service)
    missing = []
    for var in sorted(needed):
        if env.get(var):
            continue
        path = env.get(from_files.get(var, ""), "")
        if not (mount and path.startswith(mount + "/")):
            missing.append(var)
    assert not missing, f"{name} lacks {missing} in its compose environment (neither set nor a file in the secrets volume)"


@ENVS
@pytest.mark.parametrize("name", sorted(SERVICE_SETTINGS))
def test_service_settings_load_from_compose_environment(
    compose: dict[str, Any], name: str, dotenv: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The settings load as the container would: secrets-init run first (its compose
    environment, with this .env), its volume a temporary folder."""
    import os

    values = dotenv_values(dotenv)
    services = compose["services"]
    volume = tmp_path / "secrets"
    init_env = service_env(services["secrets-init"], values)
    result = run_secrets_init(volume, {k: v for k, v in init_env.items() if k != "SECRETS_DIR"})
    assert result.returncode == 0, result.stderr

    monkeypatch.chdir(tmp_path)  # no stray .env file
    for var in list(os.environ):
        if var.startswith("LESDE_"):
            monkeypatch.delenv(var)
    env = remap(service_env(services[name], values), secrets_mount(services[name]), volume)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    for cls in SERVICE_SETTINGS[name]:
        try:
            cls()
        except ValidationError as error:  # pragma: no cover - the assertion message is the point
            pytest.fail(f"{name}: {cls.__name__} does not load from the compose environment:\n{error}")
    store = lesde_settings.StoreSettings()
    assert store.store is lesde_settings.StoreKind.s3
    # .env wins; without it, the generated files
    expected = values.get("LESDE_S3_SECRET_KEY") or (volume / "s3-secret-key").read_text().strip()
    assert store.s3_secret_key.get_secret_value() == expected
    expected = values.get("LESDE_S3_ACCESS_KEY") or (volume / "s3-access-key").read_text().strip()
    assert store.s3_access_key.get_secret_value() == expected
    if name == "api":
        from lesde_api.api_keys import KeyRing

        ring = KeyRing.from_settings(lesde_settings.AuthSettings())
        generated = (volume / "api-key").read_text().strip()
        assert ring.configured
        if values.get("LESDE_API_KEYS"):
            assert ring.owner_of("sample-key-of-alice") == "alice"
            assert ring.owner_of(generated) is None, ".env's keys replace the generated one"
        else:
            assert ring.owner_of(generated) == "admin"


def test_every_lesde_variable_in_compose_is_a_real_setting(compose: dict[str, Any]) -> None:
    known = all_setting_names() | set(file_settings())
    for name, service in compose["services"].items():
        for var in service_env(service):
            if var.startswith("LESDE_"):
                assert var in known, f"{name}: {var} is not a field of any lesde_runtime.settings class, nor its _FILE (typo?)"
    for anchor_var in compose.get("x-lesde-env", {}):
        assert anchor_var in known, f"x-lesde-env: {anchor_var} is not a setting"


def test_services_use_the_user_minio_setup_creates(compose: dict[str, Any]) -> None:
    for env in (FRESH_CLONE_ENV, operator_env()):
        setup = service_env(compose["services"]["minio-setup"], env)
        for name in SERVICE_SETTINGS:
            ours = service_env(compose["services"][name], env)
            for var in ("LESDE_S3_ACCESS_KEY", "LESDE_S3_SECRET_KEY", "LESDE_S3_ACCESS_KEY_FILE", "LESDE_S3_SECRET_KEY_FILE"):
                assert ours[var] == setup[var], f"{name} uses another S3 user than minio-setup creates ({var})"
            assert ours["LESDE_S3_BUCKET"] == setup["LESDE_S3_BUCKET"], f"{name} uses another bucket than minio-setup allows"
            assert ours["LESDE_S3_ENDPOINT"].split(":")[0] == "minio"
            assert ours["LESDE_BROKER_URL"].startswith("redis://redis:")


# --------------------------------------------------------------------------- a fresh clone


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_every_compose_file_starts_with_no_env(path: Path) -> None:
    # Every ${VAR} has a default (or is an alternative value): with no .env and nothing
    # exported, compose neither stops (${VAR:?}) nor warns and substitutes "" (${VAR}).
    text = path.read_text()
    data = load_compose_yaml(text)
    for ref in compose_file_refs(text):
        assert ref.op in (":-", "-", ":+", "+"), f"{path.name}: ${{{ref.name}{ref.op}{ref.arg}}} needs a value compose may not have"
    for value in strings_in(data):
        try:
            compose_interpolate(value, FRESH_CLONE_ENV)
        except MissingVariable as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{path.name}: {error}")


@pytest.mark.parametrize(
    ("template", "env", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("${A}", {}, ""),
        ("$A-x", {"A": "1"}, "1-x"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A-d}", {}, "d"),
        ("${A:+alt}", {"A": "1"}, "alt"),
        ("${A:+alt}", {"A": ""}, ""),
        ("${A+alt}", {"A": ""}, "alt"),
        ("${A+alt}", {}, ""),
        ("$${A} $$A", {"A": "1"}, "${A} $A"),
        ("${A:?why}", {"A": "1"}, "1"),
    ],
)
def test_the_interpolation_emulation_follows_compose(template: str, env: dict[str, str], expected: str) -> None:
    # docs.docker.com/reference/compose-file/interpolation: the rules the checks above rely on
    assert compose_interpolate(template, env) == expected


@pytest.mark.parametrize(("template", "env"), [("${A:?why}", {}), ("${A:?why}", {"A": ""}), ("${A?why}", {})])
def test_the_interpolation_emulation_stops_as_compose(template: str, env: dict[str, str]) -> None:
    with pytest.raises(MissingVariable, match="why"):
        compose_interpolate(template, env)


def test_env_example_documents_every_compose_variable() -> None:
    used = compose_vars(COMPOSE.read_text())
    documented = {
        line.split("=", 1)[0].strip()
        for line in (REPO / ".env.example").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert used, "compose uses no variables"
    # Variables only the containers' shells expand ($$VAR) are not compose variables.
    assert used <= documented, f".env.example lacks {sorted(used - documented)}"


# --------------------------------------------------------------------------- images stay lean


def _deps(package_dir: str) -> set[str]:
    project = tomllib.loads((REPO / package_dir / "pyproject.toml").read_text())["project"]
    return {re.split(r"[\s<>=!~\[;]", dep, maxsplit=1)[0].lower() for dep in project.get("dependencies", [])}


@pytest.mark.parametrize("name", sorted(SERVICE_PACKAGE))
def test_each_image_installs_only_its_own_service(compose: dict[str, Any], name: str) -> None:
    built = dockerfile_of(compose["services"][name])
    assert built, f"{name} is not built from a Dockerfile"
    _context, dockerfile = built
    text = instructions_text(dockerfile)
    copied = {src.rstrip("/") for src in copy_sources(dockerfile)}
    assert {"shared/contract", "shared/runtime"} <= copied, f"{dockerfile.name} does not copy the contract and the runtime"
    assert "shared/client" not in copied and "shared" not in copied, f"{dockerfile.name} copies the client (a service needs none)"
    assert SERVICE_PACKAGE[name] in copied, f"{dockerfile.name} does not copy {SERVICE_PACKAGE[name]}"
    for other, package in SERVICE_PACKAGE.items():
        if other != name:
            assert package not in copied and package not in text, f"{dockerfile.name} pulls in {package}"
    assert not any(src in (".", "./", "services") for src in copied), f"{dockerfile.name} copies the whole tree"


def test_api_image_has_no_torch_or_scipy(compose: dict[str, Any]) -> None:
    _context, dockerfile = dockerfile_of(compose["services"]["api"])
    text = instructions_text(dockerfile).lower()
    for heavy in HEAVY_PACKAGES:
        assert not re.search(rf"\b{re.escape(heavy)}\b", text), f"api Dockerfile mentions {heavy}"
    assert not (_deps("shared/contract") | _deps("shared/runtime") | _deps("services/api")) & HEAVY_PACKAGES


def test_analyzer_image_has_no_torch(compose: dict[str, Any]) -> None:
    _context, dockerfile = dockerfile_of(compose["services"]["analyzer"])
    assert "torch" not in instructions_text(dockerfile).lower()
    assert not (_deps("shared/contract") | _deps("shared/runtime") | _deps("services/analyzer")) & {"torch", "torchvision"}


def test_trainer_image_is_cuda_with_pinned_torch(compose: dict[str, Any]) -> None:
    _context, dockerfile = dockerfile_of(compose["services"]["trainer"])
    text = dockerfile.read_text()
    assert re.search(r"(?m)^(ARG CUDA_IMAGE=|FROM )\S*(nvidia/cuda|pytorch/pytorch)", text)
    assert "torch==2.14.1" in text


def test_dockerignore_keeps_the_build_context_small() -> None:
    for path in (
        ".git",
        ".venv",
        ".lesde",
        "lesde-results",
        "tests",
        "shared/lesde.egg-info",
        "shared/client/lesde/__pycache__",
        "services/trainer/lesde_trainer/engine/__pycache__",
        "services/api/.venv",
        "services/trainer/.lesde",
        "examples/lesde-results",
        ".env",
    ):
        assert dockerignored(path), f".dockerignore does not exclude {path}"
    for path in (
        "shared/contract",
        "shared/runtime",
        "services/api",
        "services/trainer/pyproject.toml",
        "deploy/requirements_from_pyproject.py",
    ):
        assert not dockerignored(path), f".dockerignore excludes {path}"


def compose_cli() -> list[str] | None:
    """A Compose v2 command line if this machine has one (`docker compose` needs no engine
    for `config`); none here: the emulation above stands in for it."""
    import shutil
    import subprocess

    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]):
            version = subprocess.run([*command, "version", "--short"], capture_output=True, text=True, timeout=60)
            if version.returncode == 0 and version.stdout.strip().lstrip("v").startswith("2"):
                return command
    return None


@pytest.mark.parametrize(
    "files", [["docker-compose.yml"], ["docker-compose.yml", "deploy/compose.gpu.yml"], ["docker-compose.yml", "deploy/compose.gpus.yml"]]
)
def test_docker_compose_itself_accepts_a_fresh_clone(tmp_path: Path, files: list[str]) -> None:
    import os
    import shutil
    import subprocess

    command = compose_cli()
    if command is None:
        pytest.skip("no Docker Compose v2 here")
    project = tmp_path / "clone"  # the compose files alone: no .env of this checkout
    shutil.copytree(REPO / "deploy", project / "deploy")
    shutil.copy(COMPOSE, project / "docker-compose.yml")
    arguments = [part for name in files for part in ("-f", name)]
    result = subprocess.run(
        [*command, *arguments, "config", "--quiet"],
        cwd=project,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "not set" not in result.stderr, result.stderr  # compose warns of a variable it replaced by ""
