"""Strategy registry: AMT strategy name -> implementation.

To add a strategy, import its class and add one entry to ``_REGISTRY``; ``SUPPORTED`` follows.
"""

from __future__ import annotations

from collections.abc import Callable

from amtune.engine.strategies.base import Config, History, Strategy, Trial
from amtune.engine.strategies.bayesian import BayesianStrategy
from amtune.engine.strategies.grid import GridSearch
from amtune.engine.strategies.hyperband import HyperbandStrategy
from amtune.engine.strategies.random_search import RandomSearch

__all__ = ["SUPPORTED", "Config", "History", "Strategy", "Trial", "get_strategy"]

_REGISTRY: dict[str, Callable[[], Strategy]] = {
    "Random": RandomSearch,
    "Grid": GridSearch,
    "Bayesian": BayesianStrategy,
    "Hyperband": HyperbandStrategy,
}

SUPPORTED: frozenset[str] = frozenset(_REGISTRY)
"""Strategy names :func:`get_strategy` accepts (AMT spelling)."""


def get_strategy(name: str) -> Strategy:
    """A fresh strategy for the AMT ``Strategy`` name; ``KeyError`` for an unknown name."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; supported: {sorted(SUPPORTED)}") from None
    return factory()
