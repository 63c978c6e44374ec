"""The analysis worker as the fault tests run it: ``celery -A tests.integration.fault_analyzer worker -Q analyze``.

The real worker (:mod:`lesde_analyzer.worker`: the same app, tasks and job code) with one
test-only addition, made here so that production code carries no test hook: with
``LESDE_TEST_SLOW_ANALYSIS_S`` set, an analysis sleeps that long after it has taken its
lease and marked itself running, so that a test can kill the whole worker group in the
middle of it. A real analysis of a test-sized run takes seconds, too short to aim a kill.
"""

from __future__ import annotations

import os
import time

import lesde_analyzer.experiments.analysis_job as experiment_job
from lesde_analyzer.worker import app

__all__ = ["app"]

_analyse = experiment_job.analyse_experiment
_DELAY = float(os.environ.get("LESDE_TEST_SLOW_ANALYSIS_S", "0"))


def _slow_analyse(*args, **kwargs):
    time.sleep(_DELAY)
    return _analyse(*args, **kwargs)


if _DELAY > 0:
    experiment_job.analyse_experiment = _slow_analyse  # the job module calls it by this name
