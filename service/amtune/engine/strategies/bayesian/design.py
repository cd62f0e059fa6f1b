"""Model-free steps: the initial design and the fallback exploration step.

Both walk one scrambled Sobol sequence fixed by the job's seed, starting at the job index, and
return the first point whose config is neither finished nor pending. Indices 0..7 of a batch of
eight parallel workers therefore get the first eight points of a low-discrepancy sequence
(well spread, never equal). A fully discrete space falls back to its unused configs in grid
order, mixed by the seed, once the sequence only produces used points.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from amtune.engine.spaces import Config, SearchSpace

from .kernel import FloatArray

MAX_WALK = 4096


def _sequence(dim: int, seed: int, length: int) -> FloatArray:
    engine = qmc.Sobol(d=dim, scramble=True, rng=np.random.default_rng([seed, 0x5EED]))
    m = int(np.ceil(np.log2(max(length, 2))))
    return np.asarray(engine.random_base2(m)[:length], dtype=float)


def exploration_step(
    space: SearchSpace, used: set[tuple[str, ...]], *, seed: int, index: int
) -> Config | None:
    names = space.names
    if space.dim == 0:
        return None if () in used else {}
    for window in (64, MAX_WALK):  # a short walk almost always suffices
        points = _sequence(space.dim, seed, index + window)
        for u in points[index:]:
            config = space.from_unit(u)
            if tuple(config[n] for n in names) not in used:
                return config
    card = space.cardinality()
    if card is None:  # continuous: a uniform point is new with probability one
        rng = np.random.default_rng([seed, index, 0xFA11])
        for _ in range(64):
            config = space.from_unit(rng.random(space.dim))
            if tuple(config[n] for n in names) not in used:
                return config
        return None
    free = [i for i in range(card) if tuple(space.unrank(i)[n] for n in names) not in used]
    if not free:
        return None
    rng = np.random.default_rng([seed, index, 0x6121D])
    return space.unrank(free[int(rng.integers(len(free)))])
