"""The LeNet kernel's two convolution backends: same mathematics, chosen per dtype."""

import numpy as np
import pytest
import torch
from lesde_trainer.engine import EnsembleTrainer, InvalidTrainingSpec, train_naive
from lesde_trainer.engine.lenet_kernel import default_convs


def engine(x, y, *, convs, dtype=torch.float64, trials=3, **kwargs):
    return EnsembleTrainer(
        model="lenet",
        num_classes=3,
        in_channels=x.shape[1],
        dtype=dtype,
        trials=trials,
        lr=0.05,
        seed=5,
        x_train=x,
        y_train=y,
        convs=convs,
        **kwargs,
    )


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("batching", ["single", "per_class"])
def test_direct_and_im2col_backends_agree_in_float64(rng, geomnist_small, channels, batching):
    # In float64 both are exact to rounding, so any layout slip (trial/channel order,
    # flatten order, batch order, bias or pooling routing) would show far above 1e-12.
    if channels == 1:
        x, y = geomnist_small.x_train, geomnist_small.y_train
    else:
        x, y = rng.normal(size=(12, 3, 32, 32)), np.arange(12) % 3
    direct = engine(x, y, convs="direct", batching=batching)
    im2col = engine(x, y, convs="im2col", batching=batching)
    assert (direct.backend, im2col.backend) == ("lenet/direct", "lenet/im2col")
    a, b = direct.train(25), im2col.train(25)
    np.testing.assert_allclose(a.logits, b.logits, atol=1e-12, rtol=0)
    state_a, state_b = direct.state_dict(), im2col.state_dict()
    for name in state_b:
        if name.startswith("param/"):
            assert state_a[name].shape == state_b[name].shape
            np.testing.assert_allclose(state_a[name], state_b[name], atol=1e-12, rtol=0)
    np.testing.assert_allclose(direct.logits(x[:5]), im2col.logits(x[:5]), atol=1e-12, rtol=0)
    assert np.abs(a.logits[-1] - a.logits[0]).max() > 1e-3  # it did train


def test_float32_direct_backend_matches_the_naive_loop_with_three_channels(rng):
    x, y = rng.normal(size=(12, 3, 32, 32)).astype(np.float32), np.arange(12) % 3
    block = engine(x, y, convs="direct", dtype=torch.float32).train(30)
    logits, _ = train_naive(
        model="lenet", num_classes=3, in_channels=3, dtype=torch.float32, trial=2, lr=0.05, seed=5, iterations=30, x_train=x, y_train=y
    )
    np.testing.assert_allclose(block.logits[:, 2, None], logits, atol=2e-5, rtol=0)


def test_direct_backend_state_round_trips_into_either_backend(geomnist_small):
    x, y = geomnist_small.x_train, geomnist_small.y_train
    source = engine(x, y, convs="direct", dtype=torch.float32)
    source.train(7)
    state = source.state_dict()
    assert all(v.flags["C_CONTIGUOUS"] for k, v in state.items() if k.startswith("param/"))
    for convs in ("direct", "im2col"):
        target = engine(x, y, convs=convs, dtype=torch.float32)
        target.load_state_dict(state)
        np.testing.assert_allclose(target.logits(x), source.logits(x), atol=1e-6, rtol=0)


def test_default_backend_per_dtype():
    cpu = torch.device("cpu")
    assert default_convs(torch.float64, cpu) == "im2col"
    expected = "direct" if torch.backends.mkldnn.is_available() else "im2col"
    assert default_convs(torch.float32, cpu) == expected
    assert default_convs(torch.float32, torch.device("cuda")) == "direct"


def test_unknown_backend_is_refused(geomnist_small):
    with pytest.raises(InvalidTrainingSpec, match="convs"):
        engine(geomnist_small.x_train, geomnist_small.y_train, convs="winograd")


def test_backend_choice_without_the_lenet_kernel_is_refused(geomnist_small):
    with pytest.raises(InvalidTrainingSpec, match="convs: 'direct' applies to the torch LeNet kernel only"):
        engine(geomnist_small.x_train, geomnist_small.y_train, convs="direct", kernel="functional")
    functional = engine(geomnist_small.x_train, geomnist_small.y_train, convs="auto", kernel="functional")
    assert functional.backend == "functional"


def test_a_kernel_rebuilt_on_the_other_backends_parameters_continues_the_run(geomnist_small):
    from lesde_trainer.engine.lenet_kernel import LeNetKernel

    x, y = geomnist_small.x_train, geomnist_small.y_train
    straight = engine(x, y, convs="im2col")
    switched = engine(x, y, convs="direct")
    straight.train(5), switched.train(5)
    switched._kernel.materialise()  # a new kernel starts a fresh window of deferred fc1 updates
    switched._kernel = LeNetKernel(switched._kernel.params, head=None, convs="im2col")
    switched._images = switched._kernel.prepare_images(torch.as_tensor(x, dtype=torch.float64))
    np.testing.assert_allclose(switched.train(5).logits, straight.train(5).logits, atol=1e-12, rtol=0)
