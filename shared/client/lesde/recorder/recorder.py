"""The Recorder: LE-SDE streams from any training loop, in the trainer's chunk format.

    rec = Recorder(classes=["cat", "dog", "ship"], trials=2, store="runs/my-run")
    for trial in range(2):
        model = make_model(seed=trial)
        for step, (x, y) in enumerate(loader):
            logits = model(x)
            loss = F.cross_entropy(logits, y); loss.backward(); opt.step(); opt.zero_grad()
            rec.log(step, logits, y, trial=trial)          # the sampled point's logits (batch size 1)
            if step % 100 == 0:
                rec.probe(step, model(x_probe), y_probe, trial=trial)
    rec.close()          # writes the manifest; with url=... uploads the run as an import

What it records is what the authors logged: at every step, for every trial (an
independently initialised model), the logits of the point the step trained on and its
label (the ``sampled`` stream, one record per step); optionally a fixed probe set's
logits and penultimate features (``probe``, ``features``) and evaluation numbers (``eval``).

Trials may be logged side by side (every trial at each step) or one after the other;
chunks hold all trials, so a trial's finished block waits (in memory up to
``buffer_bytes``, then on disk) until every trial has logged it. A ``log`` call copies one
row into a preallocated block: about 2.5 to 3 microseconds for a CPU tensor of shape (1, K)
with grad, close included, as much as appending to a list (``bench/recorder.py``).
"""

from __future__ import annotations

import importlib.metadata
import math
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from lesde_contract.chunks.reduction import class_sums

from lesde.recorder.pending import PendingPieces
from lesde.recorder.run_folder import RunFolder, remove_run

CHUNK_ITERATIONS = 1000  # steps per sampled chunk (the trainer's default)
SMALL_STREAM_RECORDS = 100  # probe / features / eval records per chunk
EVAL_FIELDS = ("val_loss", "val_acc", "train_loss", "train_acc")
DTYPES = ("float32", "float64")


def as_array(value: Any) -> np.ndarray:
    """A torch tensor (any device, with or without grad), a numpy array or a list as a numpy array."""
    if type(value) is np.ndarray:
        return value
    if hasattr(value, "numpy") and hasattr(value, "detach"):  # a torch tensor: detached, copied off its device
        return value.numpy(force=True)
    return np.asarray(value)


class _Block:
    """One trial's rows of the sampled chunk being filled: ``(C, B, K)`` logits, ``(C, B)`` the rest."""

    __slots__ = ("first", "fill", "logits", "label", "true_label", "loss", "index")

    def __init__(self, first: int, rows: int, batch: int, classes: int, dtype: str) -> None:
        self.first = first
        self.fill = 0
        self.logits = np.zeros((rows, batch, classes), dtype)
        self.label = np.zeros((rows, batch), np.int64)
        self.true_label = np.full((rows, batch), -1, np.int64)  # -1: not given (same as label)
        self.loss = np.full((rows, batch), np.nan, dtype)  # NaN: not given (cross-entropy of the logits)
        self.index = np.full((rows, batch), -1, np.int64)  # -1: not given

    def piece(self, length: int) -> dict[str, np.ndarray]:
        """Copies of the first ``length`` rows (the block is reused for the next chunk)."""
        return {name: getattr(self, name)[:length].copy() for name in ("logits", "label", "true_label", "loss", "index")}


class Recorder:
    """Records LE-SDE streams from a training loop into a run folder (and optionally uploads it).

    Parameters
    ----------
    classes : list of str or int
        Class names in label order, or K (names "0" .. "K-1").
    trials : int
        R, the number of independently trained models (each logs with its ``trial=`` index).
    store : path, optional
        The run folder to write (must not hold a run already). Without it and with ``url``,
        a temporary folder is used and removed after a successful upload.
    url, key : str, optional
        A LE-SDE Lab server (and API key): :meth:`close` uploads the run as an import job.
    name : str, optional
        The experiment's name on the server.
    batch_size : int
        Rows per ``log`` call (B; 1 is the authors' protocol).
    dtype : "float32" or "float64"
        Precision the logits are stored in.
    chunk_iterations : int
        Steps per sampled chunk.
    buffer_bytes : int
        Memory for finished blocks that wait for other trials; beyond it they go to disk.
    overwrite : bool
        Replace a run already in ``store`` (a re-run notebook cell); default: refuse it.
    """

    def __init__(
        self,
        classes: list[str] | int,
        *,
        trials: int = 1,
        store: Path | str | None = None,
        url: str | None = None,
        key: str | None = None,
        name: str | None = None,
        batch_size: int = 1,
        dtype: str = "float32",
        chunk_iterations: int = CHUNK_ITERATIONS,
        buffer_bytes: int = 256 << 20,
        overwrite: bool = False,
    ) -> None:
        names = [str(k) for k in range(classes)] if isinstance(classes, int) else [str(c) for c in classes]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError(f"classes: at least 2 unique class names (or K >= 2) are needed, got {classes!r}")
        for field, value, low in (("trials", trials, 1), ("batch_size", batch_size, 1), ("chunk_iterations", chunk_iterations, 1)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{field}: an integer >= {low} is needed, got {value!r}")
        if dtype not in DTYPES:
            raise ValueError(f"dtype: one of {', '.join(DTYPES)}, got {dtype!r}")
        if store is None and url is None:
            raise ValueError("store or url: say where the run goes (a folder, a server, or both)")
        self.classes, self.trials, self.batch_size, self.dtype = names, trials, batch_size, dtype
        self.url, self.key, self.name = url, key, name
        self.chunk_iterations = chunk_iterations
        self._temporary = store is None
        folder = Path(tempfile.mkdtemp(prefix="lesde-run-")) if store is None else Path(store)
        if overwrite and store is not None:
            remove_run(folder)
        self.run = RunFolder(folder)
        self.folder = self.run.folder
        self.start: int | None = None  # the first step logged (every trial starts there)
        self._blocks: list[_Block] | None = None
        self._pending = PendingPieces(trials, budget_bytes=buffer_bytes, spool=self.folder / ".spool")
        self._small: dict[str, list[tuple[int, dict[str, np.ndarray]]]] = {"probe": [], "features": [], "eval": []}
        self._flushed_up_to: dict[str, int] = {"probe": -1, "features": -1, "eval": -1}
        self._probe_label: np.ndarray | None = None
        self.closed = False
        self.job: dict | None = None  # the server's answer after an upload

    # -- the hot path -----------------------------------------------------------------------
    def log(self, step: int, logits: Any, y: Any, trial: int = 0, *, loss: Any = None, true_label: Any = None, index: Any = None) -> None:
        """Record the logits of the point(s) step ``step`` trained on.

        Parameters
        ----------
        step : int
            The iteration (each trial logs every step, starting at the same first step).
        logits : tensor or ndarray of shape (B, K) (or (K,) when B = 1)
        y : int, tensor or ndarray of shape (B,)
            The label trained on (after any label noise).
        trial : int
            Which model (0 .. R-1).
        loss : float or array of shape (B,), optional
            Training loss of the row(s); default: the cross-entropy of ``logits`` at ``y``.
        true_label : int or array of shape (B,), optional
            The class before label noise (default: ``y``).
        index : int or array of shape (B,), optional
            The training sample's index in your data set (kept in the exports).
        """
        blocks = self._blocks
        if blocks is None or not 0 <= trial < len(blocks):
            blocks = self._first_log(step, trial)
        block = blocks[trial]
        slot = step - block.first
        if slot != block.fill:
            slot = self._check_step(block, trial, step)
        # one call to numpy for a tensor (detach and device copy included): the hot path's largest cost
        block.logits[slot] = (
            logits if type(logits) is np.ndarray else (logits.numpy(force=True) if hasattr(logits, "detach") else as_array(logits))
        )
        if self.batch_size == 1:  # a scalar store is a third of a row store
            block.label[slot, 0] = y if type(y) is int else (y.item() if hasattr(y, "item") else int(np.asarray(y).reshape(-1)[0]))
        else:
            block.label[slot] = as_array(y)
        if loss is not None:
            block.loss[slot] = loss if type(loss) is float else as_array(loss)
        if true_label is not None:
            block.true_label[slot] = as_array(true_label)
        if index is not None:
            block.index[slot] = as_array(index)
        block.fill = slot + 1
        if block.fill == self.chunk_iterations:
            self._finish_block(block, trial)

    # -- the other streams ------------------------------------------------------------------
    def probe(self, step: int, logits: Any, y: Any, trial: int = 0, *, features: Any = None) -> None:
        """Record a fixed probe set's logits (P, K) with its labels (P,), and optionally its
        penultimate features (P, F), for model ``trial`` after ``step`` updates."""
        self._check_open()
        self._check_trial(trial)
        labels = as_array(y).astype(np.int64).reshape(-1)
        if self._probe_label is None:
            self._probe_label = labels.copy()
        elif not np.array_equal(labels, self._probe_label):
            raise ValueError("y: the probe set's labels changed between probe calls; record the same probe samples each time")
        values = as_array(logits).astype(self.dtype).reshape(labels.size, -1)
        if values.shape[1] != len(self.classes):
            raise ValueError(f"logits: shape {values.shape} for {labels.size} probe samples and K = {len(self.classes)} classes")
        self._deliver("probe", step, trial, {"logits": values})
        if features is not None:
            self._deliver("features", step, trial, {"features": as_array(features).astype(self.dtype).reshape(labels.size, -1)})

    def evaluate(
        self,
        step: int,
        trial: int = 0,
        *,
        val_loss: float = math.nan,
        val_acc: float = math.nan,
        train_loss: float = math.nan,
        train_acc: float = math.nan,
    ) -> None:
        """Record evaluation numbers of model ``trial`` after ``step`` updates (NaN: not measured)."""
        self._check_open()
        self._check_trial(trial)
        values = {"val_loss": val_loss, "val_acc": val_acc, "train_loss": train_loss, "train_acc": train_acc}
        self._deliver("eval", step, trial, {name: np.asarray(float(as_array(v)), np.float64) for name, v in values.items()})

    # -- the end ------------------------------------------------------------------------------
    def close(self) -> Path | dict:
        """Write what is left and the manifest; upload when a ``url`` was given.

        Returns the run folder, or the server's answer (the import job: ``id``, ``status``,
        ``links``) after an upload. A trial that logged fewer steps than the others cuts the
        run at its last step (with a warning): every record holds every trial.
        """
        self._check_open()
        if self._blocks is None or self.start is None:
            raise ValueError("nothing was logged: call log() for every step before close()")
        done = self._close_sampled(self._blocks, self.start)
        for stream in ("probe", "features", "eval"):
            self._close_small(stream)
        self.run.commit(self._spec(done), done)
        shutil.rmtree(self.folder / ".spool", ignore_errors=True)
        self.closed = True
        if self.url is None:
            return self.folder
        from lesde.recorder.upload import upload_run  # lazy: only when uploading

        self.job = upload_run(self.folder, self.url, key=self.key, name=self.name)
        if self._temporary:
            shutil.rmtree(self.folder, ignore_errors=True)
        return self.job

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind: type | None, *_rest: object) -> None:
        if kind is None and not self.closed:
            self.close()

    # -- internals ----------------------------------------------------------------------------
    def _first_log(self, step: int, trial: int) -> list[_Block]:
        self._check_open()
        self._check_trial(trial)
        if self._blocks is None:
            if not isinstance(step, (int, np.integer)) or step < 0:
                raise ValueError(f"step: a non-negative integer is needed, got {step!r}")
            self.start = int(step)
            shape = (self.chunk_iterations, self.batch_size, len(self.classes), self.dtype)
            self._blocks = [_Block(self.start, *shape) for _ in range(self.trials)]
        return self._blocks

    def _check_step(self, block: _Block, trial: int, step: int) -> int:
        """The slot of ``step`` in ``trial``'s ``block``, or a ValueError that says what went wrong."""
        expected = block.first + block.fill
        if step != expected:
            if block.first == self.start and block.fill == 0:
                raise ValueError(
                    f"step: trial {trial} starts at step {step}, but the run starts at step {self.start} (every trial logs the same steps)"
                )
            raise ValueError(f"step: trial {trial} logged step {step} after step {expected - 1}; each trial logs every step once, in order")
        return step - block.first

    def _check_trial(self, trial: int) -> None:
        if not isinstance(trial, (int, np.integer)) or not 0 <= trial < self.trials:
            raise ValueError(f"trial: 0 to {self.trials - 1} (trials={self.trials}), got {trial!r}")

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("the recorder is closed")

    def _finish_block(self, block: _Block, trial: int) -> None:
        first = block.first
        piece = block.piece(block.fill)
        block.first, block.fill = first + self.chunk_iterations, 0
        if self._pending.put(("sampled", first), trial, piece):
            self._write_sampled(first, self._pending.take(("sampled", first)))

    def _write_sampled(self, first: int, pieces: list[dict[str, np.ndarray]]) -> None:
        """Stack the trials' pieces (each ``(n, B, ...)``) into one chunk ``(n, R[, B], ...)``."""
        n = min(len(piece["label"]) for piece in pieces)
        stacked = {name: np.stack([piece[name][:n] for piece in pieces], axis=1) for name in pieces[0]}  # (n, R, B, ...)
        logits, label = stacked["logits"], stacked["label"]
        true_label = np.where(stacked["true_label"] < 0, label, stacked["true_label"])
        loss = np.where(np.isnan(stacked["loss"]), cross_entropy(logits, label).astype(self.dtype), stacked["loss"])
        if self.batch_size == 1:  # the trainer's batch-size-1 layout: (n, R) rows
            logits, label, true_label, loss, index = (
                logits[:, :, 0],
                label[:, :, 0],
                true_label[:, :, 0],
                loss[:, :, 0],
                stacked["index"][:, :, 0],
            )
        else:
            index = stacked["index"]
        arrays = {
            "iteration": np.arange(first, first + n, dtype=np.int64),
            "index": index,
            "label": label,
            "true_label": true_label,
            "logits": logits,
            "loss": loss,
        } | class_sums(label, logits, num_classes=len(self.classes))
        self.run.put("sampled", first, first + n - 1, arrays)

    def _close_sampled(self, blocks: list[_Block], start: int) -> int:
        """Write the last (partial) chunk of every trial's ``blocks`` (the run started at step ``start``);
        the iterations done (one past the last step every trial logged)."""
        for trial, block in enumerate(blocks):
            if block.fill:
                self._pending.put(("sampled", block.first), trial, block.piece(block.fill))
        logged = [block.first + block.fill for block in blocks]
        done = min(logged)
        if done <= start:
            raise ValueError(f"some trial logged no step (steps logged up to {logged}): every trial must log the run's steps")
        waiting = self._pending.incomplete()
        for key in sorted(key for key in waiting if key[0] == "sampled"):
            if key[1] < done and len(waiting[key]) == self.trials:
                self._write_sampled(key[1], self._pending.take(key))  # cut to the shortest trial's rows
            else:
                self._pending.drop(key)
        if len(set(logged)) > 1:
            warnings.warn(
                f"trials logged different numbers of steps (up to {logged}); the run is cut at step {done - 1}, "
                "where every trial has a record",
                stacklevel=3,
            )
        return done

    def _deliver(self, stream: str, step: int, trial: int, arrays: dict[str, np.ndarray]) -> None:
        if self._pending.put((stream, int(step)), trial, arrays):
            pieces = self._pending.take((stream, int(step)))
            self._small[stream].append((int(step), {name: np.stack([p[name] for p in pieces]) for name in pieces[0]}))
            self._flush_small(stream, final=False)

    def _flush_small(self, stream: str, *, final: bool) -> None:
        """Write ready records as a chunk once there are enough (or at the end), in step order."""
        ready = sorted(self._small[stream], key=lambda item: item[0])
        if not ready or (not final and len(ready) < SMALL_STREAM_RECORDS):
            return
        if ready[0][0] <= self._flushed_up_to[stream]:
            raise ValueError(f"{stream}: a record at step {ready[0][0]} arrived after step {self._flushed_up_to[stream]} was written")
        steps = np.array([step for step, _ in ready], np.int64)
        arrays = {"iteration": steps} | {name: np.stack([values[name] for _, values in ready]) for name in ready[0][1]}
        if stream in ("probe", "features"):
            labels = self._probe_label
            if labels is None:  # probe() sets it before it delivers any probe or features record
                raise RuntimeError(f"{stream}: records without the probe set's labels")
            arrays |= {"probe_label": labels, "probe_index": np.arange(labels.size, dtype=np.int64)}
        self.run.put(stream, int(steps[0]), int(steps[-1]), arrays)
        self._flushed_up_to[stream] = int(steps[-1])
        self._small[stream] = []

    def _close_small(self, stream: str) -> None:
        for key, trials in self._pending.incomplete().items():
            if key[0] == stream:
                warnings.warn(f"{stream} at step {key[1]}: only trials {trials} recorded it; dropped", stacklevel=4)
                self._pending.drop(key)
        self._flush_small(stream, final=True)

    def _spec(self, done: int) -> dict:
        return {
            "kind": "import",
            "name": self.name,
            "source": {
                "format": "lesde-run",
                "recorder": f"lesde {lesde_version()}",
                "batch_size": self.batch_size,
                "dtype": self.dtype,
                "first_step": self.start,
            },
            "dataset": {"name": "recorded", "classes": self.classes},
            "training": {"iterations": done, "trials": self.trials},
        }


def lesde_version() -> str:
    try:
        return importlib.metadata.version("lesde")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return "unknown"


def cross_entropy(logits: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Softmax cross-entropy of ``logits`` (..., K) at integer ``label`` (...), in float64."""
    z = logits.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return np.log(np.exp(z).sum(axis=-1)) - np.take_along_axis(z, label[..., None], axis=-1)[..., 0]
