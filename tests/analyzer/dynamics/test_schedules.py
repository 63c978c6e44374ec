import numpy as np
import pytest
from lesde_analyzer.dynamics import Schedule
from lesde_analyzer.errors import InvalidArgument
from scipy.integrate import quad


@pytest.mark.parametrize(
    "sched",
    [Schedule.constant(0.7), Schedule.power(2.0, 0.5), Schedule.power(-1.0, 1.0), Schedule.power(1.0, 1.5, offset=0.2)],
)
def test_integral_matches_quadrature(sched):
    t = np.array([0.0, 0.3, 2.0, 17.5])
    num = [quad(lambda s: float(sched(s)), 0, ti, epsabs=1e-13, epsrel=1e-13)[0] for ti in t]
    np.testing.assert_allclose(sched.integral(t), num, rtol=1e-10, atol=1e-12)


def test_array_schedule_piecewise_constant_and_exact_integral():
    s = Schedule.array([1.0, 2.0, -1.0], step=0.5)
    np.testing.assert_array_equal(s(np.array([0.0, 0.49, 0.5, 1.2, 5.0])), [1, 1, 2, -1, -1])
    np.testing.assert_allclose(s.integral(np.array([0.0, 0.25, 1.0, 1.5, 2.5])), [0, 0.25, 1.5, 1.0, 0.0])
    np.testing.assert_array_equal(s.at_steps(np.arange(5), 0.5), [1, 2, -1, -1, -1])


def test_power_evaluation():
    s = Schedule.power(3.0, 2.0)
    np.testing.assert_allclose(s(np.array([0.0, 1.0])), [3.0, 0.75])


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: Schedule.power(1.0, -1.0), "exponent"),
        (lambda: Schedule.array([], step=1.0), "values"),
        (lambda: Schedule.array([1.0], step=0.0), "step"),
        (lambda: Schedule.constant(float("nan")), "value"),
    ],
)
def test_errors_name_the_argument(call, name):
    with pytest.raises(InvalidArgument, match=name) as exc:
        call()
    assert exc.value.argument == name
