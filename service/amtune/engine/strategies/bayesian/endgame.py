"""The endgame: a trust region around the incumbent once the global search stops improving.

Global EI keeps paying for variance long after the basin of the best point is known, so late in
a run most claims go to regions the model is unsure about rather than to refining the best
point. Once ``patience`` finished trials in a row have not improved on the best, the search is
confined to a box around the incumbent (after TuRBO, Eriksson et al. 2019): the box's side is
``side`` times each numeric dimension's lengthscale over their geometric mean, so the box is
longer where the model varies slowly. The side halves after ``patience`` failures in a row and
doubles after ``SUCCESSES`` improvements in a row; once it falls below ``MIN_SIDE`` the region is
dropped and the global search resumes (a restart), until the next stall.

The state is replayed from the finished trials in the order they finished, so it is a pure
function of the history: two claims over the same history see the same region, and no state is
kept between claims.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernel import FloatArray

INITIAL_SIDE = 0.4
"""Side of a new region in the unit cube (geometric mean over numeric dimensions)."""
MIN_SIDE = 2.0**-6
MAX_SIDE = 0.8
SUCCESSES = 2
"""Improvements in a row that double the side."""
IMPROVEMENT = 1e-3
"""An improvement must beat the best by this fraction of the observed range."""
SEPARATION = 0.1
"""Within a region, a claim keeps this fraction of the box's width from every pending job."""


def patience(dim: int) -> int:
    """Finished trials without improvement that start (and then halve) a region: TuRBO's
    ``max(4, dim)``."""
    return max(4, dim)


def region_side(objectives: FloatArray, n_design: int, dim: int) -> float | None:
    """The region's side after the finished trials' objectives (in finishing order, NaN for a
    failure), or None while the global search is still improving (or after a restart).

    The first ``n_design`` trials only set the best; the replay starts after them."""
    finite = np.isfinite(objectives)
    if finite.sum() < 2:
        return None
    lo, hi = float(np.min(objectives[finite])), float(np.max(objectives[finite]))
    tol = IMPROVEMENT * (hi - lo)
    head = objectives[:n_design]
    best = float(np.min(head[np.isfinite(head)])) if np.isfinite(head).any() else np.inf
    wait = patience(dim)
    side: float | None = None
    stall = successes = failures = 0
    for y in objectives[n_design:]:
        improved = bool(np.isfinite(y) and y < best - tol)
        if np.isfinite(y):
            best = min(best, float(y))
        if side is None:
            stall = 0 if improved else stall + 1
            if stall >= wait:
                side, successes, failures = INITIAL_SIDE, 0, 0
            continue
        successes, failures = (successes + 1, 0) if improved else (0, failures + 1)
        if successes >= SUCCESSES:
            side, successes = min(2.0 * side, MAX_SIDE), 0
        if failures >= wait:
            side, failures = side / 2.0, 0
        if side < MIN_SIDE:
            side, stall = None, 0
    return side


@dataclass(frozen=True)
class Region:
    """A box in the unit cube (numeric coordinates; categorical ones span the whole cube)."""

    centre: FloatArray
    lower: FloatArray
    upper: FloatArray

    def contains(self, u: FloatArray) -> FloatArray:
        eps = 1e-12
        return np.asarray(np.all((u >= self.lower - eps) & (u <= self.upper + eps), axis=1))

    def apart_from(self, u: FloatArray, pending: FloatArray, numeric: list[int]) -> FloatArray:
        """Which points keep :data:`SEPARATION` of the box's width (in every numeric coordinate
        at once, the max norm) from every pending point.

        In a small box the kriging believers alone do not spread the workers: the box is nearly
        all within a lengthscale of the pending points, EI there is variance alone, and its
        maximum stays on the same face of the box, so four workers claimed points 1e-7 apart."""
        if len(pending) == 0 or not numeric or len(u) == 0:
            return np.ones(len(u), dtype=bool)
        width = np.maximum(self.upper[numeric] - self.lower[numeric], 1e-12)
        gaps = np.abs(u[:, None, numeric] - pending[None, :, numeric]) / width
        return np.asarray(np.all(np.max(gaps, axis=2) >= SEPARATION, axis=1))


def make_region(
    centre: FloatArray,
    side: float,
    numeric: list[int],
    lengthscales: FloatArray,
    min_width: FloatArray,
) -> Region:
    """The box of ``side`` around ``centre``, stretched by the numeric lengthscales (the first
    ``len(numeric)`` entries of ``lengthscales``), at least ``min_width`` wide per coordinate
    (an integer range's box must reach the neighbouring values)."""
    lower = np.zeros_like(centre)
    upper = np.ones_like(centre)
    if numeric:
        ls = np.asarray(lengthscales[: len(numeric)], dtype=float)
        weights = ls / np.exp(np.mean(np.log(ls)))
        half = np.maximum(0.5 * side * weights, min_width[numeric])
        lower[numeric] = np.clip(centre[numeric] - half, 0.0, 1.0)
        upper[numeric] = np.clip(centre[numeric] + half, 0.0, 1.0)
    return Region(centre=centre.copy(), lower=lower, upper=upper)
