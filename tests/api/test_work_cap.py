"""POST /v1/experiments counts a spec's whole cost: the measured spec (probe_every 1,
features_every 1, 100 probes per class, 0.1 % of the trial-iteration cap) is a 422 naming
the field that drives it and the cap, and nothing is recorded or sent."""

from __future__ import annotations

DENSE = {"training": {"trials": 100, "iterations": 1_000, "probe_every": 1, "features_every": 1, "probe_per_class": 100}}


def test_a_spec_whose_chunk_would_not_fit_in_memory_is_422_naming_the_cap(client, sent):
    answer = client.post("/v1/experiments", json=DENSE)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["field"] == "training.features_every" and problem["type"] == "work_cap"
    assert "(LESDE_MAX_CHUNK_BYTES)" in problem["msg"] and "allowed range: training.features_every from" in problem["msg"]
    assert client.get("/v1/experiments").json()["count"] == 0 and not sent
