"""``TuningJobCompletionCriteria``: when a tuning job has what it needs and ends early.

Each rule is stated here once; :func:`amtune.app.lifecycle.settle` applies them whenever a
tuning job that has criteria moves (a training job ended, a claim, the sweeper), and
:func:`details` renders ``TuningJobCompletionDetails`` from the same facts.

- ``TargetObjectiveMetricValue``: a training job ended with an objective at least as good as
  the target (``>=`` when maximising, ``<=`` when minimising).
- ``BestObjectiveNotImproving.MaxNumberOfTrainingJobsNotImproving = N``: the last N training
  jobs to end with an objective, in the order they ended, each failed to improve the best
  objective seen before it by at least 1 % of its magnitude (:data:`MIN_RELATIVE_IMPROVEMENT`).
  A smaller gain still moves the best value, it just does not reset the count. Jobs that end
  without an objective neither count nor reset.
- ``ConvergenceDetected.CompleteOnConvergence = Enabled``: the engine's model judged the
  search converged. Rule: the last :data:`CONVERGENCE_WINDOW` training jobs created were all
  chosen by the model (not an exploration step), and for each the model expected its pick to
  improve on the best observation by more than :data:`CONVERGENCE_THRESHOLD` of the
  objective's scale: the spread of the better half of the job's observations (best to median),
  at least a tenth of their whole range (the expected improvement the strategy stores with
  each job, :func:`amtune.engine.strategies.base.suggest_scored`; the yardstick is argued in
  ``engine/strategies/bayesian/strategy.py``). One low value can be luck; five in a row,
  each after new observations, mean the model has run out of hope. Strategies without a
  model (Random, Grid) store none, so they never converge early.

On completion the tuning job ends ``Completed`` at once and its running training jobs are told
to stop, as a Stop does (they end ``Stopped``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from amtune.app.domain import is_better

MIN_RELATIVE_IMPROVEMENT = 0.01
CONVERGENCE_WINDOW = 5
CONVERGENCE_THRESHOLD = 0.01


@dataclass(frozen=True)
class Facts:
    """What the rules read: objectives of the ended jobs in the order they ended, and the
    stored expected improvement of every job in creation order."""

    objectives: Sequence[float]
    expected_improvements: Sequence[float | None]


def not_improving(objectives: Sequence[float], objective_type: str | None) -> int:
    """How many of the last jobs in a row failed to improve the best by 1 % or more."""
    best: float | None = None
    count = 0
    for value in objectives:
        if best is None:
            best = value
            continue
        if is_better(value, best, objective_type or "Minimize"):
            gain = abs(value - best)
            improved = gain >= MIN_RELATIVE_IMPROVEMENT * abs(best) if best != 0 else gain > 0
            best = value
            if improved:
                count = 0
                continue
        count += 1
    return count


def target_reached(objectives: Sequence[float], target: float, objective_type: str | None) -> bool:
    if objective_type == "Maximize":
        return any(value >= target for value in objectives)
    return any(value <= target for value in objectives)


def converged(expected_improvements: Sequence[float | None]) -> bool:
    recent = list(expected_improvements[-CONVERGENCE_WINDOW:])
    return len(recent) == CONVERGENCE_WINDOW and all(
        value is not None and value < CONVERGENCE_THRESHOLD for value in recent
    )


def wants_convergence(criteria: Mapping[str, Any] | None) -> bool:
    detected = (criteria or {}).get("ConvergenceDetected") or {}
    return bool(detected.get("CompleteOnConvergence") == "Enabled")


@dataclass(frozen=True)
class Verdict:
    complete: bool
    converged: bool


def judge(criteria: Mapping[str, Any], objective_type: str | None, facts: Facts) -> Verdict:
    """Whether the criteria end the tuning job now, and whether convergence is why."""
    target = criteria.get("TargetObjectiveMetricValue")
    if target is not None and target_reached(facts.objectives, float(target), objective_type):
        return Verdict(complete=True, converged=False)
    limit = (criteria.get("BestObjectiveNotImproving") or {}).get(
        "MaxNumberOfTrainingJobsNotImproving"
    )
    if limit is not None and not_improving(facts.objectives, objective_type) >= int(limit):
        return Verdict(complete=True, converged=False)
    if wants_convergence(criteria) and converged(facts.expected_improvements):
        return Verdict(complete=True, converged=True)
    return Verdict(complete=False, converged=False)


def details(objective_type: str | None, facts: Facts, converged_at: float | None) -> dict[str, Any]:
    """``TuningJobCompletionDetails`` as Describe shows it."""
    shown: dict[str, Any] = {
        "NumberOfTrainingJobsObjectiveNotImproving": not_improving(facts.objectives, objective_type)
    }
    if converged_at is not None:
        shown["ConvergenceDetectedTime"] = converged_at
    return shown
