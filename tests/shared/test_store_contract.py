"""The object-store contract (lesde_contract.object_store.ObjectStore), checked on every implementation.

Each contract test runs against the local-directory store and the S3 store (the S3 one
against the test stack's server: see tests/conftest.py). Local-only guarantees (key
validation, atomic replace) are at the end.
"""

from __future__ import annotations

import os
import random

import pytest
from lesde_contract.object_store import ObjectInfo, ObjectNotFound, ObjectStore
from lesde_runtime.storage.local import LocalStore

MiB = 1 << 20


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    return request.getfixturevalue(f"{request.param}_store")


def keys(store: ObjectStore, prefix: str) -> list[str]:
    return [info.key for info in store.list(prefix)]


# --------------------------------------------------------------------------- put / get


def test_put_get_round_trip(store: ObjectStore) -> None:
    data = bytes(range(256)) * 17
    store.put_bytes("experiments/e1/chunks/loss/0-99.npz", data)
    assert store.get_bytes("experiments/e1/chunks/loss/0-99.npz") == data


def test_empty_object_round_trip(store: ObjectStore) -> None:
    store.put_bytes("empty.bin", b"")
    assert store.get_bytes("empty.bin") == b""
    assert store.stat("empty.bin").size == 0
    assert store.exists("empty.bin")


def test_overwrite_replaces_the_whole_object(store: ObjectStore) -> None:
    store.put_bytes("k/status.json", b"a much longer first version")
    store.put_bytes("k/status.json", b"short")
    assert store.get_bytes("k/status.json") == b"short"
    assert store.stat("k/status.json").size == 5
    assert keys(store, "k/") == ["k/status.json"]


def test_missing_object_raises_object_not_found(store: ObjectStore) -> None:
    store.put_bytes("present/x", b"1")
    for key in ("absent", "present/y", "present"):  # "present" is only a folder
        with pytest.raises(ObjectNotFound) as caught:
            store.get_bytes(key)
        assert caught.value.key == key
        assert isinstance(caught.value, KeyError)
        with pytest.raises(ObjectNotFound):
            store.stat(key)
        with pytest.raises(ObjectNotFound):
            store.iter_bytes(key)  # raised on the call, before any piece is yielded
        assert not store.exists(key)


def test_stat_and_exists(store: ObjectStore) -> None:
    store.put_bytes("s/a.bin", b"x" * 1234)
    assert store.stat("s/a.bin") == ObjectInfo(key="s/a.bin", size=1234)
    assert store.exists("s/a.bin")
    assert not store.exists("s/b.bin")


def test_iter_bytes_streams_the_same_bytes(store: ObjectStore) -> None:
    data = random.Random(7).randbytes(3 * MiB + 123)
    store.put_bytes("big/object.npz", data)
    pieces = list(store.iter_bytes("big/object.npz", chunk_size=MiB))
    assert b"".join(pieces) == data
    assert len(pieces) >= 4
    assert all(0 < len(piece) <= MiB for piece in pieces)


# --------------------------------------------------------------------------- listing


LISTING_KEYS = ["a/b/2", "a/bc", "a0", "a/b-1", "b/x", "a/b/1", "a/b0/x"]


def test_list_by_prefix_in_lexicographic_order(store: ObjectStore) -> None:
    for i, key in enumerate(LISTING_KEYS):
        store.put_bytes(key, b"#" * (i + 1))
    # Prefixes are plain string prefixes: "a/b" also matches "a/bc"; "a/b/" does not.
    assert keys(store, "a/b") == ["a/b-1", "a/b/1", "a/b/2", "a/b0/x", "a/bc"]
    assert keys(store, "a/b/") == ["a/b/1", "a/b/2"]
    assert keys(store, "a/bc") == ["a/bc"]
    assert keys(store, "b/") == ["b/x"]
    assert keys(store, "zzz") == []
    assert keys(store, "nothing/here/") == []
    assert keys(store, "") == sorted(LISTING_KEYS)
    sizes = {info.key: info.size for info in store.list("")}
    assert sizes == {key: i + 1 for i, key in enumerate(LISTING_KEYS)}


def test_list_children(store: ObjectStore) -> None:
    for key in ["exp/2/spec.json", "exp/1/spec.json", "exp/1/chunks/loss/0-9.npz", "exp/top.json", "other/x"]:
        store.put_bytes(key, b"{}")
    assert store.list_children("exp/") == ["exp/1/", "exp/2/"]  # folders only, not exp/top.json
    assert store.list_children("exp/1/") == ["exp/1/chunks/"]
    assert store.list_children("exp/1/chunks/loss/") == []
    assert store.list_children("") == ["exp/", "other/"]
    assert store.list_children("nothing/") == []
    assert store.list_children("exp/1") == ["exp/1/"]  # a partial name, as in S3 (delimiter '/')


def test_list_children_forgets_emptied_folders(store: ObjectStore, request: pytest.FixtureRequest) -> None:
    if request.node.callspec.params.get("store") == "s3":
        # S3 semantics (MinIO, AWS) derive folders from existing keys; SeaweedFS, the test
        # stack's server, keeps emptied folders, so S3Store.list_children shows them there.
        request.applymarker(pytest.mark.xfail(reason="SeaweedFS keeps emptied folders", strict=False))
    for key in ["exp/1/spec.json", "exp/2/spec.json", "exp/3/chunks/a", "exp/3/chunks/b"]:
        store.put_bytes(key, b"{}")
    store.delete("exp/2/spec.json")
    store.delete_prefix("exp/3/")
    assert keys(store, "exp/") == ["exp/1/spec.json"]
    assert store.list_children("exp/") == ["exp/1/"]


# --------------------------------------------------------------------------- delete


def test_delete_is_idempotent(store: ObjectStore) -> None:
    store.put_bytes("d/x", b"1")
    store.delete("d/x")
    assert not store.exists("d/x")
    store.delete("d/x")  # again: no error
    store.delete("never/existed")
    with pytest.raises(ObjectNotFound):
        store.get_bytes("d/x")


def test_delete_prefix(store: ObjectStore) -> None:
    for key in ["e/1/a", "e/1/b/c", "e/10/a", "e/1-x", "f/1/a"]:
        store.put_bytes(key, b"1")
    assert store.delete_prefix("e/1/") == 2
    assert keys(store, "") == ["e/1-x", "e/10/a", "f/1/a"]
    assert store.delete_prefix("e/1/") == 0  # idempotent
    assert store.delete_prefix("e/") == 2
    assert keys(store, "") == ["f/1/a"]


# --------------------------------------------------------------------------- json, ping


def test_put_json_get_json(store: ObjectStore) -> None:
    value = {"id": "e1", "trials": [1, 2, 3], "lr": 0.05, "nested": {"ok": True, "none": None}, "name": "Ünïcode"}
    store.put_json("experiments/e1/spec.json", value)
    assert store.get_json("experiments/e1/spec.json") == value


def test_ping(store: ObjectStore) -> None:
    store.ping()


# --------------------------------------------------------------------------- local store only


@pytest.mark.parametrize("key", ["../escape", "a/../../escape", "a/..", "/abs/key", "", "x.partial", "a/.b.partial"])
def test_local_store_rejects_unsafe_keys(local_store: LocalStore, key: str) -> None:
    for operation in (
        lambda: local_store.put_bytes(key, b"x"),
        lambda: local_store.get_bytes(key),
        lambda: local_store.stat(key),
        lambda: local_store.delete(key),
    ):
        with pytest.raises(ValueError):
            operation()
    assert not (local_store.root.parent / "escape").exists()


@pytest.mark.parametrize("prefix", ["../", "../store", "a/../../"])
def test_local_store_rejects_unsafe_prefixes(local_store: LocalStore, prefix: str) -> None:
    (local_store.root.parent / "sibling").mkdir()
    (local_store.root.parent / "sibling" / "secret").write_bytes(b"s")
    with pytest.raises(ValueError):
        list(local_store.list(prefix))
    with pytest.raises(ValueError):
        local_store.list_children(prefix)
    with pytest.raises(ValueError):
        local_store.delete_prefix(prefix)
    assert (local_store.root.parent / "sibling" / "secret").exists()


def test_local_store_never_shows_a_half_written_file(local_store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    local_store.put_bytes("exp/1/manifest.json", b"old")
    real_replace = os.replace
    seen: dict[str, object] = {}

    def replace_and_look(src: str, dst: str) -> None:
        # The new bytes are fully written to the temporary file, not yet renamed into place.
        seen["get"] = local_store.get_bytes("exp/1/manifest.json")
        seen["list"] = list(local_store.list("exp/"))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_and_look)
    local_store.put_bytes("exp/1/manifest.json", b"new and longer")
    assert seen["get"] == b"old"
    assert seen["list"] == [ObjectInfo(key="exp/1/manifest.json", size=3)]
    assert local_store.get_bytes("exp/1/manifest.json") == b"new and longer"


def test_local_store_failed_write_leaves_old_object_and_no_debris(local_store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    local_store.put_bytes("exp/1/status.json", b"old")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        local_store.put_bytes("exp/1/status.json", b"new")
    monkeypatch.undo()
    assert local_store.get_bytes("exp/1/status.json") == b"old"
    assert sorted(p.name for p in (local_store.root / "exp" / "1").iterdir()) == ["status.json"]


def test_local_store_hides_leftover_partial_files(local_store: LocalStore) -> None:
    local_store.put_bytes("exp/1/a", b"1")
    (local_store.root / "exp" / "1" / ".tmpabc.partial").write_bytes(b"half")  # a writer that crashed
    assert keys(local_store, "") == ["exp/1/a"]
    assert keys(local_store, "exp/1/.") == []
