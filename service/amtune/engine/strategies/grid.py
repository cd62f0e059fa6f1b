"""AMT ``Grid``: every combination of a discrete space exactly once, in grid order.

The next suggestion is the first grid point not yet finished or pending, so a training job that
is retried or replayed from the same history gets the same point and no point is ever skipped.
Seed and index are ignored: the order is the grid order.
"""

from __future__ import annotations

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies.base import History, used_ranks


class GridSearch:
    """``Grid`` strategy (discrete spaces only; ``ValueError`` for a continuous range)."""

    def needs_history(self, space: SearchSpace) -> bool:
        return True

    def suggest(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Config | None:
        total = space.cardinality()
        if total is None:
            raise ValueError("Grid search needs a space without continuous ranges")
        used = used_ranks(space, history)
        for position in range(total):
            if position not in used:
                return space.unrank(position)
        return None
