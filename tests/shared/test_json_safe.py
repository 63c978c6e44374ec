"""NaN and infinities become null; everything else keeps its value (and ints stay ints)."""

import json
import math

import numpy as np
from lesde_contract.json_safe import finite_lists, finite_or_none, json_safe


def test_finite_or_none():
    assert finite_or_none(np.float32(1.5)) == 1.5 and isinstance(finite_or_none(np.int64(2)), float)
    assert finite_or_none(float("nan")) is None and finite_or_none(-np.inf) is None


def test_finite_lists_rounds_and_nulls_any_shape():
    value = np.array([[1.123456789012, np.nan], [np.inf, -2.0]])
    assert finite_lists(value) == [[1.12345679, None], [None, -2.0]]
    assert finite_lists(np.array([1, 2])) == [1.0, 2.0]
    assert finite_lists(np.float64(np.nan)) is None
    json.dumps(finite_lists(value), allow_nan=False)


def test_json_safe_walks_containers_and_keeps_ints_and_bools():
    value = json_safe([np.array([1.0, np.nan]), (np.int64(3), np.bool_(True)), np.array(np.inf), "text", None, 4])
    assert value == [[1.0, None], [3, True], None, "text", None, 4]
    assert isinstance(value[1][0], int) and isinstance(value[1][1], bool)
    assert json_safe(np.arange(4).reshape(2, 2)) == [[0, 1], [2, 3]]
    assert math.isclose(json_safe(np.float32(0.25)), 0.25)
    json.dumps(value, allow_nan=False)
