"""Maximising log-EI over the mixed space.

Three sources of candidates, all snapped so every candidate is a point that exists:

1. scrambled Sobol points over the whole cube (global coverage);
2. perturbations of the best observed points at several scales, categoricals resampled with
   probability 1/dim (exploitation; Bayesmark-style scores reward the final best value);
3. the best few of those, refined by one *batched* L-BFGS-B run on the numeric coordinates
   (integers relaxed, then snapped; categoricals held), followed by an exhaustive sweep of
   every discrete coordinate of the winner (all values for small ranges, +-1, +-2 otherwise),
   which recovers what rounding after a continuous step misses.

For a fully discrete space small enough to enumerate, every unused point is scored instead:
exact, and cheaper than searching.

The local candidates (2) keep the search on the incumbent's plateau on step-function
objectives (DT_wine_nll) and are what refines a basin (Ackley-5); removing them helps the
first and costs the second more. Plateau-triggered variants are in ``bench/RESULTS.md``,
"Tried and not kept".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc

from .acquisition import log_ei, log_ei_with_grad
from .encoding import Encoder
from .gp import Posterior
from .kernel import FloatArray

N_SOBOL = 1024
N_LOCAL = 512
N_CENTRES = 5
N_REFINE = 10
REFINE_MAXITER = 40
LOCAL_SCALES = (0.005, 0.02, 0.08)


@dataclass(frozen=True)
class Acquisition:
    encoder: Encoder
    posterior: Posterior
    best: float

    def __call__(self, u: FloatArray) -> FloatArray:
        if len(u) == 0:
            return np.empty(0)
        mean, var = self.posterior.predict(self.encoder.features(u))
        values = log_ei(mean, var, self.best)
        return np.where(np.isfinite(values), values, -np.inf)


@lru_cache(maxsize=32)
def _sobol_base(dim: int, m: int) -> FloatArray:
    """Unscrambled Sobol points (a pure function of its arguments, so caching is safe)."""
    points = qmc.Sobol(d=dim, scramble=False).random_base2(m)
    points.setflags(write=False)
    return np.asarray(points)


def sobol_points(dim: int, n: int, rng: np.random.Generator) -> FloatArray:
    """``n`` Sobol candidates randomised by a seeded shift modulo 1 (Cranley-Patterson).

    Building a scrambled Sobol engine costs ~10 ms; shifting a cached base set is free and keeps
    the low-discrepancy coverage that matters for candidate generation."""
    m = int(np.ceil(np.log2(max(n, 2))))
    base = _sobol_base(dim, m)[:n]
    return np.asarray((base + rng.random(dim)) % 1.0, dtype=float)


def local_candidates(
    encoder: Encoder, centres: FloatArray, n: int, rng: np.random.Generator
) -> FloatArray:
    if len(centres) == 0 or n == 0:
        return np.empty((0, encoder.space.dim))
    dim = encoder.space.dim
    pick = rng.integers(0, len(centres), size=n)
    u = centres[pick].copy()
    scales = rng.choice(np.array(LOCAL_SCALES), size=(n, 1))
    num = encoder.numeric
    if num:
        u[:, num] += scales * rng.standard_normal((n, len(num)))
        # reflect instead of clip, so the bounds do not collect a pile of candidates
        u[:, num] = np.abs(u[:, num])
        u[:, num] = 1.0 - np.abs(1.0 - u[:, num])
    cat = encoder.categorical
    if cat:
        flip = rng.random((n, len(cat))) < 1.0 / dim
        fresh = rng.random((n, len(cat)))
        block = u[:, cat]
        block[flip] = fresh[flip]
        u[:, cat] = block
    return encoder.snap(u)


def refine(acq: Acquisition, starts: FloatArray) -> FloatArray:
    """Batched L-BFGS-B on the numeric coordinates of each start (the starts are independent,
    so the sum of their objectives has a block-diagonal Hessian and one run serves all)."""
    num = acq.encoder.numeric
    if not num or len(starts) == 0:
        return starts
    r, p = len(starts), len(num)
    base = starts.copy()

    def objective(z: FloatArray) -> tuple[float, FloatArray]:
        u = base.copy()
        u[:, num] = z.reshape(r, p)
        f = acq.encoder.features(u)
        mean, var, dmean, dvar = acq.posterior.predict_with_grad(f)
        val, grad = log_ei_with_grad(mean, var, dmean, dvar, acq.best)
        if not (np.all(np.isfinite(val)) and np.all(np.isfinite(grad))):
            return 1e10, np.zeros_like(z)
        return -float(np.sum(val)), -grad[:, :p].ravel()

    res = minimize(
        objective,
        base[:, num].ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (r * p),
        options={"maxiter": REFINE_MAXITER},
    )
    out = base.copy()
    if np.all(np.isfinite(res.x)):
        out[:, num] = np.asarray(res.x).reshape(r, p)
    return acq.encoder.snap(out)


def candidates(
    acq: Acquisition, centres: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Scored candidate points (unit space) for a space with a continuous or huge range."""
    enc = acq.encoder
    u = np.vstack(
        [
            enc.snap(sobol_points(enc.space.dim, N_SOBOL, rng)),
            local_candidates(enc, centres, N_LOCAL, rng),
        ]
    )
    scores = acq(u)
    order = np.argsort(-scores, kind="stable")[:N_REFINE]
    refined = refine(acq, u[order])
    refined_scores = acq(refined)
    winner = refined[int(np.argmax(refined_scores))]
    sweep = enc.neighbours(winner)
    u = np.vstack([u, refined, sweep])
    scores = np.concatenate([scores, refined_scores, acq(sweep)])
    return u, scores
