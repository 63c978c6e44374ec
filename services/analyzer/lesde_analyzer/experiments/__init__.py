"""The experiment-analysis product: a stored experiment's chunks in, every number of the
paper, the series and the figures out.

``reader`` (manifest, small streams) and ``streams`` (one reducing pass per stream) read;
``compute`` holds the pure computations; ``summary`` assembles the JSON and the series,
with ``notes`` saying what each number means; ``job`` runs it for one option set and
stores the result and its state.
"""
