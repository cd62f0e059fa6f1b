"""Ranking-weighted ensemble of GPs for TransferLearning parents (RGPE; Feurer, Letham and
Bakshy, "Scalable meta-learning for Bayesian optimization", 2018).

One GP per parent, fitted on that parent's warped values alone, and one on the job's own
observations. The ensemble predicts ``mean = sum_i w_i mu_i`` and ``var = sum_i w_i^2 var_i``.
A model's weight is the probability that it orders the job's own observations best: over
bootstrap resamples of those observations, each model's ranking loss (pairs it orders the
wrong way round) is counted, the job's own model on its leave-one-out predictions (it has seen
the points), and each resample's weight goes to the model with the lowest loss (ties shared).
A parent whose median loss exceeds the 95th percentile of the own model's is given no weight
at all (the paper's guard against weight dilution). So a parent that ranks the child's data
well keeps steering the search where the child has not looked, one that misranks them drops
out, and the child falls back to its own model, as a cold job would.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.linalg import cho_solve

from .gp import Posterior
from .kernel import FloatArray

N_BOOTSTRAP = 200
"""Bootstrap resamples of the job's own observations the weights are estimated on."""
DILUTION_PERCENTILE = 95.0
"""A parent whose median ranking loss exceeds this percentile of the own model's is dropped."""


def misranked_pairs(predicted: FloatArray, observed: FloatArray) -> FloatArray:
    """``M[j, k] = 1`` where the prediction orders observations j and k the other way round
    from the observed values (strictly: j observed better than k, but not predicted better)."""
    better = observed[:, None] < observed[None, :]
    predicted_better = predicted[:, None] < predicted[None, :]
    return np.asarray(better & ~predicted_better, dtype=np.float64)


def leave_one_out_means(posterior: Posterior) -> FloatArray:
    """The GP's mean at each training point when that point is left out (closed form:
    ``y_i - alpha_i / [K^-1]_ii``), so the own model is judged on points it has not seen."""
    n = len(posterior.y)
    kinv_diag = np.diag(cho_solve((posterior.chol, True), np.eye(n), check_finite=False))
    return np.asarray(posterior.y - posterior.alpha / kinv_diag, dtype=np.float64)


def ranking_weights(
    parent_predictions: Sequence[FloatArray],
    own_loo: FloatArray,
    observed: FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    """Weights of the parents' models and, last, of the own model (summing to 1).

    ``parent_predictions[i]`` and ``own_loo`` are the models' means at the job's own
    observations ``observed`` (warped targets)."""
    n = len(observed)
    n_models = len(parent_predictions) + 1
    weights = np.zeros(n_models)
    if n < 2:
        weights[-1] = 1.0
        return weights
    matrices = [misranked_pairs(p, observed) for p in parent_predictions]
    matrices.append(misranked_pairs(own_loo, observed))
    samples = rng.integers(0, n, size=(N_BOOTSTRAP, n))
    counts = np.zeros((N_BOOTSTRAP, n))
    np.add.at(counts, (np.repeat(np.arange(N_BOOTSTRAP), n), samples.ravel()), 1.0)
    losses = np.stack([np.einsum("sj,jk,sk->s", counts, m, counts) for m in matrices], axis=1)
    own_bar = float(np.percentile(losses[:, -1], DILUTION_PERCENTILE))
    diluting = np.median(losses[:, :-1], axis=0) > own_bar
    losses[:, :-1][:, diluting] = np.inf
    best = losses == losses.min(axis=1, keepdims=True)
    weights = (best / best.sum(axis=1, keepdims=True)).mean(axis=0)
    return np.asarray(weights, dtype=np.float64)


class Ensemble:
    """``sum_i w_i GP_i``: the parents' posteriors and, last, the job's own (the target).

    Offers what the acquisition needs of a :class:`Posterior` (``mean``, ``predict``,
    ``predict_with_grad``, ``with_inputs``, ``y``). Pending points are believed by the own
    model alone (the parents saw none of them)."""

    def __init__(
        self, members: Sequence[Posterior], weights: FloatArray, believed: FloatArray | None = None
    ) -> None:
        keep = [i for i, w in enumerate(weights) if w > 0.0 or i == len(members) - 1]
        self.members = [members[i] for i in keep]
        self.weights = np.asarray([weights[i] for i in keep], dtype=np.float64)
        self.target = members[-1]
        self.believed = np.empty(0) if believed is None else believed
        self.y = np.concatenate([self.target.y[: len(self.target.y) - len(self.believed)],
                                 self.believed])
        self.x = self.target.x

    def mean(self, xc: FloatArray) -> FloatArray:
        out = np.zeros(len(xc))
        for w, m in zip(self.weights, self.members, strict=True):
            if w > 0.0:
                out += w * m.mean(xc)
        return out

    def predict(self, xc: FloatArray) -> tuple[FloatArray, FloatArray]:
        mean, var = np.zeros(len(xc)), np.zeros(len(xc))
        for w, m in zip(self.weights, self.members, strict=True):
            if w > 0.0:
                mu, v = m.predict(xc)
                mean += w * mu
                var += w * w * v
        return mean, np.maximum(var, 1e-12)

    def predict_with_grad(
        self, xc: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        mean, var = np.zeros(len(xc)), np.zeros(len(xc))
        dmean, dvar = np.zeros(xc.shape), np.zeros(xc.shape)
        for w, m in zip(self.weights, self.members, strict=True):
            if w > 0.0:
                mu, v, dmu, dv = m.predict_with_grad(xc)
                mean += w * mu
                var += w * w * v
                dmean += w * dmu
                dvar += w * w * dv
        return mean, np.maximum(var, 1e-12), dmean, dvar

    def with_inputs(self, x_extra: FloatArray) -> Ensemble:
        if len(x_extra) == 0:
            return self
        believed = self.mean(x_extra)
        target = self.target.with_inputs(x_extra)
        members = [*self.members[:-1], target]
        return Ensemble(members, self.weights, np.concatenate([self.believed, believed]))
