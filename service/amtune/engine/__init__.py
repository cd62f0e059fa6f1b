"""Pure tuning engine: search spaces and strategies.

numpy/scipy only; no I/O, no database, no clock. Every random choice is seeded by the caller,
so the same job seed and training-job index always yield the same suggestion.
"""

from __future__ import annotations

from amtune.engine.spaces import (
    CategoricalRange,
    Config,
    ContinuousRange,
    IntegerRange,
    Range,
    Scaling,
    SearchSpace,
)

__all__ = [
    "CategoricalRange",
    "Config",
    "ContinuousRange",
    "IntegerRange",
    "Range",
    "Scaling",
    "SearchSpace",
]
