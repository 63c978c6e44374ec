"""Print the third-party requirements of our local projects, one per line, for `pip install -r`.

The Dockerfiles copy only the ``pyproject.toml`` manifests, install what this prints, and
copy the source after: a code change then rebuilds only the last, small layer, not the
dependency layer (torch, scipy, ...). A requirement on one of the given projects
(``lesde[services]``) is not printed; its own dependencies and those of the extras asked
for are, so nothing is missed when the projects are installed with ``--no-deps`` later.

Usage (standard library only, so it runs on the bare base image):
    python requirements_from_pyproject.py shared/pyproject.toml services/api/pyproject.toml
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


def third_party_requirements(manifests: list[Path]) -> list[str]:
    """Requirements of ``manifests``' projects (with the extras other given projects ask
    for) that are not themselves among the given projects, deduplicated, in first-seen order."""
    projects = {}
    for manifest in manifests:
        project = tomllib.loads(manifest.read_text())["project"]
        projects[normalise(project["name"])] = project
    extras_wanted: dict[str, set[str]] = {name: set() for name in projects}
    for project in projects.values():
        for requirement in project.get("dependencies", []):
            name, extras = requirement_target(requirement)
            if name in projects:
                extras_wanted[name] |= extras
    printed: list[str] = []
    for name, project in projects.items():
        optional = {normalise(extra): deps for extra, deps in project.get("optional-dependencies", {}).items()}
        unknown = extras_wanted[name] - set(optional)
        if unknown:
            raise ValueError(f"{name} has no extras {sorted(unknown)} (it has {sorted(optional)})")
        requirements = list(project.get("dependencies", []))
        for extra in sorted(extras_wanted[name]):
            requirements += optional[extra]
        for requirement in requirements:
            if requirement_target(requirement)[0] not in projects and requirement not in printed:
                printed.append(requirement)
    return printed


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    for requirement in third_party_requirements([Path(arg) for arg in argv]):
        print(requirement)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
