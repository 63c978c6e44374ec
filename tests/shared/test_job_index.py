"""The job index (lesde_runtime.job_index): consistent with the records after every write, healed
after a crash between an index write and a record write, rebuilt for an older store.

Each test runs on the local store and on S3 (the S3 one against the test stack's server).
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from lesde_contract import object_keys
from lesde_contract.object_store import ObjectStore
from lesde_contract.records import JobRecord, JobStatus, utcnow
from lesde_runtime import job_index
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage.local import LocalStore


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def repo(store: ObjectStore) -> JobRepository:
    return JobRepository(store, "experiment")


def _create(repo: JobRepository, owner: str = "ada") -> JobRecord:
    return repo.create(spec={"x": 1}, owner=owner, name=None, total=10, unit="iterations")


def _entries(store: ObjectStore, kind: str = "experiment") -> set[str]:
    return {info.key for info in store.list(f"index/{kind}/")} - {job_index.complete_marker(kind)}


def _expected(repo: JobRepository) -> set[str]:
    return {key for record in repo.iter_all() for key in job_index.entry_keys(repo.kind, record)}


def _read_everything(repo: JobRepository, status=None, owner=None) -> list[str]:
    """The listing as it was before the index: every record read, filtered and sorted."""
    matching = [r for r in repo.iter_all() if (status is None or r.status == status) and (owner is None or r.owner == owner)]
    matching.sort(key=lambda r: r.id)
    matching.sort(key=lambda r: r.created_at, reverse=True)
    return [r.id for r in matching]


def _listed(repo: JobRepository, **filters) -> tuple[list[str], int]:
    page, count = repo.list(limit=1_000, **filters)
    return [r.id for r in page], count


def test_entries_follow_create_status_changes_and_delete(repo, store):
    first, second = _create(repo), _create(repo, owner="bob")
    assert _entries(store) == _expected(repo) and len(_entries(store)) == 8
    repo.mark_running(first.id)
    assert _entries(store) == _expected(repo)
    repo.update(first.id, lambda record: setattr(record.progress, "done", 5))  # a progress save moves nothing
    assert _entries(store) == _expected(repo)
    repo.mark_finished(first.id, JobStatus.failed, error="boom")
    repo.update(first.id, lambda record: setattr(record, "status", JobStatus.queued))  # a retry requeues it
    assert _entries(store) == _expected(repo)
    repo.request_cancel(second.id)
    assert _entries(store) == _expected(repo)
    repo.delete(second.id)
    assert _entries(store) == _expected(repo) and not [key for key in _entries(store) if second.id in key]


def test_listings_match_reading_every_record(repo):
    rng = random.Random(12)
    records = [_create(repo, owner=rng.choice(["ada", "bob", "cy"])) for _ in range(12)]
    for record in records:
        status = rng.choice(list(JobStatus))
        if status is not JobStatus.queued:
            repo.mark_running(record.id)
        if status.finished:
            repo.mark_finished(record.id, status)
    repo.delete(records[3].id)
    for status in (None, *JobStatus):
        for owner in (None, "ada", "bob", "nobody"):
            expected = _read_everything(repo, status, owner)
            assert _listed(repo, status=status, owner=owner) == (expected, len(expected)), (status, owner)


def test_pages_are_newest_first_and_ties_go_by_id(repo):
    created = [_create(repo) for _ in range(5)]
    same_time = created[0].created_at
    for record in created[:2]:  # two jobs created in the same microsecond
        repo.delete(record.id)
        record.created_at = same_time
        repo.store.put_json(object_keys.spec_key("experiment", record.id), {"x": 1})
        repo.save(record)
    expected = _read_everything(repo)
    page, count = repo.list(offset=1, limit=3)
    assert count == 5 and [r.id for r in page] == expected[1:4]


@pytest.mark.parametrize("owner", ["..", ".", "a/b", "x" * 100, "Ünïcode", "~" + "0" * 64])
def test_any_owner_is_one_safe_key_segment(repo, owner):
    record = _create(repo, owner=owner)
    _create(repo, owner="someone-else")
    assert "/" not in job_index.owner_segment(owner) and job_index.owner_segment(owner) not in (".", "..")
    assert _listed(repo, owner=owner) == ([record.id], 1)


def test_a_crash_between_the_entries_and_the_record_is_dropped_then_healed(repo, store):
    kept = _create(repo)
    orphan = JobRecord(id="0123456789abcdef", owner="ada")
    job_index.add(store, "experiment", orphan)  # the writer died before its record
    assert _listed(repo) == ([kept.id], 2)  # the row is dropped, the count includes it until a heal
    assert job_index.heal(store) == job_index.Healed(young=4)  # may be a writer between its two writes
    assert job_index.heal(store, grace_s=0) == job_index.Healed(removed=4)
    assert _listed(repo) == ([kept.id], 1) and _entries(store) == _expected(repo)


def test_a_crash_after_the_record_leaves_the_old_status_which_heals(repo, store):
    record = _create(repo)
    record.status = JobStatus.running
    job_index.add(store, "experiment", record)
    store.put_json(
        object_keys.status_key("experiment", record.id), record.model_dump(mode="json")
    )  # the writer died before removing the queued entries
    assert _listed(repo, status=JobStatus.queued) == ([], 1)
    assert _listed(repo, status=JobStatus.running) == ([record.id], 1)
    assert job_index.heal(store, grace_s=0) == job_index.Healed(removed=2)
    assert _listed(repo, status=JobStatus.queued) == ([], 0) and _entries(store) == _expected(repo)


def test_a_missing_entry_is_restored_by_heal_and_by_the_next_save(repo, store):
    record = _create(repo)
    store.delete(job_index.folder("experiment", status=JobStatus.queued) + job_index.entry_name(record))
    assert job_index.heal(store, grace_s=0) == job_index.Healed(added=1)
    assert _entries(store) == _expected(repo)
    store.delete_prefix("index/experiment/status/")
    repo.update(record.id, lambda current: setattr(current.progress, "done", 1))
    assert _entries(store) == _expected(repo)


def test_a_store_written_before_the_index_is_rebuilt_on_first_listing(tmp_path):
    old = LocalStore(tmp_path / "store")
    repo = JobRepository(old, "experiment")
    created = [_create(repo, owner="ada" if i % 2 else "bob") for i in range(4)]
    repo.mark_running(created[0].id)
    old.delete_prefix("index/")  # as the store was before this index existed
    reopened = JobRepository(LocalStore(tmp_path / "store"), "experiment")
    assert _listed(reopened) == ([r.id for r in reversed(created)], 4)
    assert reopened.store.exists(job_index.complete_marker("experiment"))
    assert _entries(reopened.store) == _expected(reopened)
    assert _listed(reopened, status=JobStatus.running, owner="bob") == ([created[0].id], 1)


def test_rebuild_indexes_every_kind_and_heal_reports_nothing_to_do(store):
    repos = {kind: JobRepository(store, kind) for kind in job_index.KINDS}
    for repo in repos.values():
        _create(repo)
    store.delete_prefix("index/")
    assert job_index.rebuild(store) == job_index.Healed(added=4 * len(job_index.KINDS))  # 4 entries per job
    for kind, repo in repos.items():
        assert _entries(store, kind) == _expected(repo)
        assert store.exists(job_index.complete_marker(kind))
    assert job_index.heal(store, grace_s=0) == job_index.Healed()


def test_entry_names_order_newest_first():
    now = utcnow()
    older = JobRecord(id="bbbbbbbbbbbbbbbb", owner="ada", created_at=now - timedelta(microseconds=1))
    newer = JobRecord(id="aaaaaaaaaaaaaaaa", owner="ada", created_at=now)
    naive = JobRecord(id="cccccccccccccccc", owner="ada", created_at=now.replace(tzinfo=None) - timedelta(days=1))
    assert sorted(map(job_index.entry_name, [older, naive, newer])) == [job_index.entry_name(r) for r in (newer, older, naive)]
    assert job_index.job_id_of(job_index.entry_name(newer)) == newer.id


def test_list_keys_lists_one_folder_in_byte_order(store):
    for key in ["f/b", "f/a-1", "f/a/1", "f/c.json", "g/x", "fx"]:
        store.put_bytes(key, b"1")
    assert store.list_keys("f/") == ["f/a-1", "f/b", "f/c.json"]
    assert store.list_keys("f/a/") == ["f/a/1"]
    assert store.list_keys("nothing/") == []


def test_list_keys_reads_every_page_and_unescapes_names(store):
    names = [f"big/{number:05d}" for number in range(1_005)] + ["big/a&b<c>'\""]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: store.put_bytes(key, b""), names))
    assert store.list_keys("big/") == sorted(names)  # more than one page of 1,000 on S3


def test_first_keys_stops_after_the_request_that_holds_the_first_n(store):
    names = [f"first/{number:05d}" for number in range(1_005)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: store.put_bytes(key, b""), names))
    keys, complete = store.first_keys("first/", 50)
    assert keys[:50] == names[:50]
    if isinstance(store, LocalStore):
        assert complete and keys == names  # one directory read holds them all
    else:
        assert not complete and len(keys) == 1_000  # one page of the listing, not two
    assert store.first_keys("first/", 1_001) == (names, True)
    assert store.first_keys("nothing/", 50) == ([], True)


class _CountingStore(LocalStore):
    """A local store whose ``first_keys`` answers like S3 (one page of ``page`` names), counting full listings."""

    page = 20
    full_listings = 0

    def first_keys(self, folder, n):
        keys = self.list_keys(folder)
        self.full_listings -= 1  # that read is the page's, not a count's
        return keys[: max(n, self.page)], len(keys) <= max(n, self.page)

    def list_keys(self, folder):
        self.full_listings += 1
        return super().list_keys(folder)


def test_a_large_folder_is_counted_once_per_ttl_not_per_listing(tmp_path, monkeypatch):
    store = _CountingStore(tmp_path)
    repo = JobRepository(store, "experiment")
    for _ in range(30):
        _create(repo)
    monkeypatch.setattr(job_index, "_settings", lambda: job_index.JobIndexSettings(index_count_ttl_s=60))
    first = repo.list(limit=5)
    assert len(first[0]) == 5 and first[1] == 30
    counted = store.full_listings
    for _ in range(5):
        assert repo.list(limit=5)[1] == 30
    assert store.full_listings == counted  # within the TTL: the kept count, no listing of every name
    monkeypatch.setattr(job_index, "_settings", lambda: job_index.JobIndexSettings(index_count_ttl_s=0))
    _create(repo)
    assert repo.list(limit=5)[1] == 31  # TTL 0: counted on every call
