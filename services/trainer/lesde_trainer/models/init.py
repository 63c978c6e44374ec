"""Initial parameters as a pure function of (seed, trial), independent of device and ensemble.

The distribution is PyTorch's default for Conv2d/Linear (weights and biases uniform in
+-1/sqrt(fan_in)); values are drawn in float64 on the host from a Philox stream keyed by
(seed, trial) and cast, so trial r starts identically in any ensemble, alone or resumed.
"""

from __future__ import annotations

import math

import numpy as np
from torch import nn


def initial_parameters(module: nn.Module, *, seed: int, trial: int) -> dict[str, np.ndarray]:
    """Draw every trainable parameter of ``module`` for one trial.

    Returns
    -------
    params : dict name -> ndarray of the parameter's shape, float64
    """
    rng = np.random.Generator(np.random.Philox(key=[int(seed) & (2**64 - 1), 0x1417 + int(trial)]))
    params: dict[str, np.ndarray] = {}
    shapes = {name: tuple(p.shape) for name, p in module.named_parameters()}
    for name, shape in shapes.items():
        if len(shape) >= 2:
            fan_in = math.prod(shape[1:])
        else:  # a bias: fan_in of its layer's weight
            fan_in = math.prod(shapes[name.rsplit(".", 1)[0] + ".weight"][1:])
        bound = 1.0 / math.sqrt(fan_in)
        params[name] = rng.uniform(-bound, bound, size=shape)
    return params
