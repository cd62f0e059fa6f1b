"""Summaries of a finished search for people to look at: importance, binned grids, samples.

Pure numpy, deterministic. Inputs are hyperparameters already coded into the unit cube
(:meth:`SearchSpace.to_unit`) and objectives to minimise.

Importance is the first-order share of the objective's variance that each hyperparameter
explains on its own: the variance of the objective's mean within bins of that
hyperparameter (its main effect), over the objective's total variance, the correlation ratio
eta squared. It is what fANOVA's first-order terms estimate, measured on the observed jobs
rather than on a fitted forest, so it needs no model and costs O(n * d). Its known bias:
with few jobs per bin, noise alone gives each bin a spread of means, so the expected value
under no effect, (bins - 1) / (n - 1), is subtracted and the result floored at zero.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _bins_of(column: FloatArray, bins: int) -> npt.NDArray[np.int64]:
    return np.minimum((np.clip(column, 0.0, 1.0) * bins).astype(np.int64), bins - 1)


def importance(units: FloatArray, objectives: FloatArray, bins: int = 10) -> FloatArray:
    """One share in [0, 1] per column of ``units`` (shape (n, d)); zeros when n < 3."""
    n, d = units.shape
    out = np.zeros(d)
    if n < 3:
        return out
    y = objectives - objectives.mean()
    total = float(np.dot(y, y))
    if total <= 0.0:
        return out
    bins = max(2, min(bins, n // 3))
    for j in range(d):
        which = _bins_of(units[:, j], bins)
        counts = np.bincount(which, minlength=bins)
        sums = np.bincount(which, weights=y, minlength=bins)
        used = counts > 0
        between = float(np.sum(sums[used] ** 2 / counts[used]))
        chance = (int(used.sum()) - 1) / (n - 1)
        out[j] = max(0.0, between / total - chance)
    return out


def grid_means(
    x: FloatArray, y: FloatArray, values: FloatArray, bins: int = 20
) -> list[list[float | None]]:
    """The mean of ``values`` over a ``bins`` x ``bins`` grid of the unit square (x, y).

    Rows are y bins, columns x bins; an empty cell is None. A contour of thousands of jobs
    thus ships bins**2 numbers, whatever the number of jobs."""
    bx = _bins_of(x, bins)
    by = _bins_of(y, bins)
    cell = by * bins + bx
    counts = np.bincount(cell, minlength=bins * bins)
    sums = np.bincount(cell, weights=values, minlength=bins * bins)
    grid: list[list[float | None]] = []
    for row in range(bins):
        line: list[float | None] = []
        for col in range(bins):
            k = row * bins + col
            line.append(float(sums[k] / counts[k]) if counts[k] else None)
        grid.append(line)
    return grid


def sample_indices(n: int, limit: int, keep: npt.ArrayLike = ()) -> npt.NDArray[np.int64]:
    """At most ``limit`` indices of ``range(n)``, evenly spread, always including ``keep``.

    Sorted. A plot of 10,000 jobs then draws ``limit`` of them, the best ones among them."""
    kept = np.unique(np.asarray(keep, dtype=np.int64))
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    spread = np.linspace(0, n - 1, num=max(1, limit - len(kept))).round().astype(np.int64)
    return np.unique(np.concatenate([spread, kept]))


def best_so_far_steps(times: FloatArray, objectives: FloatArray) -> list[tuple[float, float]]:
    """The running minimum as its change points (time order): a step line of few points."""
    order = np.argsort(times, kind="stable")
    steps: list[tuple[float, float]] = []
    best = np.inf
    for i in order:
        if objectives[i] < best:
            best = float(objectives[i])
            steps.append((float(times[i]), best))
    return steps


def downsample_curve(steps: FloatArray, values: FloatArray, limit: int) -> FloatArray:
    """A learning curve of at most ``limit`` points: the last point of each of ``limit``
    equal step ranges (the value reached by the end of the range), as an (m, 2) array."""
    if len(steps) <= limit:
        return np.column_stack([steps, values])
    edges = np.linspace(steps.min(), steps.max(), limit + 1)
    which = np.minimum(np.searchsorted(edges, steps, side="right") - 1, limit - 1)
    last = np.flatnonzero(np.r_[which[1:] != which[:-1], True])
    return np.column_stack([steps[last], values[last]])
