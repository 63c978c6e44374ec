"""Where the engine runs: pick the torch device and set CPU threading once."""

from __future__ import annotations

import os

import torch


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Return the device to train on.

    Parameters
    ----------
    device : str, torch.device or None
        ``None`` picks ``cuda`` when a CUDA device is available, else ``cpu``.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def configure_cpu_threads(num_threads: int | None = None) -> int:
    """Pin torch's intra-op thread count (default: the CPUs this process may use).

    Small batched kernels lose time to thread oversubscription when torch's default
    (physical cores of the whole host) exceeds the CPUs actually granted to us.
    """
    if num_threads is None:
        num_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    torch.set_num_threads(max(1, int(num_threads)))
    return torch.get_num_threads()


def configure_runtime(device: torch.device, *, cpu_threads: int | None = None) -> None:
    """Set up torch for one training job on ``device``.

    CPU: pin the intra-op thread count (``configure_cpu_threads``). CUDA: make cuDNN pick
    deterministic algorithms (its default autotuned and atomics-based convolution backward
    passes may differ run to run), because a redelivered job must rewrite byte-identical
    chunks after a resume.
    """
    configure_cpu_threads(cpu_threads)
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def describe_device(device: torch.device) -> str:
    """Name ``device`` for a job's record: ``"cpu"``, or ``"cuda:0 (NVIDIA H200, GPU-<uuid>)"``.

    Inside a container given one GPU that GPU is always ``cuda:0``, so the name and UUID
    are what tell one host GPU from another.
    """
    if device.type != "cuda":
        return str(device)
    index = device.index if device.index is not None else torch.cuda.current_device()
    properties = torch.cuda.get_device_properties(index)
    uuid = getattr(properties, "uuid", None)
    identity = f"{properties.name}, GPU-{uuid}" if uuid else properties.name
    return f"cuda:{index} ({identity})"
