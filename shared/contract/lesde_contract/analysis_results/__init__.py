"""The analysis results, typed once: what the analyzer stores and the gateway serves.

One definition per stored result, for every reader: the analyzer builds these models and
stores them with :func:`encode`; the gateway answers them (with its links added by
subclasses); ``AnalysisResult.typed`` parses one in process. Needs pydantic (the
``analysis`` or ``services`` extra).

* :class:`ExperimentAnalysis`: one experiment's analysis for one option set
  (:mod:`.experiment`, with its parts in :mod:`.tail`, :mod:`.estimates`,
  :mod:`.imitation` and :mod:`.geometry`);
* :class:`SimulationAnalysis` and :class:`PhaseDiagramAnalysis`: a simulation job's result
  (:mod:`.simulation`);
* :class:`SweepAnalysis`: a sweep's cross-child analysis (:mod:`.sweep`).
"""

from lesde_contract.analysis_results.encode import encode, finite_json
from lesde_contract.analysis_results.experiment import EXPERIMENT_FORMAT_VERSION, ExperimentAnalysis
from lesde_contract.analysis_results.simulation import PhaseDiagramAnalysis, SimulationAnalysis
from lesde_contract.analysis_results.sweep import SWEEP_FORMAT_VERSION, SweepAnalysis

__all__ = [
    "EXPERIMENT_FORMAT_VERSION", "SWEEP_FORMAT_VERSION", "ExperimentAnalysis", "SimulationAnalysis", "PhaseDiagramAnalysis",
    "SweepAnalysis", "encode", "finite_json",
]  # fmt: skip
