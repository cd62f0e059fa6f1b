"""Problem registry: every problem by name, rebuilt on demand (so worker processes need only
the name, never a pickled closure)."""

from __future__ import annotations

from .base import Config, Problem
from .multimodal import MULTIMODAL
from .sklearn_tasks import sklearn_problem, sklearn_problem_names
from .synthetic import SYNTHETIC
from .trees import tree_problem, tree_problem_names

__all__ = ["Config", "Problem", "all_problem_names", "get_problem"]


def all_problem_names() -> list[str]:
    """Synthetic problems first (the classics, then the multimodal ones), then every Bayesmark
    model x data set x metric, then the integer-only tree spaces."""
    return [*SYNTHETIC, *MULTIMODAL, *sklearn_problem_names(), *tree_problem_names()]


def get_problem(name: str) -> Problem:
    """Build the problem called ``name``; ``KeyError`` if there is none."""
    if name in SYNTHETIC:
        return SYNTHETIC[name]()
    if name in MULTIMODAL:
        return MULTIMODAL[name]()
    if name in tree_problem_names():
        return tree_problem(name)
    try:
        return sklearn_problem(name)
    except (KeyError, ValueError):
        raise KeyError(f"unknown problem {name!r}") from None
