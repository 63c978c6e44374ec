"""Chunks round-trip, are byte-deterministic, and can be decoded in part."""

import numpy as np
import pytest
from lesde_contract.chunks import checksum, decode_chunk, encode_chunk


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


def test_only_the_asked_fields_are_decoded():
    data = encode_chunk({"iteration": np.arange(3), "logits": np.ones((3, 2, 2)), "loss": np.zeros((3, 2))})
    part = decode_chunk(data, fields=("loss", "iteration", "absent"))
    assert sorted(part) == ["iteration", "loss"]
    np.testing.assert_array_equal(part["iteration"], np.arange(3))


def test_corrupt_chunk_is_reported():
    with pytest.raises(ValueError, match="corrupt chunk"):
        decode_chunk(b"not a zip")
    with pytest.raises(ValueError, match="corrupt chunk"):
        decode_chunk(b"not a zip", fields=("iteration",))
