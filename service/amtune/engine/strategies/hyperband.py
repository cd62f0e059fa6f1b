"""HyperbandStrategy: which configuration an asynchronous-successive-halving job tries next.

AMT's ``Strategy=Hyperband`` is ASHA (the app stops jobs at rungs, :mod:`amtune.engine.stopping`)
with a model choosing new configurations. This module is that model; it never stops anything.

Two models, both fed by the curves every job reported (``Trial.curve`` and
``History.pending_curves``; no MinResource, MaxResource or eta is needed, the levels come from
the steps reported):

* ``model="joint"`` (the default): one Gaussian process over (configuration, log resource),
  fitted on every job's value at every level it reached, with expected improvement taken at the
  highest level (:mod:`.joint_model`). A job ASHA stopped at the first rung informs the model
  through what it showed there.
* ``model="level"``: a Gaussian process at one resource level, the highest one at least
  ``initial_design_size(dim)`` jobs reached (BOHB's rule), through the Bayesian engine
  unchanged (:func:`level_history` says what it sees). Kept as the benchmark's ablation.

Why the joint model is the default: in the level model every job that ended below the level
counts as no better than the worst job there, so the model, told nothing else about them, keeps
its suggestions on the incumbent; on the benchmark's tabulated problems those replays pass every
rung at full cost. The joint model reads the values the stopped jobs showed and ranks
configurations by the value predicted at the top. ``bench/MULTIFIDELITY.md`` has the figures.

Level model, in detail:

1. A job *reached* a level if it reported a step at or beyond it; its value there is the last
   value it reported at a step no later than the level (its first value if it reported none
   that early).
2. The level is the highest one that at least ``initial_design_size(dim)`` jobs reached. Until
   enough jobs reached even the lowest level, suggestions are the Bayesian engine's
   quasi-random initial design.
3. Jobs that *ended* below the level count as observed at the level with the worst value any
   job has there, or with their own last value if that is worse (``believe_stopped``: as
   kriging believers instead). *Running* jobs below the level are kriging believers; running
   jobs that reached the level count as observed there. Failed jobs with no curve and no
   objective count as failures; a finished job with an objective and no curve counts as
   observed at the highest level.

Warm start. An IdenticalDataAndAlgorithm parent's training jobs arrive as finished trials ahead
of the child's own, with their final objective and no curve (a parent keeps only its final
values); both models count each as observed at the highest level, so once as many parent jobs
as the initial design exist the child skips the quasi-random design. TransferLearning parents
(``History.transfer``, each on its own scale) are handed to the Bayesian engine as transfer
groups: a job with them uses the level model, which passes them through and lets them shape the
child's first suggestions. Neither kind of parent configuration is suggested again.

Both models: until ``initial_design_size(dim)`` jobs have a curve, the Bayesian engine's
quasi-random design; the returned config is never a finished or pending one; running jobs are
kriging believers, so parallel workers get distinct configurations; deterministic for
``(space, history, seed, index)``. A numerical failure of the joint model is logged and answered
with the quasi-random design's next point.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.bayesian import BayesianStrategy
from amtune.engine.strategies.bayesian.design import exploration_step
from amtune.engine.strategies.bayesian.encoding import Encoder
from amtune.engine.strategies.bayesian.gp import ModelError
from amtune.engine.strategies.bayesian.strategy import initial_design_size
from amtune.engine.strategies.bayesian.threads import single_threaded_blas
from amtune.engine.strategies.joint_model import suggest_joint, value_at

Curve = tuple[tuple[float, float], ...]

logger = logging.getLogger(__name__)


def model_level(curves: Sequence[Curve], needed: int) -> float | None:
    """The highest step that at least ``needed`` curves reached (the lowest step if none has
    that many); None when no curve has a point."""
    tops = sorted((c[-1][0] for c in curves if c), reverse=True)
    if not tops:
        return None
    if len(tops) < needed:
        return min(step for c in curves if c for step, _ in c[:1])
    return float(tops[needed - 1])


def level_history(history: History, dim: int, *, believe_stopped: bool = False) -> History:
    """The history as the Bayesian engine should see it: objectives at the model's level,
    everything else pending (module docstring, points 1-3)."""
    finished_curves: list[Curve] = [_clean(t.curve) if t.curve else () for t in history.finished]
    pending_curves = [_clean(history.pending_curve(i)) for i in range(len(history.pending))]
    top = max((c[-1][0] for c in [*finished_curves, *pending_curves] if c), default=math.inf)
    for i, trial in enumerate(history.finished):
        if not finished_curves[i] and trial.objective is not None:
            finished_curves[i] = ((top, float(trial.objective)),)
    level = model_level([*finished_curves, *pending_curves], initial_design_size(dim))
    if level is None:
        return History(
            finished=tuple(Trial(t.config, t.objective) for t in history.finished),
            pending=history.pending,
            transfer=history.transfer,
        )
    observed: list[tuple[Config, float | None]] = []
    stopped: dict[int, float] = {}
    """Index in ``observed`` -> the last value of a job that ended below the level."""
    believed: list[Config] = []
    for trial, curve in zip(history.finished, finished_curves, strict=True):
        value = value_at(curve, level)
        if value is None and curve:
            stopped[len(observed)] = curve[-1][1]
        observed.append((trial.config, value))
    for config, curve in zip(history.pending, pending_curves, strict=True):
        value = value_at(curve, level)
        if value is None:
            believed.append(config)
        else:
            observed.append((config, value))
    at_level = [v for i, (_, v) in enumerate(observed) if v is not None and i not in stopped]
    if not at_level or believe_stopped:
        believed.extend(observed[i][0] for i in stopped)
        observed = [o for i, o in enumerate(observed) if i not in stopped]
        stopped = {}
    worst = max(at_level, default=math.nan)
    trials = tuple(
        Trial(config, max(worst, stopped[i]) if i in stopped else value)
        for i, (config, value) in enumerate(observed)
    )
    return History(finished=trials, pending=tuple(believed), transfer=history.transfer)


def _clean(curve: Curve) -> Curve:
    """The curve's finite points, in step order."""
    points = [(float(s), float(v)) for s, v in curve if math.isfinite(s) and math.isfinite(v)]
    return tuple(sorted(points, key=lambda p: p[0]))


class HyperbandStrategy:
    """New configurations for ``Strategy=Hyperband`` (see the module docstring)."""

    def __init__(self, *, model: str = "joint", believe_stopped: bool = False) -> None:
        """``model``: ``"joint"`` or ``"level"`` (module docstring). ``believe_stopped``, level
        model only: jobs that ended below the level are kriging believers, not observations."""
        if model not in ("joint", "level"):
            raise ValueError(f"model must be 'joint' or 'level', got {model!r}")
        self._engine = BayesianStrategy()
        self._believe_stopped = believe_stopped
        self._model = model

    def needs_history(self, space: SearchSpace) -> bool:
        return True

    def suggest(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Config | None:
        if self._model == "joint":
            joint = self._suggest_joint(space, history, seed=seed, index=index)
            if joint is not None:
                return joint
        return self._engine.suggest(
            space,
            level_history(history, space.dim, believe_stopped=self._believe_stopped),
            seed=seed,
            index=index,
        )

    def _suggest_joint(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Config | None:
        if history.transfer:
            return None  # the level model hands the parents to the engine (module docstring)
        finished = [_clean(t.curve) for t in history.finished]
        pending = [_clean(history.pending_curve(i)) for i in range(len(history.pending))]
        top = max((c[-1][0] for c in [*finished, *pending] if c), default=1.0)
        for i, trial in enumerate(history.finished):
            if not finished[i] and trial.objective is not None and math.isfinite(trial.objective):
                finished[i] = ((top, float(trial.objective)),)  # a final value: the top level
        if sum(1 for c in [*finished, *pending] if c) < initial_design_size(space.dim):
            return None
        encoder = Encoder(space)
        used = {encoder.key(c) for c in history.configs()}
        try:
            with np.errstate(all="ignore"), single_threaded_blas():
                return suggest_joint(
                    space, history, finished, pending, used, seed=seed, index=index
                )
        except (ModelError, np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
            logger.warning(
                "Hyperband joint model failed (%s: %s); falling back to a quasi-random "
                "exploration step (seed=%d, index=%d)",
                type(exc).__name__,
                exc,
                seed,
                index,
            )
            return exploration_step(space, used, seed=seed, index=index)
