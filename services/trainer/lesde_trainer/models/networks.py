"""The networks, as plain nn.Modules (the naive loop and the generic engine use them).

Every network exposes ``features(x)`` (penultimate activations) and ``classifier``
(the last linear layer); ``forward(x) = head(classifier(features(x)))``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .head import FixedOrthogonalHead


class LeNet(nn.Module):
    """conv 6@5x5 - maxpool 2 - conv 16@5x5 - maxpool 2 - fc 120 - fc 84 - fc K, ReLU, 32x32 input."""

    feature_dim = 84

    def __init__(self, *, in_channels: int, num_classes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.classifier = nn.Linear(84, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return F.relu(self.fc2(x))


class AlexNetSmall(nn.Module):
    """A small AlexNet-style stack for 32x32 inputs: five 3x3 convs in three pooled stages, two fc."""

    feature_dim = 128

    def __init__(self, *, in_channels: int, num_classes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 48, 3, padding=1)
        self.conv4 = nn.Conv2d(48, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 4 * 4, 256)
        self.fc2 = nn.Linear(256, 128)
        self.classifier = nn.Linear(128, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 16x16
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 8x8
        x = F.relu(self.conv3(x))
        x = F.max_pool2d(F.relu(self.conv4(x)), 2)  # 4x4
        x = F.relu(self.fc1(x.flatten(1)))
        return F.relu(self.fc2(x))


class MLP(nn.Module):
    """Flatten - fc 256 - fc 128 - fc K, ReLU."""

    feature_dim = 128

    def __init__(self, *, in_channels: int, num_classes: int):
        super().__init__()
        self.fc1 = nn.Linear(in_channels * 32 * 32, 256)
        self.fc2 = nn.Linear(256, 128)
        self.classifier = nn.Linear(128, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc2(F.relu(self.fc1(x.flatten(1)))))


class Classifier(nn.Module):
    """A network plus an optional fixed head on its logits."""

    def __init__(self, body: nn.Module, head: FixedOrthogonalHead | None):
        super().__init__()
        self.body = body
        self.head = head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body.features(x)

    def forward(self, x: torch.Tensor, return_features: bool = False):
        feats = self.body.features(x)
        logits = self.body.classifier(feats)
        if self.head is not None:
            logits = self.head(logits)
        return (logits, feats) if return_features else logits
