"""Networks described in a spec: a small, closed vocabulary of layers, checked against the data.

``"model": {"name": "custom", "layers": [...]}`` lists layers named as torch names them
(conv2d, maxpool2d, avgpool2d, relu, tanh, gelu, flatten, linear). The last layer is the
classifier (a linear layer with one output per class); the input of that layer is the
penultimate feature vector the analysis reads. Nothing a user sends is executed: the
trainer builds the network from this description alone.

:func:`check_layers` walks the shapes from the data's (C, H, W) to the K logits and names
the first layer that does not fit, before anything is queued; :func:`network_cost` counts
parameters and multiply-adds per sample, which the work cap charges.

Refused with their reason: ``dropout`` (it makes every step's network a random draw, which
the LE-SDE's deterministic drift does not model) and ``batchnorm2d`` (at batch size 1 a
sample's own statistics normalise it to zero; running statistics per trial are not kept).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_LAYERS = 32
MAX_PARAMETERS = 5_000_000  # per trial: R trials' parameters live in memory together


class _Layer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Conv2d(_Layer):
    """A 2-D convolution (torch.nn.Conv2d), square kernel."""

    type: Literal["conv2d"] = Field(description="conv2d")
    out_channels: int = Field(ge=1, le=512, description="Output channels.")
    kernel_size: int = Field(ge=1, le=11, description="Square kernel size.")
    stride: int = Field(default=1, ge=1, le=4, description="Stride.")
    padding: int = Field(default=0, ge=0, le=5, description="Zero padding on every side.")


class MaxPool2d(_Layer):
    """Max pooling (torch.nn.MaxPool2d), square window."""

    type: Literal["maxpool2d"] = Field(description="maxpool2d")
    kernel_size: int = Field(ge=1, le=8, description="Square window size.")
    stride: int | None = Field(default=None, ge=1, le=8, description="Default: the kernel size.")


class AvgPool2d(_Layer):
    """Average pooling (torch.nn.AvgPool2d), square window."""

    type: Literal["avgpool2d"] = Field(description="avgpool2d")
    kernel_size: int = Field(ge=1, le=8, description="Square window size.")
    stride: int | None = Field(default=None, ge=1, le=8, description="Default: the kernel size.")


class Activation(_Layer):
    """An elementwise activation."""

    type: Literal["relu", "tanh", "gelu"] = Field(description="relu, tanh or gelu")


class Flatten(_Layer):
    """Flatten (C, H, W) to one vector: the fully connected layers come after it."""

    type: Literal["flatten"] = Field(description="flatten")


class Linear(_Layer):
    """A fully connected layer (torch.nn.Linear); the last one is the classifier."""

    type: Literal["linear"] = Field(description="linear")
    out_features: int = Field(ge=1, le=4096, description="Outputs (the classifier: one per class).")


class Dropout(_Layer):
    """Named so that it can be refused with its reason (see the module docstring)."""

    type: Literal["dropout"] = Field(description="dropout (refused)")
    p: float = Field(default=0.5, ge=0.0, le=1.0, description="Drop probability.")


class BatchNorm2d(_Layer):
    """Named so that it can be refused with its reason (see the module docstring)."""

    type: Literal["batchnorm2d"] = Field(description="batchnorm2d (refused)")


Layer = Annotated[Conv2d | MaxPool2d | AvgPool2d | Activation | Flatten | Linear | Dropout | BatchNorm2d, Field(discriminator="type")]

_LAYER_LIST = TypeAdapter(list[Layer])


def parse_layers(layers: list) -> list:
    """Layer descriptions (dicts as stored in a spec, or parsed ones) -> parsed layer models
    (pydantic's ValidationError for an unknown type or a bad value)."""
    return _LAYER_LIST.validate_python([layer if isinstance(layer, dict) else layer.model_dump() for layer in layers])


REFUSED = {
    "dropout": "dropout is refused in training-dynamics runs: it makes every step's network a random draw, "
    "which the LE-SDE's drift does not model",
    "batchnorm2d": "batchnorm2d is refused: at batch size 1 a sample's own statistics normalise it away, and "
    "running statistics per trial are not kept",
}


def lenet_layers(num_classes: int) -> list[dict]:
    """LeNet-5 of the paper in this vocabulary: the built-in ``lenet`` (whose hand-written
    kernel is its fast path) as a preset, with ``num_classes`` outputs."""
    return [
        {"type": "conv2d", "out_channels": 6, "kernel_size": 5},
        {"type": "relu"},
        {"type": "maxpool2d", "kernel_size": 2},
        {"type": "conv2d", "out_channels": 16, "kernel_size": 5},
        {"type": "relu"},
        {"type": "maxpool2d", "kernel_size": 2},
        {"type": "flatten"},
        {"type": "linear", "out_features": 120},
        {"type": "relu"},
        {"type": "linear", "out_features": 84},
        {"type": "relu"},
        {"type": "linear", "out_features": num_classes},
    ]


class LayerMismatch(ValueError):
    """A layer that does not fit the shape reaching it; ``index`` is its position in ``layers``."""

    def __init__(self, index: int | None, message: str) -> None:
        self.index = index
        super().__init__(f"layers.{index}: {message}" if index is not None else f"layers: {message}")


def _pooled(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def check_layers(layers: list, *, in_shape: tuple[int, int, int], num_classes: int) -> list[tuple[int, ...]]:
    """The output shape of every layer for one sample of ``in_shape`` (C, H, W); raises
    :class:`LayerMismatch` naming the first layer that cannot take its input, or a
    description that does not end in a classifier with ``num_classes`` outputs."""
    if not layers:
        raise LayerMismatch(None, "a custom network needs at least one layer (its classifier)")
    if len(layers) > MAX_LAYERS:
        raise LayerMismatch(None, f"{len(layers)} layers; allowed range: 1 to {MAX_LAYERS}")
    shape: tuple[int, ...] = tuple(in_shape)
    shapes = []
    for index, layer in enumerate(layers):
        kind = layer.type
        if kind in REFUSED:
            raise LayerMismatch(index, REFUSED[kind])
        if kind in ("conv2d", "maxpool2d", "avgpool2d"):
            if len(shape) != 3:
                raise LayerMismatch(
                    index, f"{kind} needs an image (C, H, W), but receives the flat vector {shape}: move it before the flatten"
                )
            c, h, w = shape
            if kind == "conv2d":
                k, s, p = layer.kernel_size, layer.stride, layer.padding
                if h + 2 * p < k or w + 2 * p < k:
                    raise LayerMismatch(index, f"conv2d kernel_size {k} (padding {p}) is larger than its {h}x{w} input")
                shape = (layer.out_channels, _pooled(h, k, s, p), _pooled(w, k, s, p))
            else:
                k, s = layer.kernel_size, layer.stride or layer.kernel_size
                if h < k or w < k:
                    raise LayerMismatch(index, f"{kind} kernel_size {k} is larger than its {h}x{w} input")
                shape = (c, _pooled(h, k, s), _pooled(w, k, s))
        elif kind == "flatten":
            shape = (math.prod(shape),)
        elif kind == "linear":
            if len(shape) != 1:
                raise LayerMismatch(index, f"linear receives the image {shape}: put a flatten before it")
            shape = (layer.out_features,)
        shapes.append(shape)
    last = layers[-1]
    if last.type != "linear":
        raise LayerMismatch(len(layers) - 1, f"the last layer must be the classifier (linear), not {last.type}")
    if last.out_features != num_classes:
        raise LayerMismatch(len(layers) - 1, f"the classifier has out_features {last.out_features}, but the data has {num_classes} classes")
    return shapes


def network_cost(layers: list, *, in_shape: tuple[int, int, int]) -> tuple[int, int]:
    """``(parameters, multiply-adds of one forward pass)`` of a checked description."""
    shape: tuple[int, ...] = tuple(in_shape)
    params = macs = 0
    for layer in layers:
        if layer.type == "conv2d":
            c = shape[0]
            k, s, p = layer.kernel_size, layer.stride, layer.padding
            out = (layer.out_channels, _pooled(shape[1], k, s, p), _pooled(shape[2], k, s, p))
            params += layer.out_channels * (c * k * k + 1)
            macs += math.prod(out) * c * k * k
            shape = out
        elif layer.type in ("maxpool2d", "avgpool2d"):
            k, s = layer.kernel_size, layer.stride or layer.kernel_size
            shape = (shape[0], _pooled(shape[1], k, s), _pooled(shape[2], k, s))
        elif layer.type == "flatten":
            shape = (math.prod(shape),)
        elif layer.type == "linear":
            params += layer.out_features * (shape[0] + 1)
            macs += layer.out_features * shape[0]
            shape = (layer.out_features,)
    return params, macs
