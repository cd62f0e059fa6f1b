"""HyperbandStrategy: which configuration an asynchronous-successive-halving job tries next.

AMT's ``Strategy=Hyperband`` is ASHA (the app stops jobs at rungs, :mod:`amtune.engine.stopping`)
with a model choosing new configurations. This module is that model; it never stops anything.

The model is a Gaussian process fitted at one resource level, the *highest level with enough
data* (BOHB's rule, and the "rung-level" variant of MOBSTER): every job that reached that level
contributes its objective there, and the Bayesian engine (:mod:`.bayesian`, GP + log-EI, its
input encoding, output warping and MAP fit) proposes the next configuration from them. So:

1. The levels are the steps the curves report (``Trial.curve`` and ``History.pending_curves``);
   no MinResource, MaxResource or eta is needed, the resource bounds come from the data. A job
   *reached* a level if it reported a step at or beyond it; its value there is the last value it
   reported at a step no later than the level (its first value if it reported none that early).
2. The level is the highest one that at least ``initial_design_size(dim)`` jobs reached (the
   number of trials the Bayesian engine needs before it fits a GP). Early in a search that is
   the lowest rung, where every job reports; as jobs pass rungs it climbs towards MaxResource,
   where the values are the ones the user is scored on. Until enough jobs reached even the lowest
   level, suggestions are the Bayesian engine's quasi-random initial design.
3. Jobs that *ended* below the level (ASHA stopped them at a lower rung, or they failed after
   some steps) count as observed at the level with the worst value any job has there, or with
   their own last value if that is worse: ASHA judged them worse than the jobs it let climb, and
   their own value keeps the order among them (a job stopped with a loss of 2.0 is taken as
   worse than one stopped at 0.6). *Running* jobs below the level are kriging believers (the
   engine's pending jobs: their neighbourhood loses its expected improvement, so no other
   worker is sent next to them); running jobs that reached the level count as observed there.
   Failed jobs with no curve and no objective count as failures (the engine's worst value); a
   finished job with an objective and no curve counts as observed at the highest level.
4. The returned config is never a finished or pending one; deterministic for
   ``(space, history, seed, index)`` because the engine is.
5. Warm start. An IdenticalDataAndAlgorithm parent's training jobs arrive as finished trials
   ahead of the child's own, with their final objective and no curve (a parent keeps only its
   final values): by point 3 each counts as observed at the highest level, a parent job ASHA
   stopped early at its last value, which is the worse one as ASHA judged it. Once as many
   parent jobs as the initial design exist, the model therefore starts at the highest level
   the child's jobs reached, with the parents' final values in it, and the child skips the
   quasi-random design. TransferLearning parents pass through unchanged as the engine's
   transfer groups (``History.transfer``): each rescaled on its own, they shape the child's
   first suggestions. Neither kind of parent configuration is suggested again.

Why this model and not a joint GP over (configuration, resource) with a learning-curve kernel
(MOBSTER's exponential-decay kernel): with ASHA most observations sit at the lowest rungs, the
joint GP must learn how values change with resource before it can rank configs at the top, and
its cost grows with every reported step rather than with the number of configs. The level GP
reuses the engine's tested fit and search unchanged, costs what a Bayesian suggestion costs, and
its data are the values ASHA itself ranks by. Its weakness is the crossing curve: at a low level
it favours fast starters; it moves to higher levels as soon as enough jobs got there.

Why stopped jobs are observations and not believers: ASHA with eta 3 stops about two jobs in
three at the first rung, so after a few hundred steps most configs have ended below the level.
As believers they cost a Cholesky row each on every claim without entering the fit, and the
model, told nothing about them but "somebody tried this", kept proposing their neighbours: on
the crossing problem of the benchmark (seed 0, 4 workers) 348 jobs and a score of 66 at the
budget, against 172 jobs and 100 with them observed at the level's worst value. Raising that to
the job's own last value when worse was chosen for the order it keeps among stopped jobs, not
for a measured gain (one seed: 85 against 90, while seeds differ by 35 points).

Measured (``bench/MULTIFIDELITY.md``, 4 asynchronous workers, 10 seeds, budget of 32 full
trainings): on the closed-form crossing-curve problem this model beats random configurations
under the same ASHA rule by 7.4 +- 3.3 points of score at the budget and ties full-training
Bayesian. On the three tabulated scikit-learn problems it *loses* to random configurations under
ASHA by 3 to 18 points. Its suggestions cluster on the incumbent, and on a 256-entry table that
replays the incumbent's curve through every rung. Part of that is the table's coarseness, part is
the model exploiting too early. Stopped jobs as believers, one random configuration in three,
and fitting only the jobs that reached the level did no better there. A model of how curves
cross (MOBSTER's resource kernel) is the next thing to try.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.bayesian import BayesianStrategy
from amtune.engine.strategies.bayesian.strategy import initial_design_size

Curve = tuple[tuple[float, float], ...]


def value_at(curve: Curve, level: float) -> float | None:
    """The curve's value at ``level`` if the job reached it, else None (see the module doc)."""
    if not curve or curve[-1][0] < level:
        return None
    value = curve[0][1]
    for step, v in curve:
        if step > level:
            break
        value = v
    return float(value)


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

    def __init__(self, *, believe_stopped: bool = False) -> None:
        """``believe_stopped``: treat jobs that ended below the model's level as kriging
        believers instead of observations (the alternative the module docstring weighs; kept
        for ``bench/multifidelity``'s ablation)."""
        self._engine = BayesianStrategy()
        self._believe_stopped = believe_stopped

    def needs_history(self, space: SearchSpace) -> bool:
        return True

    def suggest(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Config | None:
        return self._engine.suggest(
            space,
            level_history(history, space.dim, believe_stopped=self._believe_stopped),
            seed=seed,
            index=index,
        )
