"""Reading the deployment files as Docker would, for the static tests (no Docker engine here).

- ``load_compose_yaml``: YAML with Compose's own ``!override`` / ``!reset`` tags accepted.
- ``interpolate`` / ``compose_refs``: Compose's ``${VAR}``, ``${VAR:-default}``,
  ``${VAR-default}``, ``${VAR:?message}``, ``${VAR?message}``, ``${VAR:+alt}``, ``${VAR+alt}``
  and ``$$``, and the variable references of a text (no ``docker compose`` here to ask).
- ``operator_env``: what an operator's ``.env`` holds after following ``.env.example``
  (its values, each empty secret filled in with a made-up one); ``FRESH_CLONE_ENV``: none.
- ``COMPOSE_FILES``: docker-compose.yml and the GPU overrides in deploy/.
- ``ImageRef`` / ``pin_problems``: an image reference split into registry, repository,
  tag and digest, and why it is not pinned (or is pulled from where it no longer is).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
GPU_OVERRIDE = REPO / "deploy" / "compose.gpu.yml"
GPUS_OVERRIDE = REPO / "deploy" / "compose.gpus.yml"
COMPOSE_FILES = (COMPOSE, GPU_OVERRIDE, GPUS_OVERRIDE)
ENV_EXAMPLE = REPO / ".env.example"
SECRETS_INIT = REPO / "deploy" / "secrets_init.py"
# A fresh clone: no .env, nothing exported.
FRESH_CLONE_ENV: dict[str, str] = {}

# --------------------------------------------------------------------------- YAML


class ComposeLoader(yaml.SafeLoader):
    """SafeLoader that reads Compose's merge-control tags as the plain value they mark."""


def _plain(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_scalar(node)


ComposeLoader.add_constructor("!override", _plain)
ComposeLoader.add_constructor("!reset", lambda loader, node: None)


def load_compose_yaml(text: str) -> dict[str, Any]:
    data = yaml.load(text, Loader=ComposeLoader)  # noqa: S506 - SafeLoader with two tags added
    assert isinstance(data, dict), "not a Compose mapping"
    return data


def tagged_paths(text: str, tag: str) -> list[str]:
    """Dotted paths of the nodes carrying ``tag`` (e.g. ``services.x.deploy...devices``)."""
    found: list[str] = []

    def walk(node: yaml.Node, path: list[str]) -> None:
        if node.tag == tag:
            found.append(".".join(path))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, [*path, str(key.value)])
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                walk(value, [*path, str(index)])

    walk(yaml.compose(text, Loader=ComposeLoader), [])
    return found


# --------------------------------------------------------------------------- interpolation

VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class VarRef:
    """One ``${name<op><arg>}`` (or ``$name``) in a Compose file; ``op`` is '' when bare."""

    name: str
    op: str
    arg: str


def compose_refs(text: str) -> list[VarRef]:
    """The variable references of ``text``; ``$$`` (a literal ``$`` for the container) is none."""
    return [VarRef(m.group(1) or m.group(4), m.group(2) or "", m.group(3) or "") for m in VAR.finditer(text) if m.group(0) != "$$"]


def strings_in(node: Any) -> list[str]:
    """Every string value in a loaded YAML tree (comments, which Compose never reads, are gone)."""
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings_in(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings_in(value)]
    return [node] if isinstance(node, str) else []


def compose_file_refs(text: str) -> list[VarRef]:
    """The variable references Compose interpolates in a Compose file: its values only."""
    return [ref for value in strings_in(load_compose_yaml(text)) for ref in compose_refs(value)]


def interpolate(value: str, env: dict[str, str]) -> str:
    """``value`` as Compose interpolates it with ``env``; a ``${VAR:?message}`` whose
    variable is unset or empty raises ``MissingVariable`` with that message, as Compose stops.
    (Nested references in a default are not used by our files and not resolved here.)"""

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        op, arg = match.group(2), match.group(3)
        value = env.get(name)
        if op in (":-", "-"):
            return value if (value if op == ":-" else value is not None) else arg
        if op in (":+", "+"):
            return arg if (value if op == ":+" else value is not None) else ""
        if (op == ":?" and not value) or (op == "?" and value is None):
            raise MissingVariable(name, arg)
        return value or ""

    return VAR.sub(sub, value)


class MissingVariable(AssertionError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"compose requires ${{{name}}}: {message}")
        self.name = name
        self.message = message


def service_env(service: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    """A service's environment (mapping or list form), interpolated with ``env``."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {str(k): interpolate(str(v), env) if v is not None else "" for k, v in raw.items()}


# --------------------------------------------------------------------------- the operator's .env


def env_example() -> dict[str, str]:
    """``.env.example``'s ``NAME=value`` lines (comments and blank lines skipped)."""
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            pairs[name.strip()] = value.strip()
    return pairs


# Made-up secrets in the shapes their settings parse; every other empty value gets a
# distinct string of its own (so two variables never happen to be equal).
SAMPLE_SECRETS = {"LESDE_API_KEYS": "alice=sample-key-of-alice,bob=sample-key-of-bob"}
# Empty values an operator who sets the secrets still leaves empty: a path inside a container,
# which needs a file mounted by an override of their own.
LEFT_EMPTY = {"LESDE_API_KEYS_FILE"}


def operator_env() -> dict[str, str]:
    """What ``.env`` holds once an operator filled in every empty secret of ``.env.example``."""
    env = env_example()
    for name, value in env.items():
        if not value and name not in LEFT_EMPTY:
            env[name] = SAMPLE_SECRETS.get(name, f"sample-{name.lower().replace('_', '-')}-0123456789")
    return env


# --------------------------------------------------------------------------- images

# Tags that move: the image they name changes under the same reference.
FLOATING_TAGS = {"latest", "stable", "edge", "main", "master", "nightly", "current", "lts", "slim", "alpine"}
# A version of two components at least: 7.4, 3.11.13, 12.8.1, RELEASE.2025-09-07T16-13-09Z.
VERSIONED = re.compile(r"\d+[.-]\d+")
DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


@dataclass(frozen=True)
class ImageRef:
    registry: str  # "docker.io" when the reference names none
    repository: str  # "library/redis", "minio/minio"
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, reference: str) -> ImageRef:
        rest, _, digest = reference.partition("@")
        first, slash, remainder = rest.partition("/")
        # A first component with a dot or a port, or "localhost", is a registry host.
        if slash and ("." in first or ":" in first or first == "localhost"):
            registry, path = first, remainder
        else:
            registry, path = "docker.io", rest
        name, colon, tag = path.rpartition(":") if ":" in path else (path, "", "")
        if not colon:
            name, tag = path, ""
        if registry in DOCKER_HUB and "/" not in name:
            name = f"library/{name}"
        return cls(registry=registry, repository=name, tag=tag or None, digest=digest or None)

    @property
    def on_docker_hub(self) -> bool:
        return self.registry in DOCKER_HUB


def pin_problems(reference: str) -> list[str]:
    """Why ``reference`` would not pull the same, existing image every time (empty: pinned)."""
    if "$" in reference:
        return [f"{reference}: an unresolved variable (interpolate first)"]
    image = ImageRef.parse(reference)
    problems = []
    if image.digest is None:
        if image.tag is None:
            problems.append(f"{reference}: no tag (pulls whatever `latest` is that day)")
        elif image.tag.lower() in FLOATING_TAGS or not VERSIONED.search(image.tag):
            problems.append(f"{reference}: tag {image.tag!r} is not a version (pin one, e.g. 7.4-alpine)")
    if image.on_docker_hub and image.repository.split("/")[0] == "minio":
        problems.append(
            f"{reference}: MinIO's images left Docker Hub in September 2026 (pull access denied); use quay.io/{image.repository}"
        )
    return problems


def dockerfile_base_images(path: Path) -> list[str]:
    """The images a Dockerfile's FROM lines pull, ``ARG`` defaults substituted, stage names skipped."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    images = []
    for line in path.read_text().splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0].upper() == "ARG" and "=" in words[1]:
            name, default = words[1].split("=", 1)
            args[name] = default.strip("\"'")
        elif words[0].upper() == "FROM":
            operands = [word for word in words[1:] if not word.startswith("--")]
            image = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: args.get(m.group(1), m.group(0)), operands[0])
            if image not in stages and image != "scratch":
                images.append(image)
            if len(operands) >= 3 and operands[1].upper() == "AS":
                stages.add(operands[2])
    return images


# --------------------------------------------------------------------------- the secrets volume

SECRETS_VOLUME = "secrets"


def volume_mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """A service's mounts: container path -> (source, read-only), short or long syntax."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts[volume["target"]] = (volume.get("source", ""), bool(volume.get("read_only")))
        else:
            parts = volume.split(":")
            mounts[parts[1]] = (parts[0], len(parts) > 2 and "ro" in parts[2].split(","))
    return mounts


def secrets_mount(service: dict[str, Any]) -> str | None:
    """Where a service mounts the volume of generated secrets (None: it does not)."""
    found = [target for target, (source, _ro) in volume_mounts(service).items() if source == SECRETS_VOLUME]
    assert len(found) <= 1, found
    return found[0] if found else None


def run_secrets_init(folder: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """deploy/secrets_init.py as compose runs it, with ``folder`` as the volume (isolated
    Python: the script needs the standard library only, like the plain python image)."""
    full_env = {"PATH": os.environ["PATH"], **(env or {}), "SECRETS_DIR": str(folder)}
    return subprocess.run([sys.executable, "-I", str(SECRETS_INIT)], env=full_env, capture_output=True, text=True, timeout=60)


def remap(env: dict[str, str], mount: str, folder: Path) -> dict[str, str]:
    """``env`` with every path inside the container's ``mount`` moved into ``folder``."""
    return {name: str(folder) + value[len(mount) :] if value.startswith(mount + "/") else value for name, value in env.items()}
