"""EnsembleTrainer: R independent SGD trials of one network, trained in lockstep.

Determinism contract (resume and the analysis depend on it):
- the initial parameters of trial r are a pure function of (seed, trial_offset + r)
  (``models.initial_parameters``);
- the training sample(s) trial r draws at iteration t are a pure function of
  (seed, trial_offset + r, t) (``sampling.draw_indices``);
so trial r trained in any ensemble matches the same trial trained alone (to float
rounding), and ``train(T)`` equals ``train(t)``, ``state_dict()``, ``load_state_dict()``
into a fresh engine, ``train(T - t)`` bit for bit on CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812 - torch's own name for torch.nn.functional

from ..device import resolve_device
from ..models import HEADS, MODELS, InvalidModelSpec, build_model, initial_parameters
from .errors import InvalidTrainingSpec
from .functional_kernel import FunctionalKernel
from .kernel import Kernel
from .lenet_kernel import CONVS, LeNetKernel
from .native_kernel import NativeLeNetKernel, native_kernel_problem
from .sampling import draw_indices

BATCHING = ("single", "per_class")
KERNELS = ("auto", "native", "lenet", "functional")
CONV_BACKENDS = ("auto", *CONVS)
STATE_FORMAT = 1
_DTYPES = {torch.float32: "float32", torch.float64: "float64"}


@dataclass(frozen=True)
class TrainingBlock:
    """What ``EnsembleTrainer.train(n)`` logged, on the host.

    With ``batching="single"`` and batch size 1 the batch axis is squeezed; else it is
    kept: B = ``batch_size`` slots of independent draws, or with ``per_class`` (B = K)
    slot k holds the sample of class k.

    Attributes
    ----------
    iterations : ndarray of shape (n,), int64, absolute iteration numbers
    index : ndarray of shape (n, R) or (n, R, K), int64, rows of ``x_train``
    label : same shape as ``index``, int64, the (possibly corrupted) labels trained on
    true_label : same shape as ``index``, int64, clean labels
    logits : ndarray of shape (n, R, K) or (n, R, K, K), model dtype
        Logits of the training forward pass, before the update.
    loss : ndarray of shape (n, R), model dtype, minibatch-mean cross-entropy before the update
    """

    iterations: np.ndarray
    index: np.ndarray
    label: np.ndarray
    true_label: np.ndarray
    logits: np.ndarray
    loss: np.ndarray


class EnsembleTrainer:
    """Train ``trials`` independent copies of a network with SGD (momentum 0).

    Parameters
    ----------
    model : {"lenet", "alexnet", "mlp", "custom"}
    num_classes : int >= 2
    in_channels : {1, 3}
    dtype : torch.float32 or torch.float64
    trials : int >= 1, R
    trial_offset : int >= 0
        Absolute number of trial 0 (lets several workers split one experiment).
    lr : float > 0
    seed : int
    batching : {"single", "per_class"}
        ``single``: ``batch_size`` samples drawn uniformly from all training samples per
        step (1: the paper), mean loss. ``per_class``: one sample of each (trained-on) class
        per step, mean loss.
    batch_size : int >= 1
        Samples per step with ``single`` (each an independent uniform draw of its own
        stream); must be 1 with ``per_class``.
    head : {"none", "random_orthogonal"}
        Fixed random orthogonal KxK matrix on the logits, seeded by ``seed`` and shared
        by all trials.
    device : str, torch.device or None (cuda when available)
    x_train : ndarray of shape (N, C, 32, 32)
    y_train : ndarray of shape (N,), labels trained on
    y_train_true : ndarray of shape (N,) or None (defaults to ``y_train``)
    kernel : {"auto", "native", "lenet", "functional"}
        ``native``: the LeNet kernel in C (``native_kernel``; CPU, batching ``single``);
        ``lenet``: the torch LeNet kernel (``lenet_kernel``; any device and batching);
        ``functional``: torch.func, any model. ``auto`` takes the first that serves the
        model, device and batching (``native`` also needs a C compiler: ``native_build``).
    convs : {"auto", "direct", "im2col"}
        Convolution backend of the torch LeNet kernel (``lenet_kernel``); ``auto`` takes the
        faster one for the dtype and device (``direct`` for float32, ``im2col`` for float64).
    layers : list of layer descriptions or None
        The network of ``model="custom"`` (``lesde_contract.specs.network``), trained by torch.func.
    eval_chunk : int
        Images per convolution chunk in ``logits``/``features``/``evaluate`` (small chunks keep
        the R-fold activation buffers in cache).
    """

    def __init__(
        self,
        *,
        model: str,
        num_classes: int,
        in_channels: int,
        dtype: torch.dtype = torch.float32,
        trials: int,
        trial_offset: int = 0,
        lr: float,
        seed: int,
        batching: str = "single",
        batch_size: int = 1,
        head: str = "none",
        device: str | torch.device | None = None,
        x_train: np.ndarray,
        y_train: np.ndarray,
        y_train_true: np.ndarray | None = None,
        kernel: str = "auto",
        convs: str = "auto",
        eval_chunk: int = 4,
        layers: list | None = None,
    ) -> None:
        _validate(
            model=model,
            num_classes=num_classes,
            in_channels=in_channels,
            dtype=dtype,
            trials=trials,
            trial_offset=trial_offset,
            lr=lr,
            seed=seed,
            batching=batching,
            head=head,
            kernel=kernel,
            convs=convs,
            x_train=x_train,
            y_train=y_train,
            y_train_true=y_train_true,
        )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= 4096:
            raise InvalidTrainingSpec(f"batch_size: must be an integer from 1 to 4096, got {batch_size!r}")
        if batching == "per_class" and batch_size != 1:
            raise InvalidTrainingSpec("batch_size: with batching 'per_class' the batch is one sample of each class")
        self.batch_size = int(batch_size)
        self.model, self.num_classes, self.in_channels = model, num_classes, in_channels
        self.dtype, self.trials, self.trial_offset = dtype, trials, trial_offset
        self.lr, self.seed, self.batching, self.head = float(lr), int(seed), batching, head
        self.device = resolve_device(device)
        self.image_size = tuple(int(v) for v in np.shape(x_train)[2:])  # (H, W)
        self.eval_chunk = int(eval_chunk)
        self._iteration = 0

        y_train = np.asarray(y_train, dtype=np.int64)
        self._y_train = y_train
        self._y_true = y_train if y_train_true is None else np.asarray(y_train_true, dtype=np.int64)
        # one pool per batch slot: each slot draws from its own counter stream
        self._pools = (
            [np.arange(y_train.size)] * self.batch_size
            if batching == "single"
            else [np.flatnonzero(y_train == k) for k in range(num_classes)]
        )
        self._y = torch.as_tensor(y_train, device=self.device)

        try:
            module = build_model(
                model,
                num_classes=num_classes,
                in_channels=in_channels,
                head=head,
                head_seed=self.seed,
                dtype=dtype,
                layers=layers,
                image_size=tuple(np.shape(x_train)[2:]),
            ).to(self.device)
        except InvalidModelSpec as error:
            raise InvalidTrainingSpec(str(error)) from None
        self._module = module
        per_trial = [initial_parameters(module, seed=self.seed, trial=trial_offset + r) for r in range(trials)]
        params = {name: torch.as_tensor(np.stack([p[name] for p in per_trial]), dtype=dtype, device=self.device) for name in per_trial[0]}
        head_matrix = module.head.matrix if module.head is not None else None
        chosen = _pick_kernel(
            model, kernel, convs=convs, dtype=dtype, device=self.device, batch=self.batch_size if batching == "single" else num_classes
        )
        if chosen == "native":
            self._kernel: Kernel = NativeLeNetKernel(params, head=head_matrix)
        elif chosen == "lenet":
            self._kernel = LeNetKernel(params, head=head_matrix, convs=None if convs == "auto" else convs)
        else:
            self._kernel = FunctionalKernel(module, params)
        # Training images in the layout the kernel's ``train_steps`` reads them in.
        x = torch.as_tensor(np.asarray(x_train), dtype=dtype, device=self.device)
        self._images = self._kernel.prepare_images(x)

    @property
    def backend(self) -> str:
        """Which training kernel runs: ``lenet/native``, ``lenet/direct``, ``lenet/im2col`` or ``functional``."""
        return self._kernel.name

    # ------------------------------------------------------------------ state
    @property
    def iteration(self) -> int:
        """Number of iterations trained so far (the next iteration's number)."""
        return self._iteration

    def state_dict(self) -> dict:
        """Parameters (host numpy, (R, *shape) each, under ``param/<name>``), the iteration
        counter and the identity of the run, plus ``pending/...`` entries when the LeNet kernel
        holds deferred fc updates (mid-window); enough for an exact resume. Does not change the
        running state."""
        state = {
            "format": STATE_FORMAT,
            "model": self.model,
            "dtype": _DTYPES[self.dtype],
            "seed": self.seed,
            "trials": self.trials,
            "trial_offset": self.trial_offset,
            "iteration": self._iteration,
        }
        for name, value in self._kernel.effective_params().items():
            state[f"param/{name}"] = value.detach().cpu().numpy().copy()
        # Mid-window, the LeNet kernel's deferred fc updates: the base weights and pending rows
        # (the effective weights above are not enough to continue bit for bit).
        for key, value in self._kernel.pending_state().items():
            state[f"pending/{key}"] = value if isinstance(value, int) else value.detach().cpu().numpy().copy()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore parameters and iteration counter saved by ``state_dict`` (same run identity)."""
        expected = {
            "format": STATE_FORMAT,
            "model": self.model,
            "dtype": _DTYPES[self.dtype],
            "seed": self.seed,
            "trials": self.trials,
            "trial_offset": self.trial_offset,
        }
        for key, value in expected.items():
            if state.get(key) != value:
                raise InvalidTrainingSpec(f"state_dict: {key} is {state.get(key)!r}, this engine has {value!r}")
        with torch.no_grad():
            for name, tensor in self._kernel.params.items():
                saved = np.asarray(state[f"param/{name}"])
                if saved.shape != tuple(tensor.shape):
                    raise InvalidTrainingSpec(f"state_dict: param/{name} has shape {saved.shape}, expected {tuple(tensor.shape)}")
                tensor.copy_(torch.as_tensor(saved, dtype=self.dtype))
            self._kernel.load_pending_state(
                {key.removeprefix("pending/"): value for key, value in state.items() if key.startswith("pending/")}
            )
        self._iteration = int(state["iteration"])

    # ------------------------------------------------------------------ training
    def sample_indices(self, iterations: np.ndarray) -> np.ndarray:
        """Training rows drawn at the given absolute iterations: (n, R, B) int64."""
        trials = np.arange(self.trial_offset, self.trial_offset + self.trials)
        return draw_indices(seed=self.seed, trials=trials, iterations=np.asarray(iterations), pools=self._pools)

    def train(self, n: int) -> TrainingBlock:
        """Advance every trial by ``n`` SGD iterations and return what they saw and logged.

        Results stay on the device until the end of the block (one host copy per call).
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InvalidTrainingSpec(f"n: must be an integer >= 0, got {n!r}")
        iterations = np.arange(self._iteration, self._iteration + n, dtype=np.int64)
        index = self.sample_indices(iterations)  # (n, R, B)
        r, b, k = self.trials, index.shape[2], self.num_classes
        if n:
            index_dev = torch.as_tensor(index, device=self.device)
            labels = self._y[index_dev]  # (n, R, B)
            logits_log, loss_log = self._kernel.train_steps(self._images, index_dev, labels, lr=self.lr)
        else:
            logits_log = torch.empty((0, r, b, k), dtype=self.dtype)
            loss_log = torch.empty((0, r), dtype=self.dtype)
        self._iteration += n

        squeeze = (lambda a: a[:, :, 0]) if self.batching == "single" and self.batch_size == 1 else (lambda a: a)
        return TrainingBlock(
            iterations=iterations,
            index=squeeze(index),
            label=squeeze(self._y_train[index]),
            true_label=squeeze(self._y_true[index]),
            logits=squeeze(logits_log.cpu().numpy()),
            loss=loss_log.cpu().numpy(),
        )

    # ------------------------------------------------------------------ probes
    def _forward(self, x: np.ndarray, *, features: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        x_dev = torch.as_tensor(np.asarray(x), dtype=self.dtype, device=self.device)
        if x_dev.ndim != 4 or tuple(x_dev.shape[1:]) != (self.in_channels, *self.image_size):
            raise InvalidTrainingSpec(
                f"x: expected shape (N, {self.in_channels}, {self.image_size[0]}, {self.image_size[1]}), got {tuple(x_dev.shape)}"
            )
        return self._kernel.forward(x_dev.contiguous(), chunk=self.eval_chunk, features=features)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Current logits of every trial on fixed inputs (no gradient, no update).

        Parameters
        ----------
        x : ndarray of shape (N, C, 32, 32)

        Returns
        -------
        logits : ndarray of shape (R, N, K), model dtype
        """
        return self._forward(x)[0].cpu().numpy()

    def features(self, x: np.ndarray) -> np.ndarray:
        """Penultimate-layer activations (R, N, F) on fixed inputs x (N, C, 32, 32)."""
        features = self._forward(x)[1]
        if features is None:  # a kernel skips them only when asked to (Kernel.forward)
            raise RuntimeError(f"the {self.backend} kernel returned no features")
        return features.cpu().numpy()

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean cross-entropy and accuracy of every trial on (x (N, C, 32, 32), y (N,)).

        Returns
        -------
        loss : ndarray of shape (R,)
        accuracy : ndarray of shape (R,)
        """
        y_dev = torch.as_tensor(np.asarray(y, dtype=np.int64), device=self.device)
        logits, _ = self._forward(x, features=False)
        labels = y_dev.expand(self.trials, -1)
        loss = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none").mean(1)
        accuracy = (logits.argmax(-1) == labels).to(torch.float64).mean(1)
        return loss.cpu().numpy(), accuracy.cpu().numpy()


def _pick_kernel(model: str, kernel: str, *, convs: str, dtype: torch.dtype, device: torch.device, batch: int) -> str:
    """The kernel that trains: ``kernel`` itself, or for ``auto`` native, then lenet (for the
    lenet model; lenet at once when a torch convolution backend ``convs`` is named), then
    functional. Raises InvalidTrainingSpec when an explicit ``native`` cannot serve the run."""
    if kernel == "native":
        problem = native_kernel_problem(dtype=dtype, device=device, batch=batch)
        if problem:
            raise InvalidTrainingSpec(f"kernel: 'native' cannot train this run: {problem}")
        return kernel
    if kernel != "auto":
        return kernel
    if model != "lenet":
        return "functional"
    if convs != "auto":
        return "lenet"
    return "native" if native_kernel_problem(dtype=dtype, device=device, batch=batch) is None else "lenet"


def _validate(
    *,
    model: str,
    num_classes: int,
    in_channels: int,
    dtype: torch.dtype,
    trials: int,
    trial_offset: int,
    lr: float,
    seed: int,
    batching: str,
    head: str,
    kernel: str,
    convs: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    y_train_true: np.ndarray | None,
) -> None:
    """Raise InvalidTrainingSpec naming the first argument of ``EnsembleTrainer`` that cannot train."""

    def is_int(v: object) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if model not in MODELS:
        raise InvalidTrainingSpec(f"model: unknown model {model!r}; allowed: {list(MODELS)}")
    if not is_int(num_classes) or num_classes < 2:
        raise InvalidTrainingSpec(f"num_classes: must be an integer >= 2, got {num_classes!r}")
    if in_channels not in (1, 3):
        raise InvalidTrainingSpec(f"in_channels: must be 1 or 3, got {in_channels!r}")
    if dtype not in _DTYPES:
        raise InvalidTrainingSpec(f"dtype: must be torch.float32 or torch.float64, got {dtype!r}")
    if not is_int(trials) or trials < 1:
        raise InvalidTrainingSpec(f"trials: must be an integer >= 1, got {trials!r}")
    if not is_int(trial_offset) or trial_offset < 0:
        raise InvalidTrainingSpec(f"trial_offset: must be an integer >= 0, got {trial_offset!r}")
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise InvalidTrainingSpec(f"lr: must be a finite number > 0, got {lr!r}")
    if not is_int(seed) or seed < 0:
        raise InvalidTrainingSpec(f"seed: must be an integer >= 0, got {seed!r}")
    if batching not in BATCHING:
        raise InvalidTrainingSpec(f"batching: unknown {batching!r}; allowed: {list(BATCHING)}")
    if head not in HEADS:
        raise InvalidTrainingSpec(f"head: unknown {head!r}; allowed: {list(HEADS)}")
    if kernel not in KERNELS or (kernel in ("native", "lenet") and model != "lenet"):
        raise InvalidTrainingSpec(f"kernel: {kernel!r} not allowed for model {model!r}; allowed: {list(KERNELS)}")
    if convs not in CONV_BACKENDS:
        raise InvalidTrainingSpec(f"convs: unknown backend {convs!r}; allowed: {list(CONV_BACKENDS)}")
    if convs != "auto" and not (model == "lenet" and kernel in ("auto", "lenet")):
        raise InvalidTrainingSpec(
            f"convs: {convs!r} applies to the torch LeNet kernel only; model {model!r} with kernel {kernel!r} takes 'auto'"
        )
    shape = np.shape(x_train)
    size = shape[2:] if model == "custom" and len(shape) == 4 else (32, 32)  # a custom network takes any H x W
    if len(shape) != 4 or shape[1:] != (in_channels, *size) or shape[0] < 1:
        raise InvalidTrainingSpec(f"x_train: expected shape (N, {in_channels}, {size[0]}, {size[1]}) with N >= 1, got {shape}")
    labels = np.asarray(y_train)
    if labels.shape != (shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise InvalidTrainingSpec(f"y_train: expected {shape[0]} integer labels, got shape {labels.shape}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise InvalidTrainingSpec(f"y_train: labels must lie in [0, {num_classes - 1}]")
    if y_train_true is not None and np.shape(y_train_true) != (shape[0],):
        raise InvalidTrainingSpec(f"y_train_true: expected shape ({shape[0]},), got {np.shape(y_train_true)}")
    if batching == "per_class":
        empty = [k for k in range(num_classes) if not np.any(labels == k)]
        if empty:
            raise InvalidTrainingSpec(f"batching: per_class needs every class in y_train; classes {empty} are empty")
