"""Multimodal synthetic problems with known optima, and one in 20 dimensions.

Each has many local minima a model can be trapped in, which Branin, Hartmann-6 and the mixed
spaces do not:

* ``rastrigin4``: a bowl under a regular egg-crate of about 10 ** 4 local minima. The optimum is
  moved off the centre of the box (and off the lattice of the box's integer points), for the
  reason Ackley-5's is: an optimiser starting at the centre would otherwise score 100 at once.
* ``schwefel4``: the deceptive one. The second-best basins lie far from the best, which sits
  near a corner of the box (every coordinate at 420.97 of [-500, 500]).
* ``styblinski_tang5``: per coordinate a quartic with two basins (-2.90 the global, +2.75 a
  local one 14 units higher), so 2 ** 5 basins; the optimum is at 21 % of each range.
* ``styblinski_tang20``: the same function in 20 dimensions, the benchmark's problem with many
  dimensions. Of the classic scalable functions it is one on which a model can make progress
  in 64 evaluations: its large-scale shape is a smooth quartic bowl per coordinate (a GP with
  one lengthscale per dimension can see which half of each range is better), while the two
  basins per coordinate (2 ** 20 in all) keep it multimodal. Rastrigin, Schwefel or Levy in 20
  dimensions are egg-crates whose structure 64 evaluations do not resolve; every optimiser
  would score what random search scores, which measures nothing.

The optima are stated as constants (the argmin of one coordinate found to float precision) and
the tests check that the value at the stated argmin is the stated optimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np

from .base import Config, Problem, continuous, ranges


def _vector(config: Config, dim: int) -> np.ndarray:
    return np.array([float(config[f"x{i}"]) for i in range(1, dim + 1)])


def _on_box(
    name: str,
    dim: int,
    bound: float,
    objective: Callable[[Config], float],
    optimum: float,
    notes: str,
) -> Problem:
    """A problem on the box ``[-bound, bound] ** dim`` (ranges ``x1..xd``), its metric named
    after it."""
    return Problem(
        name=name,
        parameter_ranges=ranges(
            continuous_=[continuous(f"x{i}", -bound, bound) for i in range(1, dim + 1)]
        ),
        objective=objective,
        metric_name=name,
        optimum=optimum,
        notes=notes,
    )


# --------------------------------------------------------------------------- Rastrigin-4
RASTRIGIN_BOUND = 5.12
RASTRIGIN_SHIFT = (1.37, -2.21, 0.63, -3.08)


def _rastrigin4(config: Config) -> float:
    z = _vector(config, 4) - np.array(RASTRIGIN_SHIFT)
    return float(10.0 * z.size + np.sum(z**2 - 10.0 * np.cos(2.0 * math.pi * z)))


def rastrigin4() -> Problem:
    return _on_box(
        "rastrigin4",
        4,
        RASTRIGIN_BOUND,
        _rastrigin4,
        optimum=0.0,
        notes="4-d, about 10^4 local minima, optimum shifted to " + str(RASTRIGIN_SHIFT),
    )


# --------------------------------------------------------------------------- Schwefel-4
SCHWEFEL_BOUND = 500.0
SCHWEFEL_ARGMIN = 420.96874369616904
"""The maximiser of ``x sin(sqrt(|x|))`` on [0, 500]."""
SCHWEFEL_PEAK = 418.9828872724328
"""Its maximum, so that the function's minimum is 0."""


def _schwefel4(config: Config) -> float:
    x = _vector(config, 4)
    return float(SCHWEFEL_PEAK * x.size - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


def schwefel4() -> Problem:
    return _on_box(
        "schwefel4",
        4,
        SCHWEFEL_BOUND,
        _schwefel4,
        optimum=0.0,
        notes=f"4-d, deceptive: optimum near a corner, every x = {SCHWEFEL_ARGMIN:.4f}",
    )


# --------------------------------------------------------------------------- Styblinski-Tang
STYBLINSKI_TANG_BOUND = 5.0
STYBLINSKI_TANG_ARGMIN = -2.903534027771177
"""The root of ``4 x^3 - 32 x + 5`` in [-3, -2.5]: each coordinate's global minimiser."""
STYBLINSKI_TANG_MIN_PER_DIM = -39.16616570377141


def _styblinski_tang(config: Config, dim: int) -> float:
    x = _vector(config, dim)
    return float(0.5 * np.sum(x**4 - 16.0 * x**2 + 5.0 * x))


def _styblinski_tang_problem(dim: int) -> Problem:
    return _on_box(
        f"styblinski_tang{dim}",
        dim,
        STYBLINSKI_TANG_BOUND,
        partial(_styblinski_tang, dim=dim),
        optimum=dim * STYBLINSKI_TANG_MIN_PER_DIM,
        notes=f"{dim}-d, 2^{dim} basins, every x = {STYBLINSKI_TANG_ARGMIN:.4f} at the optimum",
    )


def styblinski_tang5() -> Problem:
    return _styblinski_tang_problem(5)


def styblinski_tang20() -> Problem:
    return _styblinski_tang_problem(20)


MULTIMODAL = {
    "rastrigin4": rastrigin4,
    "schwefel4": schwefel4,
    "styblinski_tang5": styblinski_tang5,
    "styblinski_tang20": styblinski_tang20,
}

ARGMIN: dict[str, list[float]] = {
    "rastrigin4": list(RASTRIGIN_SHIFT),
    "schwefel4": [SCHWEFEL_ARGMIN] * 4,
    "styblinski_tang5": [STYBLINSKI_TANG_ARGMIN] * 5,
    "styblinski_tang20": [STYBLINSKI_TANG_ARGMIN] * 20,
}
"""Where each problem's stated optimum lies (as ``x1..xd``), for the tests."""
