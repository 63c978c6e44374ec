"""Networks described in the spec: built from the description alone, trained by the generic
path like the built-in ones, and the LeNet preset equal to the hand-written kernels."""

import pickle

import numpy as np
import pytest
import torch
from lesde_contract.specs.network import lenet_layers
from lesde_trainer.engine import EnsembleTrainer, InvalidTrainingSpec, train_naive
from lesde_trainer.models import build_model

SMALL = [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 1, "padding": 0},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "flatten"},
    {"type": "linear", "out_features": 16},
    {"type": "tanh"},
    {"type": "linear", "out_features": 3},
]


def make(data, **kwargs):
    args = dict(
        model="custom",
        layers=SMALL,
        num_classes=3,
        in_channels=1,
        dtype=torch.float64,
        trials=3,
        lr=0.05,
        seed=9,
        x_train=data.x_train,
        y_train=data.y_train,
    )
    return EnsembleTrainer(**(args | kwargs))


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("kernel", ["native", "lenet"])
def test_the_lenet_preset_through_the_generic_path_equals_the_kernels(geomnist_small, dtype, tol, kernel):
    from lesde_trainer.engine import native_build

    if kernel == "native" and native_build.load_native() is None:
        pytest.skip(native_build.native_unavailable_reason())
    x = geomnist_small.x_train
    preset = make(geomnist_small, layers=lenet_layers(3), dtype=dtype)
    built_in = make(geomnist_small, model="lenet", layers=None, dtype=dtype, kernel=kernel)
    assert preset.backend == "functional"
    a, b = preset.train(30), built_in.train(30)
    np.testing.assert_allclose(a.logits, b.logits, atol=tol, rtol=0)
    np.testing.assert_allclose(preset.logits(x), built_in.logits(x), atol=tol, rtol=0)
    np.testing.assert_allclose(preset.features(x), built_in.features(x), atol=tol, rtol=0)


def test_a_custom_network_matches_the_naive_loop(geomnist_small):
    engine = make(geomnist_small)
    block = engine.train(25)
    logits, final = train_naive(
        model="custom",
        layers=SMALL,
        num_classes=3,
        in_channels=1,
        dtype=torch.float64,
        trial=1,
        lr=0.05,
        seed=9,
        iterations=25,
        x_train=geomnist_small.x_train,
        y_train=geomnist_small.y_train,
    )
    np.testing.assert_allclose(block.logits[:, 1, None], logits, atol=1e-12, rtol=0)
    assert engine.features(geomnist_small.x_val).shape == (3, len(geomnist_small.y_val), 16)


def test_a_custom_network_resumes_bit_for_bit_and_splits_freely(geomnist_small):
    straight = make(geomnist_small, dtype=torch.float32)
    whole = straight.train(20)
    first = make(geomnist_small, dtype=torch.float32)
    part1 = first.train(8)
    resumed = make(geomnist_small, dtype=torch.float32)
    resumed.load_state_dict(pickle.loads(pickle.dumps(first.state_dict())))
    part2 = resumed.train(12)
    np.testing.assert_array_equal(np.concatenate([part1.logits, part2.logits]), whole.logits)
    again = make(geomnist_small, dtype=torch.float32)
    pieces = [again.train(n) for n in (3, 17)]
    np.testing.assert_array_equal(np.concatenate([p.logits for p in pieces]), whole.logits)


def test_a_description_that_does_not_fit_is_refused_naming_the_layer(geomnist_small):
    with pytest.raises(InvalidTrainingSpec, match="layers.6: the classifier has out_features 5, but the data has 3"):
        make(geomnist_small, layers=[*SMALL[:-1], {"type": "linear", "out_features": 5}])
    with pytest.raises(InvalidTrainingSpec, match="dropout is refused"):
        make(geomnist_small, layers=[*SMALL[:4], {"type": "dropout", "p": 0.5}, *SMALL[4:]])


def test_no_code_is_run_from_a_description():
    # an unknown layer type is a validation error, never a lookup of a torch attribute by name
    with pytest.raises(Exception, match="does not match any of the expected tags|union_tag_invalid|Input tag"):
        build_model("custom", num_classes=3, in_channels=1, layers=[{"type": "__import__"}, {"type": "linear", "out_features": 3}])
