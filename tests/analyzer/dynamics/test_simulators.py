import numpy as np
import pytest
from lesde_analyzer.dynamics import (
    Schedule,
    drift_matrix,
    initial_samples,
    simulate_discrete,
    simulate_ode,
    simulate_sde,
)
from lesde_analyzer.errors import InvalidArgument


def test_recording_and_shapes():
    x0 = initial_samples(4, 3, 5, 2, seed=0)
    tr = simulate_sde(x0, alpha=1.0, beta=0.2, sigma=0.5, step=0.1, steps=25, record_every=10, seed=1, sample_stride=2)
    np.testing.assert_array_equal(tr.steps, [0, 10, 20, 25])
    np.testing.assert_allclose(tr.times, [0, 1, 2, 2.5])
    assert tr.means.shape == (4, 4, 3, 2)
    np.testing.assert_array_equal(tr.sample_index, [0, 2, 3])
    assert tr.samples.shape == (3, 4, 3, 5, 2)
    np.testing.assert_allclose(tr.samples.mean(axis=3), tr.means[tr.sample_index])


@pytest.mark.parametrize("sim", [simulate_sde, simulate_discrete])
def test_seeded_runs_are_reproducible(sim):
    x0 = initial_samples(3, 2, 4, 1, seed=0)
    a = sim(x0, alpha=0.5, beta=0.1, sigma=1.0, step=0.1, steps=20, seed=7)
    b = sim(x0, alpha=0.5, beta=0.1, sigma=1.0, step=0.1, steps=20, seed=7)
    np.testing.assert_array_equal(a.samples, b.samples)


@pytest.mark.parametrize("model", ["I", "L"])
def test_noiseless_sde_means_follow_euler_ode(model):
    K = 3
    x0 = initial_samples(2, K, 6, K, seed=2)
    w = [0.5, 0.3, 0.2]
    kw = dict(alpha=Schedule.power(1.0, 0.5), beta=-0.4, model=model, step=0.05, steps=40, weights=w)
    sde = simulate_sde(x0, sigma=0.0, **kw)
    ode = simulate_ode(x0.mean(axis=2), **kw)
    np.testing.assert_allclose(sde.means, ode.means, rtol=1e-12, atol=1e-12)
    # one Euler step by hand with the full (imbalanced) drift matrix
    M = drift_matrix(1.0, -0.4, model=model, K=K, p=K, weights=w)
    x1 = x0.mean(axis=2)[0].ravel() + 0.05 * M @ x0.mean(axis=2)[0].ravel()
    np.testing.assert_allclose(ode.means[1, 0].ravel(), x1, rtol=1e-13)


def test_imbalanced_drift_matrix_blocks():
    M = drift_matrix(2.0, 1.0, model="I", K=2, p=1, weights=[3.0, 1.0])
    np.testing.assert_allclose(M, [[0.75 * 2, 0.25 * 1], [0.75 * 1, 0.25 * 2]])


def test_discrete_model_mean_increment_is_the_ode_drift():
    """E[one discrete step] = h M Xbar: average many runs started from the same state."""
    K, n, p, runs = 3, 4, 3, 40000
    x = np.broadcast_to(initial_samples(1, K, n, p, seed=3), (runs, K, n, p))
    h = 0.1
    tr = simulate_discrete(x, alpha=1.0, beta=-0.5, sigma=0.0, model="L", step=h, steps=1, seed=4)
    inc = (tr.means[1] - tr.means[0]).mean(axis=0)
    M = drift_matrix(1.0, -0.5, model="L", K=K, p=p)
    expected = h * (M @ x[0].mean(axis=1).ravel()).reshape(K, p)
    assert np.abs(inc - expected).max() < 0.02 * np.abs(expected).max()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(step=0.0), "step"),
        (dict(steps=0), "steps"),
        (dict(record_every=0), "record_every"),
        (dict(sigma=-1.0), "sigma"),
        (dict(model="X"), "model"),
        (dict(seed=-3), "seed"),
        (dict(alpha="fast"), "alpha"),
        (dict(weights=[1.0, -1.0]), "weights"),
    ],
)
def test_validation_names_the_argument(kwargs, name):
    base = dict(alpha=1.0, beta=0.0, sigma=1.0, step=0.1, steps=3)
    base.update(kwargs)
    with pytest.raises(InvalidArgument) as exc:
        simulate_sde(np.zeros((1, 2, 2, 1)), **base)
    assert exc.value.argument == name


def test_l_model_needs_p_equal_k():
    with pytest.raises(InvalidArgument, match="dim"):
        simulate_sde(np.zeros((1, 3, 2, 2)), alpha=1, beta=0, sigma=0, model="L", step=0.1, steps=1)
    with pytest.raises(InvalidArgument, match="x0"):
        simulate_sde(np.zeros((2, 2, 1)), alpha=1, beta=0, sigma=0, step=0.1, steps=1)
