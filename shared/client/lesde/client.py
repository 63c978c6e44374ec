"""A small Python client of the LE-SDE Lab API, for scripts and other lab tools.

from lesde.client import LesdeClient
client = LesdeClient("http://127.0.0.1:8000")
job = client.submit_experiment(spec)          # dict or ExperimentSpec
job = client.wait(job["id"], progress=True)  # a tqdm bar (a widget in a notebook); or on_progress=print
summary = client.analysis(job["id"])         # the JSON, series thinned to 1,000 points
result = client.result(job["id"])             # AnalysisResult: full series, .to_pandas(), .figure("AB")
frame = client.dataframe(job["id"])           # the sampled logits in the authors' columns (needs pandas)

sweep = client.submit_sweep({"base": spec, "axes": {"dataset.label_noise": [0, 0.5, 0.8]}})  # or a JSON file's path
sweep = client.wait_sweep(sweep["id"], progress=True)  # or on_progress=lambda s: print(s["counts"])
print(client.sweep_table(sweep["id"]))       # CSV, one row per child
"""

from __future__ import annotations

import builtins
import importlib.util
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import httpx
import numpy as np

from lesde.event_stream import EventWaker
from lesde.progress import Progress, job_change, job_progress, sweep_change, sweep_progress
from lesde.results import AnalysisResult, series_from_npz
from lesde.terminal import ProgressDisplay

if TYPE_CHECKING:
    import pandas

Answer = TypeVar("Answer")
FINISHED = {"succeeded", "failed", "cancelled"}
ANALYSIS_DONE = {"succeeded", "failed"}
# While waiting, a server that does not answer is asked again for this long (backoff from
# FIRST_BACKOFF_SECONDS, doubling up to MAX_BACKOFF_SECONDS) before the wait gives up.
RECONNECT_SECONDS = 60.0
FIRST_BACKOFF_SECONDS = 0.5
# While the events stream lives the record is still read this often: a stream that went
# silent without closing (a proxy) must not stall the wait.
EVENT_POLL_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 8.0


class LesdeApiError(RuntimeError):
    """The API answered an error; ``status`` is the HTTP status, ``detail`` its body."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        message = detail.get("message") or detail.get("detail") if isinstance(detail, dict) else detail
        super().__init__(f"HTTP {status}: {message}")


class LesdeClient:
    """``base_url`` defaults to the ``LESDE_URL`` environment variable, else http://127.0.0.1:8000.
    ``api_key`` (default: the ``LESDE_API_KEY`` environment variable) is sent as
    ``Authorization: Bearer``; a server without keys needs none."""

    def __init__(self, base_url: str | None = None, *, api_key: str | None = None, timeout: float = 30.0) -> None:
        base_url = base_url or os.environ.get("LESDE_URL") or "http://127.0.0.1:8000"
        api_key = api_key or os.environ.get("LESDE_API_KEY") or None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> LesdeClient:
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
        if kind not in ("experiment", "simulation", "dataset"):
            raise ValueError(f"kind must be 'experiment', 'simulation' or 'dataset', got {kind!r}")
        return f"/v1/{kind}s"

    # -- jobs ------------------------------------------------------------------------
    def submit_experiment(self, spec: Any) -> dict:
        body = spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec
        return self._request("POST", "/v1/experiments", json=body).json()

    def submit_simulation(self, spec: Any) -> dict:
        body = spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec
        return self._request("POST", "/v1/simulations", json=body).json()

    def submit_phase_diagram(self, spec: Any) -> dict:
        """A ``PhaseDiagramSpec`` (a base simulation and a grid); it runs as a simulation job (``kind="simulation"``)."""
        body = spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec
        return self._request("POST", "/v1/simulations/phase-diagram", json=body).json()

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
        progress: bool = False,
        poll_seconds: float = 1.0,
        timeout: float | None = None,
        for_analysis: bool = True,
        reconnect_seconds: float = RECONNECT_SECONDS,
        events: bool = True,
    ) -> dict:
        """Wait until the job has finished (and, by default, its analysis too); return the record.

        With ``events`` (default) the job's Server-Sent Events stream wakes the wait at each
        change, and the record is then read at once; without it, or when the stream is not
        available, the record is polled every ``poll_seconds``.

        ``on_progress(record)`` is called with the first answer, then only when the status,
        ``progress.done`` (or ``total``) or the analysis state changed. ``progress=True`` also
        draws a bar (tqdm: a widget in a notebook). A server that does not answer is asked
        again with backoff for up to ``reconnect_seconds`` before the connection error is
        raised (a gateway restarting does not end the wait).
        """

        def finished(record: dict) -> bool:
            if record["status"] not in FINISHED:
                return False
            if for_analysis and record["status"] == "succeeded" and kind == "experiment":
                return record.get("analysis") in ANALYSIS_DONE
            return True

        return self._follow(
            lambda: self.get(job_id, kind=kind), finished, change=job_change, describe=job_progress,
            on_progress=on_progress, progress=progress, poll_seconds=poll_seconds, timeout=timeout,
            reconnect_seconds=reconnect_seconds, what=f"{kind} {job_id}",
            events=f"{self._kind_path(kind)}/{job_id}/events" if events else None,
        )  # fmt: skip

    def _follow(
        self,
        fetch: Callable[[], dict],
        finished: Callable[[dict], bool],
        *,
        change: Callable[[dict], tuple],
        describe: Callable[[dict], Progress],
        on_progress: Callable[[dict], None] | None,
        progress: bool,
        poll_seconds: float,
        timeout: float | None,
        reconnect_seconds: float,
        what: str,
        events: str | None = None,
    ) -> dict:
        """``fetch()`` until ``finished``, woken by the ``events`` stream (a path) or every
        ``poll_seconds``; tell ``on_progress`` (and the bar) of each ``change``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        display = ProgressDisplay() if progress else None
        told: tuple | None = None
        waker = self._waker(events)
        try:
            while True:
                answer = self._patiently(fetch, reconnect_seconds)
                if change(answer) != told:
                    told = change(answer)
                    if display is not None:
                        display.show(describe(answer))
                    if on_progress is not None:
                        on_progress(answer)
                if finished(answer):
                    return answer
                if deadline is not None and time.monotonic() > deadline:
                    analysis = f" (analysis {answer['analysis']})" if answer.get("analysis") not in (None, "none") else ""
                    raise TimeoutError(f"{what} still {answer['status']}{analysis} after {timeout} s")
                if waker is not None and waker.alive:
                    pause = max(poll_seconds, EVENT_POLL_SECONDS)  # an event wakes it; a rare poll guards a silent stream
                    waker.wait(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
                else:
                    time.sleep(poll_seconds)
        finally:
            if waker is not None:
                waker.close()
            if display is not None:
                display.end()

    def _waker(self, events: str | None) -> EventWaker | None:
        """A stream to wake the wait, when asked for and when this client speaks HTTP to a
        real server (an in-process test client cannot hold a stream open beside its calls)."""
        if events is None or type(self.http) is not httpx.Client:
            return None
        return EventWaker(self.http, events).start()

    @staticmethod
    def _patiently(fetch: Callable[[], Answer], patience: float) -> Answer:
        """``fetch()``; while the server does not answer, again after 0.5, 1, 2, 4, 8, 8, ... s, for
        up to ``patience`` s in all, then the connection error itself is raised."""
        first_failure: float | None = None
        delay = FIRST_BACKOFF_SECONDS
        while True:
            try:
                return fetch()
            except httpx.UnsupportedProtocol:
                raise  # a malformed URL: asking again cannot help
            except httpx.TransportError:
                now = time.monotonic()
                first_failure = now if first_failure is None else first_failure
                if now - first_failure + delay > patience:
                    raise
                time.sleep(delay)
                delay = min(2 * delay, MAX_BACKOFF_SECONDS)

    def import_csv(self, path: Path | str, *, classes: builtins.list[str] | None = None, name: str | None = None) -> dict:
        """Upload a CSV in the authors' layout; it becomes an analysable experiment."""
        data = {key: value for key, value in (("classes", ",".join(classes) if classes else None), ("name", name)) if value}
        with Path(path).open("rb") as handle:
            return self._request("POST", "/v1/imports", files={"file": (Path(path).name, handle, "text/csv")}, data=data).json()

    def upload_run(self, folder: Path | str, *, name: str | None = None, on_chunk: Callable[[int, int], None] | None = None) -> dict:
        """Upload a run recorded with :class:`lesde.Recorder` as an import (the queued experiment).

        Chunks go one by one, each retried after a dropped connection or a 5xx; the server
        keeps them by checksum, so calling this again after an interruption sends only the
        chunks it lacks. ``on_chunk(sent, to_send)`` after each chunk.
        """
        from lesde.recorder.upload import upload_run  # lazy: it uses this client

        return upload_run(folder, client=self, name=name, on_chunk=on_chunk)

    def upload_dataset(self, path: Path | str, *, name: str | None = None) -> dict:
        """Upload an ``.npz`` data set (``lesde_contract.dataset_files`` says what it holds); its record
        comes back ``queued`` for validation: ``wait(id, kind="dataset")``, then train on it with
        ``{"dataset": {"name": "uploaded", "id": id}}``. ``get``, ``list`` and ``delete`` take
        ``kind="dataset"`` too."""
        data = {"name": name} if name else {}
        with Path(path).open("rb") as handle:
            files = {"file": (Path(path).name, handle, "application/octet-stream")}
            return self._request("POST", "/v1/datasets", files=files, data=data).json()

    def request_analysis(self, job_id: str, options: dict | None = None, *, force: bool = False) -> dict:
        """(Re-)run the analysis with ``options``; the answer carries ``options_key`` and links."""
        return self._request("POST", f"/v1/experiments/{job_id}/analysis", json=options or {}, params={"force": force}).json()

    # -- results ---------------------------------------------------------------------
    def artifacts(self, job_id: str, *, kind: str = "experiment") -> builtins.list[dict]:
        return self._request("GET", f"{self._kind_path(kind)}/{job_id}/artifacts").json()["data"]

    def analysis(self, job_id: str, *, kind: str = "experiment", **params: Any) -> dict:
        """The analysis JSON; ``params`` such as ``options_key``, ``max_points``, ``series``.

        Each series group in it is thinned to ``max_points`` records (1,000 by default) and
        carries its ``records`` (full length) and ``returned`` counts beside the arrays; for
        every series at full length use :meth:`series` or :meth:`result`.
        """
        return self._request("GET", f"{self._kind_path(kind)}/{job_id}/analysis", params=params).json()

    def series(self, job_id: str, *, options_key: str = "default") -> dict[str, np.ndarray]:
        """Every series of the analysis at full length, unthinned (``series.npz``): ``"group/name"`` -> array."""
        data = self._request("GET", f"/v1/experiments/{job_id}/analysis/series.npz", params={"options_key": options_key}).content
        return series_from_npz(data)

    def result(self, job_id: str, *, options_key: str = "default") -> AnalysisResult:
        """The analysis as an :class:`~lesde.results.AnalysisResult`, the object :func:`lesde.analyze`
        returns in-process: the summary (no thinned series in it), every series at full length, the spec."""
        summary = self._request("GET", f"/v1/experiments/{job_id}/analysis", params={"options_key": options_key, "series": False}).json()
        spec = self.get(job_id).get("spec")
        return AnalysisResult(summary=summary, series=self.series(job_id, options_key=options_key), spec=spec)

    def figure(
        self,
        job_id: str,
        name: str,
        *,
        kind: str = "experiment",
        fmt: str = "png",
        options_key: str | None = None,
        share_axes_with: str | None = None,
        wait_seconds: float = 120.0,
    ) -> bytes:
        """Figure ``name`` of a job (``kind``: ``experiment``, ``simulation`` or ``sweep``) as ``fmt``:
        ``png``, ``svg`` or ``pdf`` (vector, the same figure).

        Experiments only: ``options_key`` picks the option set, ``share_axes_with`` another
        experiment (analysed with the same options) whose same figure shares each axes' limits.
        A figure the server renders on request (a shared pair, a format an older result lacks)
        answers 202 at first: it is asked again after each ``Retry-After`` for up to
        ``wait_seconds``, then :class:`TimeoutError`.
        """
        if fmt not in ("png", "svg", "pdf"):
            raise ValueError(f"fmt must be png, svg or pdf, got {fmt!r}")
        base = "/v1/sweeps" if kind == "sweep" else self._kind_path(kind)
        params = {key: value for key, value in (("options_key", options_key), ("share_axes_with", share_axes_with)) if value}
        deadline = time.monotonic() + wait_seconds
        while True:
            response = self._request("GET", f"{base}/{job_id}/figures/{name}.{fmt}", params=params)
            if response.status_code != 202:
                return response.content
            retry_after = response.headers.get("Retry-After", "")
            pause = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 2.0
            if time.monotonic() + pause > deadline:
                raise TimeoutError(f"figure {name!r} of {kind} {job_id} ({fmt}) still being rendered after {wait_seconds} s")
            time.sleep(pause)

    def download(self, job_id: str, name: str, dest: Path | str, *, kind: str = "experiment") -> Path:
        """Stream artifact ``name`` to ``dest`` (a file path or a folder)."""
        return self._stream_to(f"{self._kind_path(kind)}/{job_id}/artifacts/{name}", dest, default_name=name)

    def export(self, job_id: str, fmt: str, dest: Path | str) -> Path:
        """Stream the experiment's logits as ``csv`` (the authors' layout), ``npz`` or ``parquet``."""
        if fmt not in ("csv", "npz", "parquet"):
            raise ValueError(f"fmt must be csv, npz or parquet, got {fmt!r}")
        return self._stream_to(f"/v1/experiments/{job_id}/export.{fmt}", dest, default_name=f"{job_id}.{fmt}")

    def dataframe(self, job_id: str, *, stream: str = "sampled") -> pandas.DataFrame:
        """One of the experiment's recorded streams as a pandas DataFrame (a long table).

        ``stream`` and the columns:

        * ``"sampled"`` (the authors' columns): ``trial, itr, smp, y, y_logit0 .. y_logit{K-1},
          tr_loss, val_loss, val_acc``; one row per sampled example of each trial at each
          iteration, ordered by (itr, trial); ``val_*`` NaN where ``itr`` was not evaluated.
        * ``"probe"``: ``trial, itr, probe_sample, y, logit0 .. logit{K-1}``; the logits of the
          fixed probe set every ``training.probe_every`` iterations.
        * ``"features"``: ``trial, itr, probe_sample, y, feature0 .. feature{F-1}``; its
          penultimate features every ``training.features_every`` iterations.

        Probe and features rows are ordered by (itr, trial, probe_sample): ``itr`` is the
        state recorded (the model after ``itr`` updates), ``probe_sample`` the sample's
        training-set index, ``y`` its true class. Read from the Parquet export when pyarrow
        is installed here and on the server, else from the CSV one. Needs pandas
        (``pip install pandas``); 409 (:class:`LesdeApiError`) before any data, 404 for a
        stream the experiment does not record (``features_every = 0``, an import of the
        authors' CSV).
        """
        try:
            import pandas
        except ImportError:
            raise ImportError("LesdeClient.dataframe needs pandas, which is not installed: pip install pandas") from None
        # the default goes without the parameter: a gateway older than it refuses unknown ones
        query = "" if stream == "sampled" else f"?{httpx.QueryParams(stream=stream)}"
        with tempfile.TemporaryFile() as handle:
            if importlib.util.find_spec("pyarrow") is not None:
                try:
                    self._stream_into(f"/v1/experiments/{job_id}/export.parquet{query}", handle)
                    handle.seek(0)
                    return pandas.read_parquet(handle)
                except LesdeApiError as error:
                    if error.status != 501:  # 501: the server lacks pyarrow; the CSV says the same
                        raise
                    handle.seek(0)
                    handle.truncate()
            self._stream_into(f"/v1/experiments/{job_id}/export.csv{query}", handle)
            handle.seek(0)
            return pandas.read_csv(handle)

    def _stream_to(self, path: str, dest: Path | str, *, default_name: str) -> Path:
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / default_name
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("wb") as handle:
            self._stream_into(path, handle)
        return dest

    def _stream_into(self, path: str, handle: BinaryIO) -> None:
        """GET ``path`` into the open file ``handle``, piece by piece (an error body is raised instead)."""
        with self.http.stream("GET", path) as response:
            if response.status_code >= 400:
                response.read()
                try:
                    detail = response.json()
                except ValueError:
                    detail = response.text
                raise LesdeApiError(response.status_code, detail)
            for piece in response.iter_bytes():
                handle.write(piece)

    def download_results(
        self, job_id: str, folder: Path | str, *, kind: str = "experiment", everything: bool = False
    ) -> builtins.list[Path]:
        """Download the analysis JSON and figures (or, with ``everything``, every artifact)."""
        wanted = [
            artifact["name"]
            for artifact in self.artifacts(job_id, kind=kind)
            if everything or artifact["name"].startswith(("analysis/", "figures/")) or artifact["name"] == "spec.json"
        ]
        return [self.download(job_id, name, Path(folder) / name, kind=kind) for name in wanted]

    # -- sweeps ----------------------------------------------------------------------
    def submit_sweep(self, spec: Any) -> dict:
        """Submit a sweep: a dict, a ``SweepSpec``, or the path (``str`` or ``Path``) of a JSON file holding one.

        Answers the sweep as ``GET /v1/sweeps/{id}`` would, with its children already queued; a grid
        the gateway refuses raises :class:`LesdeApiError` (422) before any child exists.
        """
        if isinstance(spec, (str, os.PathLike)):
            body = json.loads(Path(spec).read_text())
        else:
            body = spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec
        return self._request("POST", "/v1/sweeps", json=body).json()

    def sweep(self, sweep_id: str) -> dict:
        """Status, ``counts`` per child state, ``progress`` in trial-iterations, and ``children`` with their grid points."""
        return self._request("GET", f"/v1/sweeps/{sweep_id}").json()

    def sweeps(self, *, status: str | None = None, owner: str | None = None, offset: int = 0, limit: int = 50) -> dict:
        """``{data, count}``, newest first, each sweep without its children or spec."""
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        params |= {name: value for name, value in (("status", status), ("owner", owner)) if value}
        return self._request("GET", "/v1/sweeps", params=params).json()

    def cancel_sweep(self, sweep_id: str) -> dict:
        """Cancel every unfinished child; 409 (:class:`LesdeApiError`) when all have finished."""
        return self._request("POST", f"/v1/sweeps/{sweep_id}/cancel").json()

    def retry_sweep(self, sweep_id: str) -> dict:
        """Re-queue the failed children only; 409 when none failed."""
        return self._request("POST", f"/v1/sweeps/{sweep_id}/retry").json()

    def delete_sweep(self, sweep_id: str) -> None:
        """Delete the children, then the sweep; 409 while a child runs."""
        self._request("DELETE", f"/v1/sweeps/{sweep_id}")

    def sweep_analysis(self, sweep_id: str) -> dict:
        """The cross-child analysis JSON (``figures`` as {name: URL}); 404 before the first one exists."""
        return self._request("GET", f"/v1/sweeps/{sweep_id}/analysis").json()

    def sweep_table(self, sweep_id: str) -> str:
        """The cross-child table as CSV text: a header, then one row per child in grid order."""
        return self._request("GET", f"/v1/sweeps/{sweep_id}/table.csv").text

    def sweep_figure(self, sweep_id: str, name: str) -> bytes:
        return self._request("GET", f"/v1/sweeps/{sweep_id}/figures/{name}.png").content

    def download_sweep(self, sweep_id: str, dest: Path | str) -> builtins.list[Path]:
        """Write ``summary.json``, ``table.csv`` and ``figures/<name>.png`` (every figure) under folder ``dest``.

        The summary is read first and names the figures, so what is written belongs to one
        analysis unless a child finishes in between (then the table may be the newer one).
        """
        folder = Path(dest)
        folder.mkdir(parents=True, exist_ok=True)
        summary = self.sweep_analysis(sweep_id)
        summary_path = folder / "summary.json"
        summary_path.write_text(json.dumps(summary, indent=2) + "\n")
        paths = [summary_path, self._stream_to(f"/v1/sweeps/{sweep_id}/table.csv", folder / "table.csv", default_name="table.csv")]
        for name in summary.get("figures") or {}:
            paths.append(
                self._stream_to(f"/v1/sweeps/{sweep_id}/figures/{name}.png", folder / "figures" / f"{name}.png", default_name=f"{name}.png")
            )
        return paths

    def wait_sweep(
        self,
        sweep_id: str,
        *,
        on_progress: Callable[[dict], None] | None = None,
        progress: bool = False,
        poll_seconds: float = 2.0,
        timeout: float | None = None,
        for_analysis: bool = True,
        reconnect_seconds: float = RECONNECT_SECONDS,
    ) -> dict:
        """Poll until every child has finished (and, by default, the cross-child analysis has
        caught up with all of them); return the sweep as :meth:`sweep` answers it.

        ``on_progress(sweep)`` is called with the first answer and then only when the status,
        ``progress.done``, the child counts or the analysis state changed; ``progress=True``
        also draws one bar for the whole sweep; connection errors are retried as in
        :meth:`wait`. The analysis is recomputed each time a child's own analysis ends, so a
        stored one may still be of an earlier state: it counts as caught up once each child's
        status and analysis state in it equal the child's current ones.
        """
        return self._follow(
            lambda: self.sweep(sweep_id),
            lambda view: view["status"] in FINISHED
            and (not for_analysis or self._patiently(lambda: self._analysis_caught_up(view), reconnect_seconds)),
            change=sweep_change, describe=sweep_progress, on_progress=on_progress, progress=progress,
            poll_seconds=poll_seconds, timeout=timeout, reconnect_seconds=reconnect_seconds, what=f"sweep {sweep_id}",
            events=f"/v1/sweeps/{sweep_id}/events",
        )  # fmt: skip

    def _analysis_caught_up(self, view: dict) -> bool:
        """Whether the finished sweep ``view``'s analysis is final: its children settled and the stored one read them so."""
        children = view.get("children") or []
        if any(child["status"] == "succeeded" and child["analysis"] not in ANALYSIS_DONE for child in children):
            return False  # a child's own analysis is still to end, and to trigger the sweep's
        if view["analysis"] == "failed":
            return True
        if view["analysis"] != "succeeded":
            return False
        try:
            summary = self.sweep_analysis(view["id"])
        except LesdeApiError as error:
            if error.status == 404:
                return False
            raise
        return _states(summary.get("children") or []) == _states(children)


def _states(children: list[dict]) -> dict[str, tuple[str, str]]:
    """Experiment id -> (status, analysis state), a deleted child as ``("deleted", "none")`` (the analyzer's words)."""
    return {child["experiment_id"]: (child.get("status") or "deleted", child.get("analysis") or "none") for child in children}
