import numpy as np
from lesde_trainer.engine.sampling import counter_uniform, draw_indices


def test_draws_are_pure_functions_of_seed_trial_iteration():
    whole = counter_uniform(seed=4, stream=0, trials=np.arange(10), iterations=np.arange(100))
    part = counter_uniform(seed=4, stream=0, trials=np.array([7]), iterations=np.arange(40, 60))
    np.testing.assert_array_equal(part[:, 0], whole[40:60, 7])
    assert not np.array_equal(whole, counter_uniform(seed=5, stream=0, trials=np.arange(10), iterations=np.arange(100)))


def test_draws_are_uniform():
    idx = draw_indices(seed=0, trials=np.arange(50), iterations=np.arange(2000), pools=[np.arange(6)])
    counts = np.bincount(idx.ravel(), minlength=6) / idx.size
    np.testing.assert_allclose(counts, 1 / 6, atol=0.005)
