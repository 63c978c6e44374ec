import json

import numpy as np
import pytest
from lesde_analyzer.simulations import run_phase_diagram, run_simulation

PNG = b"\x89PNG"


@pytest.mark.parametrize(
    "spec",
    [
        {
            "mode": "sde",
            "model": "I",
            "classes": 2,
            "dim": 1,
            "samples_per_class": 10,
            "alpha": {"kind": "constant", "value": 0.25},
            "beta": {"kind": "constant", "value": -0.25},
            "step": 0.05,
            "steps": 400,
            "runs": 30,
            "record_every": 40,
        },
        {
            "mode": "discrete",
            "model": "L",
            "classes": 3,
            "samples_per_class": 8,
            "alpha": {"kind": "power", "scale": 2.0, "exponent": 0.5},
            "beta": {"kind": "constant", "value": -0.3},
            "sigma": 0.5,
            "step": 0.05,
            "steps": 200,
            "runs": 10,
            "record_every": 20,
        },
        {
            "mode": "ode",
            "model": "I",
            "classes": 3,
            "dim": 2,
            "samples_per_class": 5,
            "alpha": {"kind": "array", "values": [1.0] * 100},
            "beta": {"kind": "constant", "value": 0.0},
            "step": 0.05,
            "steps": 100,
            "runs": 5,
            "record_every": 10,
            "class_weights": [1, 1, 2],
        },
    ],
)
def test_run_simulation_summary_and_figures(spec):
    res = run_simulation(spec)
    s = res.summary
    json.dumps(s)  # JSON-able
    for key in ("times", "separable_fraction", "separable_times", "etf_distance", "A_hat", "B_hat", "A", "B"):
        assert key in s
    R = len(s["times"])
    assert len(s["etf_distance"]) == len(s["A"]) == len(s["A_hat"]) == R
    assert len(s["separable_fraction"]) == len(s["separable_times"])
    assert s["separable_times"][0] == 0.0 and s["separable_times"][-1] == s["times"][-1]
    assert all(0.0 <= f <= 1.0 for f in s["separable_fraction"])
    assert set(res.figures) >= {"trajectories", "separable-fraction", "neural-collapse"}
    assert all(png.startswith(PNG) for png in res.figures.values())


def test_ode_mode_estimates_match_truth():
    res = run_simulation(
        {
            "mode": "ode",
            "model": "L",
            "classes": 3,
            "samples_per_class": 3,
            "alpha": {"kind": "constant", "value": 1.0},
            "beta": {"kind": "constant", "value": -0.5},
            "step": 0.01,
            "steps": 300,
            "runs": 4,
            "record_every": 30,
        }
    )
    s = res.summary
    # forward Euler with h = 0.01: log(1 + h lambda) / h vs lambda, well under 1 %
    np.testing.assert_allclose(s["A_hat"][1:], s["A"][1:], rtol=0.01)
    np.testing.assert_allclose(s["B_hat"][1:], s["B"][1:], rtol=0.01)


def test_binary_run_reproduces_theorem_2_1():
    res = run_simulation(
        {
            "classes": 2,
            "dim": 1,
            "samples_per_class": 15,
            "alpha": {"kind": "constant", "value": 0.25},
            "beta": {"kind": "constant", "value": -0.25},
            "step": 0.05,
            "steps": 800,
            "runs": 40,
            "record_every": 100,
        }
    )
    assert res.summary["separable_fraction"][-1] >= 0.95
    assert res.summary["separable_times"] == res.summary["times"]  # p = 1: every record


@pytest.mark.parametrize(
    "grid, check",
    [
        ({"kind": "gap", "beta": 0.0, "gaps": [-0.5, 0.0, 0.5]}, lambda f: f[0] <= 0.05 and f[1] <= 0.05 and f[2] >= 0.95),
        ({"kind": "alpha_beta", "pairs": [[0.25, -0.25], [-0.25, 0.25]]}, lambda f: f[0] >= 0.95 and f[1] <= 0.05),
        ({"kind": "exponent", "scale": 2.0, "exponents": [0.5, 1.5]}, lambda f: f[0] >= 0.95 and f[1] <= 0.05),
    ],
)
def test_run_phase_diagram(grid, check):
    steps, step = (1000, 0.1) if grid["kind"] == "exponent" else (800, 0.05)
    base = {"classes": 2, "dim": 1, "samples_per_class": 15, "step": step, "steps": steps, "runs": 40, "record_every": 100}
    res = run_phase_diagram({"base": base, "grid": grid})
    s = res.summary
    json.dumps(s)
    assert len(s["separable_fraction"]) == len(s["x"])
    assert check(s["separable_fraction"])
    assert res.figures["transition"].startswith(PNG)
