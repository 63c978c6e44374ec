"""A network built from a spec's description (``lesde_contract.specs.network``), never from user code.

``CustomNet`` follows the built-in networks' contract: ``features(x)`` is every layer but the
last (the penultimate activations), ``classifier`` the last linear layer. Parameters are
registered in the description's order, so ``initial_parameters`` draws them in that order:
the LeNet preset (``lenet_layers``) starts from exactly the built-in LeNet's values.
"""

from __future__ import annotations

import torch
from lesde_contract.specs.network import Activation, AvgPool2d, Conv2d, Flatten, Layer, Linear, MaxPool2d, check_layers, parse_layers
from torch import nn

from .networks import Network

_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class CustomNet(Network):
    """The network of a checked description, for images (in_channels, H, W) and num_classes classes.

    Parameters
    ----------
    layers : list of layer descriptions (dicts or ``lesde_contract.specs.network`` models)
    in_channels, num_classes : int
    image_size : (H, W) of the images
    """

    def __init__(self, layers: list, *, in_channels: int, num_classes: int, image_size: tuple[int, int] = (32, 32)) -> None:
        super().__init__()
        parsed = parse_layers(layers)
        height, width = image_size
        shapes = check_layers(parsed, in_shape=(in_channels, height, width), num_classes=num_classes)
        inputs = [(in_channels, height, width), *shapes[:-1]]
        self.layers = nn.Sequential(*(_module(layer, shape) for layer, shape in zip(parsed[:-1], inputs[:-1])))
        self.feature_dim = inputs[-1][0]
        self.classifier = nn.Linear(self.feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, feature_dim)."""
        return self.layers(x)


def _module(layer: Layer, in_shape: tuple[int, ...]) -> nn.Module:
    """The torch module of one (checked) layer that receives ``in_shape``."""
    if isinstance(layer, Conv2d):
        return nn.Conv2d(in_shape[0], layer.out_channels, layer.kernel_size, stride=layer.stride, padding=layer.padding)
    if isinstance(layer, MaxPool2d):
        return nn.MaxPool2d(layer.kernel_size, stride=layer.stride or layer.kernel_size)
    if isinstance(layer, AvgPool2d):
        return nn.AvgPool2d(layer.kernel_size, stride=layer.stride or layer.kernel_size)
    if isinstance(layer, Activation):
        return _ACTIVATIONS[layer.type]()
    if isinstance(layer, Flatten):
        return nn.Flatten(1)
    if isinstance(layer, Linear):
        return nn.Linear(in_shape[0], layer.out_features)
    raise ValueError(f"layer type {layer.type!r} has no module")  # check_layers refuses the rest first
