"""Per-class sums and counts equal a naive loop over rows; means are NaN where a class is absent."""

import numpy as np
import pytest
from lesde_contract.chunks import class_means, class_sums


def _naive(label: np.ndarray, logits: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(label)
    total, count = np.zeros((n, K, K)), np.zeros((n, K), np.int64)
    for t in range(n):
        for row, k in np.ndenumerate(label[t]):
            total[t, k] += logits[t][row]
            count[t, k] += 1
    return total, count


@pytest.mark.parametrize("rows", [(5,), (4, 3)], ids=["one-sample-per-trial", "per-class-batch"])
def test_class_sums_equal_a_naive_loop(rows):
    K, n = 3, 6
    rng = np.random.default_rng(1)
    label = rng.integers(0, K, size=(n, *rows))
    logits = rng.normal(size=(n, *rows, K)).astype(np.float32)
    reduced = class_sums(label, logits, num_classes=K)
    total, count = _naive(label, logits.astype(np.float64), K)
    assert reduced["class_sum"].dtype == np.float32 and reduced["class_count"].dtype == np.int64
    np.testing.assert_allclose(reduced["class_sum"], total, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(reduced["class_count"], count)


def test_class_means_are_nan_where_no_row_had_the_class():
    label = np.array([[0, 0], [0, 1]])
    logits = np.arange(12.0).reshape(2, 2, 3)
    reduced = class_sums(label, logits, num_classes=2 + 1)
    means = class_means(reduced["class_sum"], reduced["class_count"])
    np.testing.assert_array_equal(means[0, 0], logits[0].mean(axis=0))
    np.testing.assert_array_equal(means[1, 1], logits[1, 1])
    assert np.isnan(means[0, 1]).all() and np.isnan(means[:, 2]).all()
