"""A small Python client of the LE-SDE Lab API, for scripts and other lab tools.

    from lesde.client import LesdeClient
    client = LesdeClient("http://127.0.0.1:8000")
    job = client.submit_experiment(spec)          # dict or ExperimentSpec
    job = client.wait(job["id"], on_progress=print)
    summary = client.analysis(job["id"])
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

FINISHED = {"succeeded", "failed", "cancelled"}


class LesdeApiError(RuntimeError):
    """The API answered an error; ``status`` is the HTTP status, ``detail`` its body."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        message = detail.get("message") or detail.get("detail") if isinstance(detail, dict) else detail
        super().__init__(f"HTTP {status}: {message}")


class LesdeClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8000", *, owner: str | None = None, timeout: float = 30.0) -> None:
        headers = {"X-Lesde-Owner": owner} if owner else {}
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "LesdeClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json()
            except ValueError:
                detail = response.text
            raise LesdeApiError(response.status_code, detail)
        return response

    @staticmethod
    def _kind_path(kind: str) -> str:
        if kind not in ("experiment", "simulation"):
            raise ValueError(f"kind must be 'experiment' or 'simulation', got {kind!r}")
        return f"/v1/{kind}s"

    # -- jobs ------------------------------------------------------------------------
    def submit_experiment(self, spec: Any) -> dict:
        body = spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec
        return self._request("POST", "/v1/experiments", json=body).json()

    def submit_simulation(self, spec: Any) -> dict:
        body = spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec
        return self._request("POST", "/v1/simulations", json=body).json()

    def get(self, job_id: str, *, kind: str = "experiment") -> dict:
        return self._request("GET", f"{self._kind_path(kind)}/{job_id}").json()

    def list(self, *, kind: str = "experiment", status: str | None = None, offset: int = 0, limit: int = 50) -> dict:
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if status:
            params["status"] = status
        return self._request("GET", self._kind_path(kind), params=params).json()

    def cancel(self, job_id: str, *, kind: str = "experiment") -> dict:
        return self._request("POST", f"{self._kind_path(kind)}/{job_id}/cancel").json()

    def delete(self, job_id: str, *, kind: str = "experiment") -> None:
        self._request("DELETE", f"{self._kind_path(kind)}/{job_id}")

    def wait(
        self,
        job_id: str,
        *,
        kind: str = "experiment",
        on_progress: Callable[[dict], None] | None = None,
        poll_seconds: float = 1.0,
        timeout: float | None = None,
        for_analysis: bool = True,
    ) -> dict:
        """Poll until the job has finished (and, by default, its analysis too); return the record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            record = self.get(job_id, kind=kind)
            if on_progress is not None:
                on_progress(record)
            done = record["status"] in FINISHED
            if done and for_analysis and record["status"] == "succeeded" and kind == "experiment":
                done = record.get("analysis") in ("succeeded", "failed")
            if done:
                return record
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{kind} {job_id} still {record['status']} after {timeout} s")
            time.sleep(poll_seconds)

    def import_csv(self, path: Path | str, *, classes: list[str] | None = None, name: str | None = None) -> dict:
        """Upload a CSV in the authors' layout; it becomes an analysable experiment."""
        data = {key: value for key, value in (("classes", ",".join(classes) if classes else None), ("name", name)) if value}
        with Path(path).open("rb") as handle:
            return self._request("POST", "/v1/imports", files={"file": (Path(path).name, handle, "text/csv")}, data=data).json()

    def request_analysis(self, job_id: str, options: dict | None = None, *, force: bool = False) -> dict:
        """(Re-)run the analysis with ``options``; the answer carries ``options_key`` and links."""
        return self._request("POST", f"/v1/experiments/{job_id}/analysis", json=options or {}, params={"force": force}).json()

    # -- results ---------------------------------------------------------------------
    def artifacts(self, job_id: str, *, kind: str = "experiment") -> list[dict]:
        return self._request("GET", f"{self._kind_path(kind)}/{job_id}/artifacts").json()["data"]

    def analysis(self, job_id: str, *, kind: str = "experiment", **params: Any) -> dict:
        """The analysis JSON; ``params`` such as ``options_key``, ``max_points``, ``series``."""
        return self._request("GET", f"{self._kind_path(kind)}/{job_id}/analysis", params=params).json()

    def figure(self, job_id: str, name: str, *, kind: str = "experiment") -> bytes:
        return self._request("GET", f"{self._kind_path(kind)}/{job_id}/figures/{name}.png").content

    def download(self, job_id: str, name: str, dest: Path | str, *, kind: str = "experiment") -> Path:
        """Stream artifact ``name`` to ``dest`` (a file path or a folder)."""
        return self._stream_to(f"{self._kind_path(kind)}/{job_id}/artifacts/{name}", dest, default_name=name)

    def export(self, job_id: str, fmt: str, dest: Path | str) -> Path:
        """Stream the experiment's logits as ``csv`` (the authors' layout), ``npz`` or ``parquet``."""
        if fmt not in ("csv", "npz", "parquet"):
            raise ValueError(f"fmt must be csv, npz or parquet, got {fmt!r}")
        return self._stream_to(f"/v1/experiments/{job_id}/export.{fmt}", dest, default_name=f"{job_id}.{fmt}")

    def _stream_to(self, path: str, dest: Path | str, *, default_name: str) -> Path:
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / default_name
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self.http.stream("GET", path) as response:
            if response.status_code >= 400:
                response.read()
                raise LesdeApiError(response.status_code, response.json())
            with dest.open("wb") as handle:
                for piece in response.iter_bytes():
                    handle.write(piece)
        return dest

    def download_results(self, job_id: str, folder: Path | str, *, kind: str = "experiment", everything: bool = False) -> list[Path]:
        """Download the analysis JSON and figures (or, with ``everything``, every artifact)."""
        wanted = [
            artifact["name"]
            for artifact in self.artifacts(job_id, kind=kind)
            if everything or artifact["name"].startswith(("analysis/", "figures/")) or artifact["name"] == "spec.json"
        ]
        return [self.download(job_id, name, Path(folder) / name, kind=kind) for name in wanted]
