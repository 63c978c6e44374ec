"""The networks, as plain nn.Modules (the naive loop and the generic engine use them).

Every network exposes ``features(x)`` (penultimate activations) and ``classifier``
(the last linear layer); ``forward(x) = head(classifier(features(x)))``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - torch's own name for torch.nn.functional

from .head import FixedOrthogonalHead


class Network(nn.Module):
    """What every body of a :class:`Classifier` is: ``features(x)``, the penultimate
    activations (``feature_dim`` of them), then the last linear layer ``classifier``."""

    feature_dim: int
    classifier: nn.Linear

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class _FlattenFC(Network):
    """What every network ends with: flatten, ``fc1`` - ReLU - ``fc2`` - ReLU (the
    ``feature_dim`` features), then ``classifier``. A subclass builds its ``trunk`` (the
    layers before the flatten), then calls :meth:`_add_fc`."""

    feature_dim: int

    def _add_fc(self, flat: int, hidden: int, num_classes: int) -> None:
        # after the trunk's layers: the registration order fixes the seeded initialisation
        self.fc1 = nn.Linear(flat, hidden)
        self.fc2 = nn.Linear(hidden, self.feature_dim)
        self.classifier = nn.Linear(self.feature_dim, num_classes)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc2(F.relu(self.fc1(self.trunk(x).flatten(1)))))


class LeNet(_FlattenFC):
    """conv 6@5x5 - maxpool 2 - conv 16@5x5 - maxpool 2 - fc 120 - fc 84 - fc K, ReLU, 32x32 input."""

    feature_dim = 84

    def __init__(self, *, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self._add_fc(16 * 5 * 5, 120, num_classes)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return F.max_pool2d(F.relu(self.conv2(x)), 2)


class AlexNetSmall(_FlattenFC):
    """A small AlexNet-style stack for 32x32 inputs: five 3x3 convs in three pooled stages, two fc."""

    feature_dim = 128

    def __init__(self, *, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 48, 3, padding=1)
        self.conv4 = nn.Conv2d(48, 32, 3, padding=1)
        self._add_fc(32 * 4 * 4, 256, num_classes)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 16x16
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 8x8
        x = F.relu(self.conv3(x))
        return F.max_pool2d(F.relu(self.conv4(x)), 2)  # 4x4


class MLP(_FlattenFC):
    """Flatten - fc 256 - fc 128 - fc K, ReLU."""

    feature_dim = 128

    def __init__(self, *, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self._add_fc(in_channels * 32 * 32, 256, num_classes)


class Classifier(nn.Module):
    """A network plus an optional fixed head on its logits."""

    def __init__(self, body: Network, head: FixedOrthogonalHead | None) -> None:
        super().__init__()
        self.body = body
        self.head = head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body.features(x)

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        feats = self.body.features(x)
        logits = self.body.classifier(feats)
        if self.head is not None:
            logits = self.head(logits)
        return (logits, feats) if return_features else logits
