"""Request specs: what a user POSTs. One definition, imported by every service."""

from lesde.specs.experiment import (
    DatasetSpec,
    ExperimentSpec,
    ModelSpec,
    TrainingSpec,
    WorkCapExceeded,
    check_work_cap,
)

__all__ = [
    "DatasetSpec",
    "ExperimentSpec",
    "ModelSpec",
    "TrainingSpec",
    "WorkCapExceeded",
    "check_work_cap",
]
