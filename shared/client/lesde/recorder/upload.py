"""Upload a recorded run folder to a LE-SDE Lab server as an import job, resumably.

The server keeps chunks under their sha256 (``PUT /v1/imports/chunks/{sha256}``), so the
upload first asks which of the run's chunks it lacks and sends only those, each retried
on a dropped connection or a 5xx; then one ``POST /v1/imports/runs`` queues the import.
An upload that failed part way (the process killed, the network gone for longer than the
retries) is resumed by calling :func:`upload_run` again: the chunks already sent are not
sent twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
from lesde_contract import object_keys

from lesde.client import LesdeApiError, LesdeClient
from lesde.recorder.run_folder import read_run, relative_path

ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 0.5


def upload_run(
    folder: Path | str,
    url: str | None = None,
    *,
    key: str | None = None,
    name: str | None = None,
    client: LesdeClient | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
) -> dict:
    """Upload the run in ``folder``; the import job as the server answered it (``id``, ``status``, ``links``).

    ``client`` (else one for ``url``/``key``, defaults as :class:`LesdeClient`);
    ``on_chunk(sent, to_send)`` after each chunk sent.
    """
    folder = Path(folder)
    manifest, spec = read_run(folder)
    entries = [entry for stream in object_keys.STREAMS for entry in manifest.chunks[stream]]
    own = client is None
    client = client or LesdeClient(url, api_key=key)
    try:
        missing = set(
            _retried(
                lambda: client._request("POST", "/v1/imports/chunks/missing", json={"checksums": [entry["checksum"] for entry in entries]})
            ).json()["missing"]
        )
        to_send = [entry for entry in entries if entry["checksum"] in missing]
        for sent, entry in enumerate(to_send, start=1):
            data = (folder / relative_path(entry["key"])).read_bytes()
            digest = entry["checksum"].removeprefix("sha256:")
            _retried(
                partial(
                    client._request,
                    "PUT",
                    f"/v1/imports/chunks/{digest}",
                    content=data,
                    headers={"Content-Type": "application/octet-stream"},
                )
            )
            if on_chunk is not None:
                on_chunk(sent, len(to_send))
        body = {
            "name": name or spec.get("name"),
            "classes": spec["dataset"]["classes"],
            "trials": spec["training"]["trials"],
            "manifest": manifest.to_json(),
            "source": spec.get("source", {}),
        }
        # not re-sent after a dropped connection: the first may have created the job (a 5xx created none)
        return _retried(lambda: client._request("POST", "/v1/imports/runs", json=body), after_transport_error=False).json()
    finally:
        if own:
            client.close()


def _retried(call: Callable[[], httpx.Response], *, after_transport_error: bool = True) -> httpx.Response:
    """``call()``, again after a dropped connection, a timeout or a 5xx (backoff doubling); 4xx raise at once."""
    delay = FIRST_BACKOFF_SECONDS
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return call()
        except httpx.TransportError:
            if attempt == ATTEMPTS or not after_transport_error:
                raise
        except LesdeApiError as error:
            if error.status < 500 or attempt == ATTEMPTS:
                raise
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")
