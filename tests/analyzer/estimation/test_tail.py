import numpy as np
import pytest

from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import CAVEAT, separability_verdict, tail_index, tail_indices


def test_tail_index_of_a_power_law_integral():
    t = np.arange(1, 20001, dtype=float)
    r = 0.4
    A = 3.0 * (1 + t) ** (1 - r)  # integral of alpha ~ t^-r
    ti = tail_index(A, times=t, t1=10000, t2=20000)
    assert ti.r_slope == pytest.approx(r, abs=1e-9)
    # the plain mean-of-ratios carries the log(c)/log(t) bias
    assert ti.r == pytest.approx(r - np.log(3.0) / np.log(15000), abs=0.01)
    assert ti.window == (10000.0, 20000.0)
    assert ti.n_points == 10001
    assert not ti.flipped


def test_sign_flip_and_default_window():
    t = np.arange(5000, dtype=float)
    B = -((1 + t) ** 0.7)
    ti = tail_index(B, times=t)
    assert ti.flipped
    assert ti.n_points == 1000
    assert ti.window == (4000.0, 4999.0)
    assert ti.r_slope == pytest.approx(0.3, abs=1e-9)


def test_tail_indices_and_verdict():
    t = np.arange(1, 10001, dtype=float)
    A = 2 * ((1 + t) ** 0.5 - 1)  # alpha = (1+t)^-0.5
    B = np.full_like(t, 0.1)
    res = tail_indices(A, B, times=t)
    assert res.Gamma.r_slope == pytest.approx(0.5, abs=0.01)
    assert res.verdict.separable is True
    assert res.verdict.label == "separable"
    assert "r_gamma < 1" in res.caveat and res.caveat == CAVEAT
    assert separability_verdict(1.3).separable is False
    assert separability_verdict(1.01).label == "inconclusive"
    assert separability_verdict(float("nan")).separable is None


def test_bounded_integral_gives_slope_near_zero():
    """r > 1: A tends to a constant, the slope of log|A| vs log t tends to 0 (r_slope -> 1)."""
    t = np.arange(1, 10001, dtype=float)
    A = (1 - (1 + t) ** -0.5) * 2  # alpha ~ t^-1.5
    ti = tail_index(A, times=t)
    assert abs(ti.slope) < 0.01
    assert abs(ti.r - 1.0) < 0.1  # near 1 from below here (log 2 / log t): the documented caveat


def test_validation():
    t = np.arange(10.0)
    with pytest.raises(InvalidArgument, match="t2"):
        tail_index(t, times=t, t1=5, t2=3)
    with pytest.raises(InvalidArgument, match="times"):
        tail_index(t, times=t[:5])
    with pytest.raises(InvalidArgument, match="t1"):
        tail_index(t, times=t, t1=3.2, t2=3.5)
