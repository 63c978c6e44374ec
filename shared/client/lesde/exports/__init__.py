"""Analysis results into experiment trackers: :func:`to_mlflow` and :func:`to_tensorboard`.

Each tracker is an optional extra (``pip install 'lesde[mlflow]'``, ``'lesde[tensorboard]'``),
imported only when its export runs, so importing this package needs neither.
"""

from lesde.exports.mlflow_export import mlflow_client, to_mlflow
from lesde.exports.tensorboard_export import to_tensorboard

__all__ = ["mlflow_client", "to_mlflow", "to_tensorboard"]
