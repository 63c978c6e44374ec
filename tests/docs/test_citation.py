"""CITATION.cff validates against the Citation File Format 1.2.0 schema, as cffconvert ships
it (the wheel is fetched from the package index, its schema read, nothing installed), and the
project states one licence everywhere: LICENSE, CITATION.cff and every pyproject."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA_IN_WHEEL = "cffconvert/schemas/1.2.0/schema.json"


def cff_schema(tmp_path: Path) -> dict:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "cffconvert==2.0.0",
            "-d",
            str(tmp_path),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("cffconvert-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        return json.load(io.TextIOWrapper(archive.open(SCHEMA_IN_WHEEL), encoding="utf-8"))


def test_citation_cff_is_valid_cff_1_2_0(tmp_path):
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    jsonschema.validate(citation, cff_schema(tmp_path))
    paper = citation["references"][0]
    assert "Locally Elastic" in paper["title"] and any(i["value"] == "arXiv:2110.05960" for i in paper["identifiers"])


def test_one_licence_everywhere():
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    assert yaml.safe_load((REPO / "CITATION.cff").read_text())["license"] == "MIT"
    pyprojects = sorted(path for path in REPO.glob("**/pyproject.toml") if ".venv" not in path.parts)
    assert len(pyprojects) >= 5
    for path in pyprojects:
        project = tomllib.loads(path.read_text())["project"]
        assert project.get("license") == "MIT", f"{path.relative_to(REPO)} does not state the licence"


def test_the_readme_gives_the_papers_bibtex():
    readme = (REPO / "README.md").read_text()
    assert "@inproceedings{zhang2021imitating" in readme and "2110.05960" in readme
