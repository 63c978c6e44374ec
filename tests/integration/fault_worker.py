"""The training worker as the fault tests run it: ``celery -A tests.integration.fault_worker worker -Q train``.

It is the real worker (:mod:`lesde_trainer.worker`: the same app, task and job code) with
two test-only additions, made here so that production code carries no test hook:

- the training setup (and with it torch) is imported by the pool's parent, so each
  forked child inherits it: a child that replaces a killed one resumes in about a
  second instead of importing torch again (~8 s on a busy 2-core machine), which keeps
  five kills in one run affordable;
- a *poison* job: an experiment whose spec is named :data:`~tests.integration.faults.POISON_NAME` kills the
  process training it with SIGKILL when its engine is built, after the job was started
  under its lease. It stands in for a job that runs its worker out of memory: a real
  OOM kill cannot be produced deterministically on a shared test machine, and SIGKILL
  is what the kernel's OOM killer sends. Every other spec trains as in production.
"""

from __future__ import annotations

import os
import signal

import lesde_trainer.datasets
import lesde_trainer.device
import lesde_trainer.engine  # noqa: F401
import lesde_trainer.setup as training_setup
import torch  # noqa: F401
from lesde_trainer.worker import app

from tests.integration.faults import POISON_NAME

__all__ = ["app"]

_build_engine = training_setup.build_engine


def _build_engine_unless_poison(spec, settings, store=None):
    if spec.name == POISON_NAME:
        os.kill(os.getpid(), signal.SIGKILL)
    return _build_engine(spec, settings, store)


# lesde_trainer.training_job imports build_engine from this module at each call, so the swap reaches it.
training_setup.build_engine = _build_engine_unless_poison
