"""A Gaussian process over (configuration, log resource) for ``Strategy=Hyperband``.

Every job contributes its objective at every *level* it reached, so a job that ASHA stopped at
the first rung informs the model through the value it showed there, and the model learns from
all jobs how values at low resource relate to values at high resource (MOBSTER's idea; its
kernel here is the engine's ARD Matern-5/2 with the resource as one more input, not MOBSTER's
exponential-decay kernel). The next configuration maximises expected improvement *at the
acquisition level*, so it is chosen for the value it is predicted to reach there, not for how
fast it starts.

1. Levels: the job curves' lowest first step ``l0`` times ``3**k`` below the highest step any
   job reported, and that highest step (ASHA's rungs when the app's rungs start at the lowest
   reported step). A job's value at a level it reached is :func:`value_at` (its last value at a
   step no later than the level). The resource input is ``log(level / l0)`` scaled to [0, 1]
   by the highest level.
2. Targets: every (job, level) value, warped together by the engine's :func:`warp_targets`;
   the resource input carries the trend of values along the curves.
3. The acquisition level is the highest level (the most training any job has had; at the end
   of a search MaxResource). EI's incumbent is the best value observed there, or the lowest
   posterior mean at an observed configuration when that level has fewer than two values.
   Running jobs are kriging believers at that level (:mod:`.bayesian.batch`), so parallel
   workers are sent to distinct regions; finished and running configurations are never
   proposed again.
4. Too few jobs with a curve (fewer than the Bayesian engine's initial design): the caller
   uses its fallback. A numerical failure raises :class:`ModelError` or a numpy error for the
   caller to handle.
"""

from __future__ import annotations

import math

import numpy as np

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies.base import History
from amtune.engine.strategies.bayesian.batch import condition_on_pending
from amtune.engine.strategies.bayesian.encoding import Encoder
from amtune.engine.strategies.bayesian.gp import ModelError, Posterior, fit_hyper
from amtune.engine.strategies.bayesian.kernel import FloatArray
from amtune.engine.strategies.bayesian.optimize import N_CENTRES, Acquisition, candidates
from amtune.engine.strategies.bayesian.strategy import _subsample
from amtune.engine.strategies.bayesian.transforms import warp_targets

Curve = tuple[tuple[float, float], ...]

LEVEL_RATIO = 3.0
"""Levels grow by this factor (the app's Hyperband eta)."""
MAX_FIT = 64
"""Hyperparameters are fitted on at most this many (job, level) values: ASHA's jobs are many
and cheap, and a claim must stay cheap (the Bayesian engine's subsample rule picks them)."""
MAX_MODEL = 192
"""The posterior conditions on at most this many (job, level) values."""


class _AtLevel(Encoder):
    """The configuration encoder with the resource input fixed at one level (last feature), so
    the engine's candidate search and refinement optimise configurations at that level."""

    def __init__(self, space: SearchSpace, level: float) -> None:
        super().__init__(space)
        self.level = level
        self.n_features += 1

    def features(self, u: FloatArray) -> FloatArray:
        out = super().features(u)  # sized n_features: the last column is the resource's
        out[:, -1] = self.level
        return out


def levels_of(curves: list[Curve]) -> tuple[float, ...]:
    """The levels of point 1 of the module docstring (empty when no curve has a point)."""
    firsts = [c[0][0] for c in curves if c]
    if not firsts:
        return ()
    low = max(min(firsts), 1e-12)
    top = max(c[-1][0] for c in curves if c)
    levels: list[float] = []
    level = low
    while level < top and len(levels) < 64:
        levels.append(level)
        level *= LEVEL_RATIO
    levels.append(top)
    return tuple(levels)


def value_at(curve: Curve, level: float) -> float | None:
    """The curve's last value at a step no later than ``level``, if it reached ``level``."""
    if not curve or curve[-1][0] < level:
        return None
    found: float | None = None
    for step, value in curve:
        if step > level:
            break
        found = value
    return curve[0][1] if found is None else float(found)


def suggest_joint(
    space: SearchSpace,
    history: History,
    finished_curves: list[Curve],
    pending_curves: list[Curve],
    used: set[tuple[str, ...]],
    *,
    seed: int,
    index: int,
) -> Config | None:
    """The configuration with the highest EI at the acquisition level (module docstring).

    ``finished_curves`` and ``pending_curves`` are the clean curves parallel to
    ``history.finished`` and ``history.pending``; ``used`` the keys never to propose."""
    encoder = Encoder(space)
    levels = levels_of([*finished_curves, *pending_curves])
    if not levels:
        raise ModelError("no curve has a point")
    low, top = levels[0], levels[-1]

    def resource(level: float) -> float:
        """The resource input: 0 at the lowest level, 1 at the highest (1 if only one)."""
        return math.log(level / low) / math.log(top / low) if top > low else 1.0

    units: list[FloatArray] = []
    resources: list[float] = []
    values: list[float] = []
    configs = [*(t.config for t in history.finished), *history.pending]
    for config, curve in zip(configs, [*finished_curves, *pending_curves], strict=True):
        if not curve:
            continue
        try:
            u = space.to_unit(config)
        except ValueError:
            continue
        for level in levels:
            value = value_at(curve, level)
            if value is None:
                break
            units.append(u)
            resources.append(resource(level))
            values.append(value)
    if len(values) < 2:
        raise ModelError("too few observations")
    rng = np.random.default_rng([seed, index, len(history.finished), 0x10B])
    objectives = np.asarray(values, dtype=float)
    keep = _subsample(objectives, MAX_MODEL, rng)
    u_obs = np.asarray(units)[keep]
    r_obs = np.asarray(resources)[keep]
    y = warp_targets(objectives[keep])
    x = np.hstack([encoder.features(u_obs), r_obs[:, None]])
    fit_idx = _subsample(objectives[keep], MAX_FIT, rng)
    hyper = fit_hyper(x[fit_idx], y[fit_idx], rng)
    posterior = Posterior(x, y, hyper)
    at_top = r_obs >= 1.0 - 1e-9
    at_level = _AtLevel(space, 1.0)
    if at_top.sum() >= 2:
        best = float(np.min(y[at_top]))
        centres = u_obs[at_top][np.argsort(y[at_top], kind="stable")[:N_CENTRES]]
    else:
        means = posterior.mean(at_level.features(u_obs))
        best = float(np.min(means))
        centres = u_obs[np.argsort(means, kind="stable")[:N_CENTRES]]
    posterior, best, _ = condition_on_pending(posterior, at_level, history.pending, best)
    acq = Acquisition(at_level, posterior, best)
    u, scores = candidates(acq, centres, rng)
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
    for i in order:
        config = space.from_unit(u[i])
        if encoder.key(config) not in used:
            return config
    raise ModelError("every candidate decodes to a finished or pending config")
