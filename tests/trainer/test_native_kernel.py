"""The native (C) LeNet kernel against the torch kernel, its determinism, and its build and fallbacks.

The naive-loop equivalence, resume and block-boundary tests of test_engine.py run on it too
(it is what ``kernel="auto"`` picks for LeNet with batching ``single`` on the CPU).
"""

import numpy as np
import pytest
import torch
from lesde_trainer.engine import EnsembleTrainer, InvalidTrainingSpec, native_build
from lesde_trainer.engine.kernel import Kernel

pytestmark = pytest.mark.skipif(
    native_build.load_native() is None, reason=f"no native kernel here: {native_build.native_unavailable_reason()}"
)


def engine(x, y, **kwargs):
    args = dict(
        model="lenet",
        num_classes=int(y.max()) + 1,
        in_channels=x.shape[1],
        dtype=torch.float64,
        trials=4,
        lr=0.05,
        seed=2,
        x_train=x,
        y_train=y,
    )
    return EnsembleTrainer(**(args | kwargs))


@pytest.fixture
def colour(rng):
    """Three-channel images and four classes (the CIFAR-10 shape of the input)."""
    return rng.normal(size=(30, 3, 32, 32)), rng.integers(0, 4, size=30)


@pytest.mark.parametrize("head", ["none", "random_orthogonal"])
def test_native_trains_as_the_torch_kernel_on_three_channels(colour, head):
    x, y = colour
    native, torch_kernel = engine(x, y, head=head), engine(x, y, head=head, kernel="lenet")
    assert native.backend == "lenet/native" and torch_kernel.backend.startswith("lenet/")
    a, b = native.train(40), torch_kernel.train(40)
    np.testing.assert_array_equal(a.index, b.index)
    np.testing.assert_allclose(a.logits, b.logits, atol=1e-11, rtol=0)
    np.testing.assert_allclose(a.loss, b.loss, atol=1e-11, rtol=0)
    state_a, state_b = native.state_dict(), torch_kernel.state_dict()
    for name in state_a:
        if name.startswith("param/"):
            np.testing.assert_allclose(state_a[name], state_b[name], atol=1e-11, rtol=0, err_msg=name)
    np.testing.assert_allclose(native.features(x), torch_kernel.features(x), atol=1e-11, rtol=0)
    assert np.abs(a.logits[-1] - a.logits[0]).max() > 1e-3  # it did train


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_results_do_not_depend_on_the_thread_count(geomnist_small, dtype):
    x, y = geomnist_small.x_train, geomnist_small.y_train
    runs = []
    for threads in (1, 2, 3):
        torch.set_num_threads(threads)
        try:
            e = engine(x, y, dtype=dtype, trials=5)
            runs.append((e.train(25).logits, e.logits(geomnist_small.x_val)))
        finally:
            torch.set_num_threads(2)
    for logits, probe in runs[1:]:
        np.testing.assert_array_equal(logits, runs[0][0])
        np.testing.assert_array_equal(probe, runs[0][1])


def test_a_torch_checkpoint_mid_window_resumes_on_the_native_kernel(geomnist_small):
    # A job checkpointed by the torch kernel (deferred fc1 rows pending) and picked up by a
    # worker that runs the native one continues from the effective parameters.
    x, y = geomnist_small.x_train, geomnist_small.y_train
    first = engine(x, y, kernel="lenet")
    first.train(7)  # mid-window: pending rows
    state = first.state_dict()
    assert "pending/steps" in state
    native = engine(x, y)
    native.load_state_dict(state)
    np.testing.assert_allclose(native.train(10).logits, first.train(10).logits, atol=1e-11, rtol=0)


def test_the_native_kernel_satisfies_the_kernel_protocol(geomnist_small):
    from test_engine import assert_satisfies

    assert_satisfies(engine(geomnist_small.x_train, geomnist_small.y_train)._kernel, Kernel)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(batching="per_class"), "batch size 1"),
        (dict(model="mlp"), "not allowed for model 'mlp'"),
    ],
)
def test_an_explicit_native_kernel_that_cannot_serve_the_run_is_refused(geomnist_small, kwargs, words):
    with pytest.raises(InvalidTrainingSpec, match=words) as refused:
        engine(geomnist_small.x_train, geomnist_small.y_train, kernel="native", **kwargs)
    assert str(refused.value).startswith("kernel:")


@pytest.fixture
def fresh_build(monkeypatch, tmp_path):
    """The loader with its per-process cache emptied, building into tmp_path; restored after."""
    monkeypatch.setenv(native_build.CACHE_SETTING, str(tmp_path))
    native_build._load.cache_clear()
    yield tmp_path
    native_build._load.cache_clear()


def test_the_library_is_built_once_into_the_cache(fresh_build):
    assert native_build.load_native() is not None
    built = sorted(fresh_build.glob("lenet-*.so"))
    assert len(built) == 1 and not list(fresh_build.glob("*.tmp"))
    stamp = built[0].stat().st_mtime_ns
    native_build._load.cache_clear()
    assert native_build.load_native() is not None
    assert built[0].stat().st_mtime_ns == stamp  # loaded, not rebuilt


def test_switched_off_or_without_a_compiler_the_torch_kernel_trains(fresh_build, monkeypatch, geomnist_small):
    monkeypatch.setenv(native_build.SETTING, "off")
    assert "switched off" in native_build.native_unavailable_reason()
    assert engine(geomnist_small.x_train, geomnist_small.y_train).backend.startswith("lenet/")
    assert engine(geomnist_small.x_train, geomnist_small.y_train).backend != "lenet/native"
    monkeypatch.setenv(native_build.SETTING, "auto")
    monkeypatch.setenv("CC", "/bin/false")  # a compiler that fails
    native_build._load.cache_clear()
    assert (
        "compile the native kernel" in native_build.native_unavailable_reason()
        or "query the C compiler" in native_build.native_unavailable_reason()
    )
    with pytest.raises(InvalidTrainingSpec, match="kernel: 'native' cannot train this run"):
        engine(geomnist_small.x_train, geomnist_small.y_train, kernel="native")
    monkeypatch.setenv(native_build.SETTING, "sometimes")
    native_build._load.cache_clear()
    assert "LESDE_NATIVE_KERNEL: 'sometimes' is not one of auto, off" in native_build.native_unavailable_reason()
