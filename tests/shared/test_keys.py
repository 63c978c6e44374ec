"""Object keys sort in iteration order and name only the known streams."""

import pytest
from lesde_contract import object_keys


def test_chunk_keys_sort_by_iteration_and_parse_back():
    ranges = [(0, 499), (500, 999), (1000, 1499), (10_000, 10_499)]
    chunk_keys = [object_keys.chunk_key("abcdef0123456789", "sampled", first, last) for first, last in ranges]
    assert sorted(chunk_keys) == chunk_keys
    assert [object_keys.parse_chunk_range(key) for key in chunk_keys] == ranges
    assert chunk_keys[0] == "experiments/abcdef0123456789/chunks/sampled/000000000-000000499.npz"


def test_unknown_stream_is_refused():
    with pytest.raises(ValueError, match="stream must be one of"):
        object_keys.chunk_key("abcdef0123456789", "weights", 0, 1)
