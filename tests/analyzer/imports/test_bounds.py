"""An import is held to what a training run could produce: ``itr`` and trials within the
trainer's caps, finite numbers no larger than 1e30; refused at the row and column, before
any grid is allocated."""

from __future__ import annotations

import tracemalloc

import pytest
from lesde_analyzer.imports.grid import ImportBounds, parse_grid
from lesde_contract.csv_layout import ImportRejected

from tests.fixtures.authors_csv import authors_csv

LOGIT = 5  # y_logit1 in the fixture's layout (trial, itr, smp, y, y_logit0..2, tr_loss, val_loss, val_acc)


def _lines() -> list[str]:
    return authors_csv(trials=2, iterations=10).strip().split("\n")


def _with_cell(row: int, column: int, value: str) -> str:
    lines = _lines()
    cells = lines[row - 1].split(",")
    cells[column] = value
    lines[row - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


DEFAULT_BOUNDS = ImportBounds()


def _rejected(text: str, folder, bounds: ImportBounds = DEFAULT_BOUNDS) -> ImportRejected:
    with pytest.raises(ImportRejected) as rejected:
        parse_grid(iter([text.encode()]), str(folder), bounds=bounds)
    return rejected.value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("nan", "not finite"),
        ("inf", "not finite"),
        ("-inf", "not finite"),
        ("1e309", "not finite"),
        ("1e308", "exceeds 1e+30"),
        ("-2e30", "exceeds 1e+30"),
    ],
)
def test_non_finite_and_huge_values_are_refused_at_row_and_column(tmp_path, value, words):
    problem = _rejected(_with_cell(4, LOGIT, value), tmp_path)
    assert (problem.row, problem.column) == (4, "y_logit1") and words in str(problem)
    assert "squares and sums logits" in str(problem) or "NaN and infinity" in str(problem)
    assert _rejected(_with_cell(6, 7, value), tmp_path).column == "tr_loss"


def test_an_empty_validation_cell_still_means_not_evaluated(tmp_path):
    grid = parse_grid(iter([_with_cell(3, 8, "").encode()]), str(tmp_path))
    assert grid.values.shape == (10, 2, 10)


def test_an_itr_beyond_the_iteration_cap_is_refused_without_allocating_the_grid(tmp_path):
    header = _lines()[0]
    text = f"{header}\n0,0,1,0,0.1,0.2,0.3,0.5,,\n0,300000000,1,0,0.1,0.2,0.3,0.5,,\n"
    tracemalloc.start()
    try:
        problem = _rejected(text, tmp_path)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (problem.row, problem.column) == (3, "itr") and "allowed range: 0 to 999,999" in str(problem)
    assert peak < 8 << 20  # bytes: a grid of 300,000,001 iterations was never built


def test_trials_and_trial_iterations_are_capped(tmp_path):
    problem = _rejected("\n".join(_lines()) + "\n", tmp_path, ImportBounds(max_trials=1))
    assert (problem.row, problem.column) == (12, "trial") and "more than 1 distinct trials" in str(problem)
    problem = _rejected("\n".join(_lines()) + "\n", tmp_path, ImportBounds(max_trial_iterations=15))
    assert (problem.row, problem.column) == (12, "trial") and "2 trials x 10 iterations" in str(problem)  # trial 1 begins
    one_trial = "\n".join(_lines()[:11]) + "\n"
    problem = _rejected(one_trial, tmp_path, ImportBounds(max_trial_iterations=5))
    assert (problem.row, problem.column) == (7, "itr") and "(LESDE_MAX_TRIAL_ITERATIONS)" in str(problem)
