"""AMT ``Random``: independent draws from the scaled search space.

Each training job gets its own generator seeded by ``(job seed, job index)``, so a suggestion
depends only on the job and its position, not on the order in which parallel creations happen.
Draws are i.i.d. uniform on the unit cube (hence log-uniform under ``Logarithmic`` scaling, and
so on), which is what AMT's Random strategy is: Latin hypercube or Sobol sequences would spread
points better but make each draw depend on the others, so they are deliberately not used here.

For a space of only integer and categorical ranges AMT never launches the same combination
twice: draws that hit a used combination are rejected, and if rejection keeps failing (a nearly
exhausted space) the config is chosen uniformly among the combinations still free.
"""

from __future__ import annotations

import numpy as np

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies.base import History, used_ranks

REJECTION_ATTEMPTS = 64
"""Draws tried before enumerating the free combinations; with at most half the space used,
rejection fails with probability below 2**-64."""


def generator(seed: int, index: int) -> np.random.Generator:
    """The generator for training job ``index`` of a job seeded with ``seed`` (both >= 0)."""
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    return np.random.default_rng([seed, index])


def _nth_free(sorted_used: list[int], n: int) -> int:
    """The ``n``-th (0-based) non-negative integer not in ``sorted_used``."""
    candidate = n
    for taken in sorted_used:
        if taken > candidate:
            break
        candidate += 1
    return candidate


class RandomSearch:
    """``Random`` strategy."""

    def needs_history(self, space: SearchSpace) -> bool:
        """Only discrete spaces avoid repeats; a continuous draw depends on seed and index."""
        return space.cardinality() is not None

    def suggest(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Config | None:
        rng = generator(seed, index)
        total = space.cardinality()
        if total is None:
            return space.from_unit(rng.random(space.dim))
        used = used_ranks(space, history)
        if len(used) >= total:
            return None
        for _ in range(REJECTION_ATTEMPTS):
            config = space.from_unit(rng.random(space.dim))
            if space.rank(config) not in used:
                return config
        free = int(rng.integers(total - len(used)))
        return space.unrank(_nth_free(sorted(used), free))
