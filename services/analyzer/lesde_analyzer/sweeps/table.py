"""The sweep's table as CSV: one row per child, the columns of :func:`.rows.columns`.

Numbers at full precision (Python's shortest round-trip repr), an empty cell where a
number is missing, a list-valued grid value (``dataset.classes``) as JSON.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

__all__ = ["table_csv"]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return value


def table_csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 CSV bytes with header ``columns`` and one line per row (missing keys empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return out.getvalue().encode("utf-8")
