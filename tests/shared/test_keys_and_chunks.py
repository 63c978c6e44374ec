"""Object keys sort in iteration order; chunks round-trip and are byte-deterministic."""

import numpy as np
import pytest

from lesde import keys
from lesde.chunks import checksum, decode_chunk, encode_chunk


def test_chunk_keys_sort_by_iteration_and_parse_back():
    ranges = [(0, 499), (500, 999), (1000, 1499), (10_000, 10_499)]
    chunk_keys = [keys.chunk_key("abcdef0123456789", "sampled", first, last) for first, last in ranges]
    assert sorted(chunk_keys) == chunk_keys
    assert [keys.parse_chunk_range(key) for key in chunk_keys] == ranges
    assert chunk_keys[0] == "experiments/abcdef0123456789/chunks/sampled/000000000-000000499.npz"


def test_unknown_stream_is_refused():
    with pytest.raises(ValueError, match="stream must be one of"):
        keys.chunk_key("abcdef0123456789", "weights", 0, 1)


def test_chunk_round_trip_and_identical_bytes():
    rng = np.random.default_rng(0)
    arrays = {
        "logits": rng.normal(size=(5, 3, 3)),
        "label": rng.integers(0, 3, size=(5, 3)),
        "iteration": np.arange(5),
        "counter": np.asarray(7),  # 0-d stays 0-d (checkpoints store scalars this way)
        "strided": rng.normal(size=(4, 6))[:, ::2],
    }
    first, second = encode_chunk(arrays), encode_chunk(dict(reversed(list(arrays.items()))))
    assert first == second
    assert checksum(first) == checksum(second)
    decoded = decode_chunk(first)
    for name, value in arrays.items():
        np.testing.assert_array_equal(decoded[name], value)
        assert decoded[name].dtype == value.dtype and decoded[name].shape == value.shape


def test_corrupt_chunk_is_reported():
    with pytest.raises(ValueError, match="corrupt chunk"):
        decode_chunk(b"not a zip")
