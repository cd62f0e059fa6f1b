"""GP hyperparameters drawn from their posterior by hit-and-run slice sampling.

The MAP fit (:func:`.gp.fit_hyper`) commits to one explanation of the data. On step functions
of integer or fraction parameters (a tree's depth, its leaf size) several explanations fit
about equally well: long lengthscales and a large noise (the steps are noise around a flat
trend), or short lengthscales and no noise (the steps are real). The MAP pick between them
flips from one claim to the next, and when it picks the first, the posterior mean is flat, no
point is predicted to beat the incumbent's plateau and the search stays on it. Averaging
expected improvement over draws of the hyperparameters (as the seed's AMT does, by slice
sampling) keeps both explanations in view.

The sampler is hit-and-run slice sampling (Neal 2003, section 5.2) on the same log-space
parameters and log posterior as the MAP fit, started at the MAP point: each step picks a
uniformly random direction, draws a slice level under the current log density, and shrinks a
bracket of width one (in log units) along the direction until a point above the level is
found. One step costs a handful of log-posterior evaluations whatever the dimension, which
keeps a claim in 30 dimensions within its latency budget (coordinate-wise slice sampling would
cost one bracket per parameter).
"""

from __future__ import annotations

import numpy as np

from .gp import (
    LOG_LS_BOUNDS,
    LOG_NOISE_BOUNDS,
    LOG_SF2_BOUNDS,
    Hyper,
    neg_log_posterior,
    unpack,
)
from .kernel import FloatArray

N_DRAWS = 4
"""Draws beside the MAP point (the acquisition averages over all five)."""
THIN = 3
"""Hit-and-run steps between two kept draws."""
MAX_SHRINK = 30
"""Bracket shrinkages per step before the step keeps its current point."""


def hit_and_run_draws(
    hyper: Hyper,
    x: FloatArray,
    y: FloatArray,
    rng: np.random.Generator,
    n_draws: int = N_DRAWS,
    thin: int = THIN,
) -> list[Hyper]:
    """``n_draws`` hyperparameter draws from the posterior of ``(x, y)``, chain started at
    ``hyper`` (the MAP fit, without input warping); the bounds of the MAP fit hold."""
    dim = x.shape[1]
    theta = np.log(np.concatenate([hyper.lengthscales, [hyper.signal_var, hyper.noise_var]]))
    bounds = [LOG_LS_BOUNDS] * dim + [LOG_SF2_BOUNDS, LOG_NOISE_BOUNDS]
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])

    def log_density(t: FloatArray) -> float:
        return -neg_log_posterior(t, x, y, 0, with_grad=False)[0]

    current = log_density(theta)
    draws: list[Hyper] = []
    for _ in range(n_draws):
        for _ in range(thin):
            direction = rng.standard_normal(len(theta))
            direction /= np.linalg.norm(direction)
            level = current + np.log(rng.random())
            with np.errstate(divide="ignore"):
                to_lo, to_hi = (lo - theta) / direction, (hi - theta) / direction
            t_min = float(np.max(np.minimum(to_lo, to_hi)))
            t_max = float(np.min(np.maximum(to_lo, to_hi)))
            left = max(t_min, -rng.random())
            right = min(t_max, left + 1.0)
            for _ in range(MAX_SHRINK):
                t = left + rng.random() * (right - left)
                proposal = theta + t * direction
                value = log_density(proposal)
                if value > level:
                    theta, current = proposal, value
                    break
                if t < 0:
                    left = t
                else:
                    right = t
        draws.append(unpack(theta.copy(), dim, 0))
    return draws
