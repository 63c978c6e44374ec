"""docs/operations.md documents every setting the services read, with its true default."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import lesde_runtime.settings
import pytest
from pydantic_settings import BaseSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _settings_fields() -> list[tuple[str, object]]:
    """``(LESDE_<FIELD>, default)`` of every settings class in :mod:`lesde_runtime.settings`."""
    found = []
    for _name, cls in inspect.getmembers(lesde_runtime.settings, inspect.isclass):
        if issubclass(cls, BaseSettings) and cls.__module__ == lesde_runtime.settings.__name__:
            prefix = cls.model_config.get("env_prefix", "")
            found += [(f"{prefix}{field}".upper(), info.default) for field, info in cls.model_fields.items()]
    return found


def _rows() -> dict[str, str]:
    """Each documented variable -> the default column of its table row."""
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`LESDE_"):
            for name in re.findall(r"`(LESDE_[A-Z0-9_]+)`", cells[0]):
                rows[name] = cells[1]
    return rows


@pytest.mark.parametrize(("name", "default"), _settings_fields(), ids=lambda value: str(value))
def test_every_setting_has_a_row_with_its_default(name, default):
    rows = _rows()
    assert name in rows, f"{name} is read by the services but docs/operations.md has no row for it"
    shown = rows[name].replace(",", "").replace("`", "")
    if isinstance(default, bool):
        assert shown.lower() == str(default).lower(), (name, shown)
    elif isinstance(default, int | float):
        number = re.match(r"[\d.]+", shown)
        scale = {"GiB": 1 << 30, "MiB": 1 << 20}.get(shown.split()[-1], 1) if number else 1
        assert number and float(number.group()) * scale == pytest.approx(float(default)), (name, shown, default)
    elif default is None:
        assert shown == "none", (name, shown)
    else:
        assert shown == str(getattr(default, "value", default)), (name, shown, default)
