"""Parsing the authors' CSV into a (T, R, C) grid, and the row and column of each problem."""

from __future__ import annotations

import numpy as np
import pytest
from lesde_analyzer.imports.grid import parse_grid
from lesde_contract.csv_layout import ImportRejected

from tests.fixtures.authors_csv import authors_csv


def _parse(text: str, folder, piece: int = 7):
    data = text.encode()
    return parse_grid(iter([data[i : i + piece] for i in range(0, len(data), piece)]), str(folder))


def test_rows_become_an_iteration_major_grid(tmp_path):
    lines = authors_csv(trials=3, iterations=5).strip().split("\n")
    shuffled = [lines[0], *reversed(lines[1:])]  # order of rows does not matter
    grid = _parse("\n".join(shuffled) + "\n", tmp_path)
    assert grid.values.shape == (5, 3, 4 + 3 + 3) and grid.K == 3 and grid.rows == 15 and grid.trials == [0, 1, 2]
    assert np.array_equal(grid.values[:, :, 1], np.repeat(np.arange(5.0)[:, None], 3, axis=1))
    assert np.array_equal(grid.values[2, 1, 4:7], [float(cell) for cell in lines[1 + 5 + 2].split(",")[4:7]])


@pytest.mark.parametrize(
    ("mutate", "row", "column"),
    [
        (lambda lines: lines[:3] + [lines[3].replace(",0.5,", ",abc,")] + lines[4:], 4, "tr_loss"),
        (lambda lines: lines[:5] + [lines[5] + ",7"] + lines[6:], 6, None),
        (lambda lines: lines[:4] + [lines[4].replace("0,3,", "-1,3,", 1)] + lines[5:], 5, "trial"),
        (lambda lines: lines[:1], 2, None),
        (lambda lines: lines[:-1] + [lines[2]], None, "itr"),
    ],
    ids=["non-numeric", "ragged", "negative-trial", "no-rows", "duplicate"],
)
def test_problems_name_row_and_column(tmp_path, mutate, row, column):
    lines = authors_csv(trials=2, iterations=10).strip().split("\n")
    with pytest.raises(ImportRejected) as rejected:
        _parse("\n".join(mutate(lines)) + "\n", tmp_path)
    assert rejected.value.column == column
    if row is not None:
        assert rejected.value.row == row


def test_empty_and_non_utf8_are_rejected_at_row_1(tmp_path):
    for data in (b"", b"\xff\xfe,trial\n"):
        with pytest.raises(ImportRejected) as rejected:
            parse_grid(iter([data]), str(tmp_path))
        assert rejected.value.row == 1
