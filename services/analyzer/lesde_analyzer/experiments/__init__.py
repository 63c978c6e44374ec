"""The experiment-analysis product: a stored experiment's chunks in, every number of the
paper, the series and the figures out.

``reader`` (manifest, small streams) and ``streams`` (one reducing pass per stream) read;
``xbar`` makes the Xbar(t) the estimators run on; ``estimates`` (with ``rates``,
``verdicts``, ``drift`` and ``imitations``), ``groupings``, ``record_geometry``, ``curves``
and ``class_means`` compute the typed pieces of :mod:`lesde_contract.analysis_results`, with
``notes`` saying what each number means; ``pipeline`` assembles them into the
``ExperimentAnalysis`` (and its stored JSON) and the series; ``job`` runs it for one option
set and stores the result and its state.
"""
