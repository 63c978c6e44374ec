"""Print the third-party requirements of our local projects, one per line, for `pip install -r`.

The Dockerfiles copy only the ``pyproject.toml`` manifests, install what this prints, and
copy the source after: a code change then rebuilds only the last, small layer, not the
dependency layer (torch, scipy, ...). A requirement on one of the given projects
(``lesde[services]``) is not printed; its own dependencies and those of the extras asked
for are, so nothing is missed when the projects are installed with ``--no-deps`` later.

Usage (standard library only, so it runs on the bare base image); ``[extras]`` after a
manifest asks for those extras of its project:
    python requirements_from_pyproject.py shared/client/pyproject.toml services/api/pyproject.toml
    python requirements_from_pyproject.py shared/client/pyproject.toml "services/analyzer/pyproject.toml[worker]"
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# A requirement's project name and extras: "lesde[services]>=0.1" -> ("lesde", "services").
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def normalise(name: str) -> str:
    """A project name as pip compares them (PEP 503): case and runs of ``-_.`` do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_target(requirement: str) -> tuple[str, set[str]]:
    """(normalised project name, extras) a requirement string asks for."""
    match = _REQUIREMENT.match(requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    extras = {normalise(extra) for extra in (match.group(2) or "").split(",") if extra.strip()}
    return normalise(match.group(1)), extras


def third_party_requirements(manifests: list[Path], wanted: dict[str, set[str]] | None = None) -> list[str]:
    """Requirements of ``manifests``' projects (with the extras ``wanted`` of them and those
    the projects ask of each other, transitively) that are not themselves among the given
    projects, deduplicated, in first-seen order."""
    projects = {}
    for manifest in manifests:
        project = tomllib.loads(manifest.read_text())["project"]
        projects[normalise(project["name"])] = project
    extras_wanted: dict[str, set[str]] = {name: set() for name in projects}
    for name, extras in (wanted or {}).items():
        extras_wanted[normalise(name)] |= extras
    optional = {
        name: {normalise(extra): deps for extra, deps in project.get("optional-dependencies", {}).items()}
        for name, project in projects.items()
    }

    def requirements_of(name: str) -> list[str]:
        unknown = extras_wanted[name] - set(optional[name])
        if unknown:
            raise ValueError(f"{name} has no extras {sorted(unknown)} (it has {sorted(optional[name])})")
        return list(projects[name].get("dependencies", [])) + [
            dep for extra in sorted(extras_wanted[name]) for dep in optional[name][extra]
        ]

    changed = True
    while changed:  # an extra may ask another project for an extra: until nothing new is asked
        changed = False
        for name in projects:
            for requirement in requirements_of(name):
                target, extras = requirement_target(requirement)
                if target in projects and not extras <= extras_wanted[target]:
                    extras_wanted[target] |= extras
                    changed = True
    printed: list[str] = []
    for name in projects:
        for requirement in requirements_of(name):
            if requirement_target(requirement)[0] not in projects and requirement not in printed:
                printed.append(requirement)
    return printed


def parse_argument(argument: str) -> tuple[Path, set[str]]:
    """``path/pyproject.toml[extra1,extra2]`` -> (path, extras wanted of that project)."""
    path, _, extras = argument.partition("[")
    return Path(path), {normalise(extra) for extra in extras.rstrip("]").split(",") if extra.strip()}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    parsed = [parse_argument(arg) for arg in argv]
    wanted = {tomllib.loads(path.read_text())["project"]["name"]: extras for path, extras in parsed}
    for requirement in third_party_requirements([path for path, _ in parsed], wanted):
        print(requirement)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
