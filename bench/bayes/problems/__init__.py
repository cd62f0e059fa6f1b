"""Problem registry: every problem by name, rebuilt on demand (so worker processes need only
the name, never a pickled closure)."""

from __future__ import annotations

from .base import Config, Problem
from .sklearn_tasks import sklearn_problem, sklearn_problem_names
from .synthetic import SYNTHETIC

__all__ = ["Config", "Problem", "all_problem_names", "get_problem"]


def all_problem_names() -> list[str]:
    """Synthetic problems first, then every Bayesmark model x data set x metric."""
    return [*SYNTHETIC, *sklearn_problem_names()]


def get_problem(name: str) -> Problem:
    """Build the problem called ``name``; ``KeyError`` if there is none."""
    if name in SYNTHETIC:
        return SYNTHETIC[name]()
    try:
        return sklearn_problem(name)
    except (KeyError, ValueError):
        raise KeyError(f"unknown problem {name!r}") from None
