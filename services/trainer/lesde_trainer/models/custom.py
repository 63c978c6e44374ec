"""A network built from a spec's description (``lesde.specs.network``), never from user code.

``CustomNet`` follows the built-in networks' contract: ``features(x)`` is every layer but the
last (the penultimate activations), ``classifier`` the last linear layer. Parameters are
registered in the description's order, so ``initial_parameters`` draws them in that order:
the LeNet preset (``lenet_layers``) starts from exactly the built-in LeNet's values.
"""

from __future__ import annotations

from torch import nn

from lesde.specs.network import check_layers, parse_layers

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class CustomNet(nn.Module):
    """The network of a checked description, for images (in_channels, H, W) and num_classes classes.

    Parameters
    ----------
    layers : list of layer descriptions (dicts or ``lesde.specs.network`` models)
    in_channels, num_classes : int
    image_size : (H, W) of the images
    """

    def __init__(self, layers: list, *, in_channels: int, num_classes: int, image_size: tuple[int, int] = (32, 32)):
        super().__init__()
        parsed = parse_layers(layers)
        height, width = image_size
        shapes = check_layers(parsed, in_shape=(in_channels, height, width), num_classes=num_classes)
        inputs = [(in_channels, height, width), *shapes[:-1]]
        self.layers = nn.Sequential(*(_module(layer, shape) for layer, shape in zip(parsed[:-1], inputs[:-1])))
        self.feature_dim = inputs[-1][0]
        self.classifier = nn.Linear(self.feature_dim, num_classes)

    def features(self, x):  # noqa: ANN001, ANN201 - (N, C, H, W) -> (N, feature_dim)
        return self.layers(x)


def _module(layer, in_shape: tuple[int, ...]) -> nn.Module:  # noqa: ANN001
    """The torch module of one (checked) layer that receives ``in_shape``."""
    kind = layer.type
    if kind == "conv2d":
        return nn.Conv2d(in_shape[0], layer.out_channels, layer.kernel_size, stride=layer.stride, padding=layer.padding)
    if kind == "maxpool2d":
        return nn.MaxPool2d(layer.kernel_size, stride=layer.stride or layer.kernel_size)
    if kind == "avgpool2d":
        return nn.AvgPool2d(layer.kernel_size, stride=layer.stride or layer.kernel_size)
    if kind in _ACTIVATIONS:
        return _ACTIVATIONS[kind]()
    if kind == "flatten":
        return nn.Flatten(1)
    if kind == "linear":
        return nn.Linear(in_shape[0], layer.out_features)
    raise ValueError(f"layer type {kind!r} has no module")  # check_layers refuses the rest first
