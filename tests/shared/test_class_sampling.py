"""The class weights pi of the drift from a stored spec (lesde_contract.specs.sampling)."""

import pytest
from lesde_contract.specs import ExperimentSpec
from lesde_contract.specs.sampling import class_sampling


def stored(**dataset) -> dict:
    return ExperimentSpec.model_validate({"dataset": dataset}).model_dump(mode="json")


def test_balanced_sets_keep_one_over_k():
    pi, words = class_sampling(stored())
    assert pi is None and words.startswith("balanced")
    assert class_sampling(stored(label_noise=0.3))[0] is None  # equal shares keep the balance


def test_training_counts_set_the_weights_and_label_noise_mixes_them():
    pi, words = class_sampling(stored(train_counts=[60, 30, 10]))
    assert pi == pytest.approx([0.6, 0.3, 0.1]) and "imbalanced" in words and "[60, 30, 10]" in words
    noisy, _ = class_sampling(stored(train_counts=[60, 30, 10], label_noise=0.2))
    # pi_k = (1 - p) n_k / N + p (1 - n_k / N) / (K - 1)
    assert noisy == pytest.approx([0.8 * 0.6 + 0.2 * 0.4 / 2, 0.8 * 0.3 + 0.2 * 0.7 / 2, 0.8 * 0.1 + 0.2 * 0.9 / 2])
    assert sum(noisy) == pytest.approx(1.0)


def test_per_class_batches_and_imports_are_balanced():
    spec = stored(train_counts=[60, 30, 10]) | {"training": {"batching": "per_class"}}
    assert class_sampling(spec)[0] is None
    assert class_sampling({"kind": "import", "dataset": {"classes": ["a", "b"]}})[0] is None
