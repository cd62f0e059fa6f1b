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
3. Jobs that did not reach the level, finished (stopped at a lower rung, failed after some steps)
   or still running, are given to the engine as *pending*: kriging believers, whose
   neighbourhood loses its expected improvement, so no worker is sent next to a config that is
   already being or has been tried. Running jobs that did reach the level count as observed
   there. Failed jobs with no curve and no objective count as failures (the worst value). A
   finished job with an objective and no curve counts as observed at the highest level.
4. The returned config is never a finished or pending one; deterministic for
   ``(space, history, seed, index)`` because the engine is.

Why this model and not a joint GP over (configuration, resource) with a learning-curve kernel
(MOBSTER's exponential-decay kernel): with ASHA most observations sit at the lowest rungs, the
joint GP must learn how values change with resource before it can rank configs at the top, and
its cost grows with every reported step rather than with the number of configs. The level GP
reuses the engine's tested fit and search unchanged, costs what a Bayesian suggestion costs, and
its data are the values ASHA itself ranks by. Its weakness is the crossing curve: at a low level
it favours fast starters; it moves to higher levels as soon as enough jobs got there.
``bench/MULTIFIDELITY.md`` measures it against random configurations under the same ASHA rule.
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


def level_history(history: History, dim: int) -> History:
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
        )
    observed: list[Trial] = []
    believed: list[Config] = []
    for trial, curve in zip(history.finished, finished_curves, strict=True):
        value = value_at(curve, level)
        if value is not None and math.isfinite(value):
            observed.append(Trial(trial.config, value))
        elif not curve:
            observed.append(Trial(trial.config, None))
        else:
            believed.append(trial.config)
    for config, curve in zip(history.pending, pending_curves, strict=True):
        value = value_at(curve, level)
        if value is not None and math.isfinite(value):
            observed.append(Trial(config, value))
        else:
            believed.append(config)
    return History(finished=tuple(observed), pending=tuple(believed))


def _clean(curve: Curve) -> Curve:
    """The curve's finite points, in step order."""
    points = [(float(s), float(v)) for s, v in curve if math.isfinite(s) and math.isfinite(v)]
    return tuple(sorted(points, key=lambda p: p[0]))


class HyperbandStrategy:
    """New configurations for ``Strategy=Hyperband`` (see the module docstring)."""

    def __init__(self) -> None:
        self._engine = BayesianStrategy()

    def needs_history(self, space: SearchSpace) -> bool:
        return True

    def suggest(
        self, space: SearchSpace, history: History, *, seed: int, index: int
    ) -> Config | None:
        return self._engine.suggest(
            space, level_history(history, space.dim), seed=seed, index=index
        )
