"""Strategy "Bayesian": a Gaussian-process engine (numpy/scipy only, pure, deterministic).

Modules: ``kernel`` (Matern-5/2 ARD), ``gp`` (MAP fit, posterior), ``transforms`` (output
warping), ``encoding`` (unit cube <-> GP features), ``acquisition`` (log-EI), ``optimize``
(candidate search), ``batch`` (pending trials), ``design`` (initial / fallback points),
``strategy`` (the :class:`BayesianStrategy` entry point).
"""

from __future__ import annotations

from .strategy import BayesianStrategy

__all__ = ["BayesianStrategy"]
