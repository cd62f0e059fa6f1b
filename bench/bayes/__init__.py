"""Bayesmark-style benchmark of amtune's strategies against open-source optimisers.

``python -m bench.bayes --profile quick`` runs it; see bench/README.md. Modules: ``problems``
(ParameterRanges + objectives), ``optimizers`` (ask/tell adapters and the space translations),
``runner`` (runs across processes), ``baselines`` (median-of-random and optimum estimates),
``scoring`` (the Bayesmark formula), ``report`` (JSON + RESULTS.md), ``service`` (end to end
through a running amtune service).
"""
