"""Networks for the engine: ``lenet``, ``alexnet`` (small, 32x32), ``mlp``, and ``custom``
(described layer by layer in the spec: ``custom.CustomNet``)."""

from __future__ import annotations

import torch

from .custom import CustomNet
from .head import FixedOrthogonalHead, random_orthogonal
from .init import initial_parameters
from .networks import MLP, AlexNetSmall, Classifier, LeNet, Network

MODELS: dict[str, type[Network]] = {"lenet": LeNet, "alexnet": AlexNetSmall, "mlp": MLP, "custom": CustomNet}
HEADS = ("none", "random_orthogonal")


class InvalidModelSpec(ValueError):
    """Unknown model or head name, or a channel/class count the models cannot take."""


def build_model(
    name: str,
    *,
    num_classes: int,
    in_channels: int,
    head: str = "none",
    head_seed: int = 0,
    dtype: torch.dtype = torch.float32,
    layers: list | None = None,
    image_size: tuple[int, int] = (32, 32),
) -> Classifier:
    """Return an untrained network (PyTorch's own init; use ``initial_parameters`` for trials).

    Parameters
    ----------
    name : {"lenet", "alexnet", "mlp", "custom"}
    num_classes : int >= 2
    in_channels : {1, 3}
    head : {"none", "random_orthogonal"}
    head_seed : int
        Seed of the fixed orthogonal head (the experiment seed).
    dtype : torch.float32 or torch.float64
    layers : list of layer descriptions (``lesde_contract.specs.network``), for ``custom`` only
    image_size : (H, W) of the images: 32x32 for the built-in networks, any for ``custom``
    """
    if name not in MODELS:
        raise InvalidModelSpec(f"model: unknown model {name!r}; allowed: {list(MODELS)}")
    if head not in HEADS:
        raise InvalidModelSpec(f"head: unknown head {head!r}; allowed: {list(HEADS)}")
    if in_channels not in (1, 3):
        raise InvalidModelSpec(f"in_channels: must be 1 or 3, got {in_channels!r}")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise InvalidModelSpec(f"num_classes: must be an integer >= 2, got {num_classes!r}")
    if dtype not in (torch.float32, torch.float64):
        raise InvalidModelSpec(f"dtype: must be torch.float32 or torch.float64, got {dtype!r}")
    if (name == "custom") != (layers is not None):
        raise InvalidModelSpec("layers: model custom needs its layers, and only custom takes them")
    try:
        if name != "custom" and tuple(image_size) != (32, 32):
            raise InvalidModelSpec(f"image_size: {name} takes 32x32 images, got {tuple(image_size)}; describe a custom network")
        body = (
            CustomNet(layers, in_channels=in_channels, num_classes=num_classes, image_size=image_size)
            if name == "custom" and layers is not None  # layers is not None exactly for custom (checked above)
            else MODELS[name](in_channels=in_channels, num_classes=num_classes)
        )
    except ValueError as error:  # a description that does not fit (pydantic's or check_layers' words)
        raise InvalidModelSpec(f"layers: {error}") from None
    body = body.to(dtype)
    # Built directly in dtype: casting a float32 H to float64 would lose orthogonality.
    fixed = FixedOrthogonalHead(num_classes, seed=head_seed, dtype=dtype) if head == "random_orthogonal" else None
    return Classifier(body, fixed)


__all__ = [
    "HEADS",
    "MODELS",
    "MLP",
    "AlexNetSmall",
    "Classifier",
    "CustomNet",
    "FixedOrthogonalHead",
    "InvalidModelSpec",
    "LeNet",
    "Network",
    "build_model",
    "initial_parameters",
    "random_orthogonal",
]
