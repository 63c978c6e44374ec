"""Request specs: what a user POSTs. One definition, imported by every service."""

from lesde_contract.specs.experiment import (
    DatasetSpec,
    ExperimentSpec,
    ModelSpec,
    TrainingSpec,
    WorkCapExceeded,
    check_work_cap,
)
from lesde_contract.specs.sweep import SweepRejected, SweepSpec, plan_sweep

__all__ = [
    "DatasetSpec",
    "ExperimentSpec",
    "ModelSpec",
    "SweepRejected",
    "SweepSpec",
    "TrainingSpec",
    "WorkCapExceeded",
    "check_work_cap",
    "plan_sweep",
]
