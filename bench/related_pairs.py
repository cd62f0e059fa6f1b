"""How related two model-tuning problems on one space are, before any transfer run.

The warm-start benchmark's related model pair (``bench/warm_start.py``) was chosen by this
measure, the most related of the candidates below: the Spearman rank correlation of the two
objectives over the same scrambled Sobol points of the shared space, and how many of each
problem's best tenth of those points are also in the other's. It says nothing of any tuning
method.

    PYTHONPATH=service:. python -m bench.related_pairs
"""

from __future__ import annotations

import argparse

import numpy as np
from bench.bayes.problems import get_problem
from scipy.stats import qmc, spearmanr

from amtune.engine.spaces import SearchSpace

MODELS = ("SVM", "linear")
DATASETS = ("iris", "wine", "breast")
POINTS = 128


def sobol(dim: int, points: int) -> np.ndarray:
    """The first ``points`` scrambled Sobol points of the unit cube (seed 0)."""
    return np.asarray(qmc.Sobol(dim, scramble=True, seed=0).random(points))


def losses(name: str, points: int) -> np.ndarray:
    """The problem's losses at :func:`sobol`'s points."""
    problem = get_problem(name)
    space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
    return np.array([problem.loss(space.from_unit(u)) for u in sobol(space.dim, points)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=POINTS)
    args = parser.parse_args()
    top = -(-args.points // 10)  # a tenth, rounded up
    for model in MODELS:
        values = {data: losses(f"{model}_{data}_nll", args.points) for data in DATASETS}
        for data, value in values.items():
            problem = get_problem(f"{model}_{data}_nll")
            unit = sobol(
                SearchSpace.from_parameter_ranges(problem.parameter_ranges).dim, args.points
            )
            centre = unit[np.argsort(value)[:top]].mean(axis=0)
            print(f"{problem.name}: best tenth's centre (unit cube) {np.round(centre, 2).tolist()}")
        for i, first in enumerate(DATASETS):
            for second in DATASETS[i + 1 :]:
                rho = spearmanr(values[first], values[second])[0]
                best_first = set(np.argsort(values[first])[:top].tolist())
                best_second = set(np.argsort(values[second])[:top].tolist())
                print(
                    f"{model}_{first}_nll / {model}_{second}_nll: Spearman {rho:+.2f}, "
                    f"best tenth shared {len(best_first & best_second)}/{top}"
                )


if __name__ == "__main__":
    main()
