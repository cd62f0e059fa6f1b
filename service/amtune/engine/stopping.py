"""Whether a running training job should stop early: AMT's median rule and asynchronous Hyperband
(ASHA's rung rule in brackets).

Both rules are pure functions of learning curves. A *curve* is a sequence of ``(step, value)``
points in step order (non-decreasing steps), where ``step`` is the resource used so far (epochs,
or whatever the training script counts) and ``value`` is the objective to MINIMISE (the app
negates Maximize objectives). The decision is always taken at the *last* point of the job's
curve, the step it has just reported, so the app calls a rule once per objective report.

Neither rule ever stops a job whose value is the best so far at the step it decides on: a rule
that could stop the leader would throw away exactly the configuration the search is looking for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "Curve",
    "asha_stops",
    "hyperband_bracket",
    "hyperband_stops",
    "median_rule_stops",
    "rung_levels",
    "value_at",
    "value_from",
]

Curve = Sequence[tuple[float, float]]
"""``(step, value to minimise)`` points, steps non-decreasing."""

_MAX_RUNGS = 64


def rung_levels(min_resource: float, max_resource: float, eta: float = 3.0) -> tuple[float, ...]:
    """The rungs of successive halving: ``min_resource * eta**k`` below ``max_resource``, then
    ``max_resource`` itself (the top rung, where every job ends).

    ``rung_levels(1, 20)`` is ``(1, 3, 9, 20)``; ``rung_levels(5, 5)`` is ``(5,)``.
    """
    if not (min_resource > 0 and max_resource >= min_resource):
        raise ValueError(
            f"need 0 < min_resource <= max_resource, got {min_resource} and {max_resource}"
        )
    if eta <= 1:
        raise ValueError(f"eta must be above 1, got {eta}")
    levels: list[float] = []
    level = float(min_resource)
    while level < max_resource and len(levels) < _MAX_RUNGS:
        levels.append(level)
        level *= eta
    levels.append(float(max_resource))
    return tuple(levels)


def value_at(curve: Curve, step: float) -> float | None:
    """The curve's value at ``step``: its last point at or before ``step`` (None if it has none).

    A job that reported at steps 2 and 4 is worth its step-2 value at step 3: that is what it
    had reached by then."""
    found: float | None = None
    for point_step, value in curve:
        if point_step > step:
            break
        found = value
    return found


def value_from(curve: Curve, step: float) -> float | None:
    """The curve's value when it reached ``step``: its first point at or after ``step``.

    Used for rungs: a job reporting every 2 epochs reaches rung 3 with its epoch-4 value."""
    for point_step, value in curve:
        if point_step >= step:
            return value
    return None


def _running_average(curve: Curve, step: float) -> float | None:
    values = [value for point_step, value in curve if point_step <= step]
    return float(np.mean(values)) if values else None


def median_rule_stops(
    job: Curve, others: Sequence[Curve], *, min_others: int, min_progress: float = 0.0
) -> bool:
    """AMT's ``TrainingJobEarlyStoppingType=Auto`` rule, decided at the job's last step.

    Let ``s`` and ``v`` be the job's last step and value. ``others`` are the curves of the
    *earlier* training jobs of the same tuning job (created before this one, running or ended;
    the caller passes exactly those). Of these, an earlier job **counts** when it has reached
    step ``s`` (its last step is at least ``s``): a job stopped or failed before ``s`` says
    nothing about ``s``. For each counting job take the running average of its values at steps
    up to ``s``; the job stops when ``v`` is worse (strictly greater) than the median of those
    running averages.

    The rule says "continue" when:

    * ``s`` is below ``min_progress`` times the longest curve of the earlier jobs (the highest
      step any of them reported): the first values of a curve rank configurations poorly
      (slow starters often finish best), so nobody is judged on them, or
    * fewer than ``min_others`` earlier jobs count at ``s`` (too little to judge), or
    * ``v`` is the best so far at ``s``: no counting job had a value at or below ``v`` by ``s``
      (its last point at or before ``s``), or
    * the job has no points.
    """
    if not job:
        return False
    step, value = job[-1]
    longest = max((other[-1][0] for other in others if other), default=0.0)
    if step < min_progress * longest:
        return False
    averages: list[float] = []
    best_other = math.inf
    for other in others:
        if not other or other[-1][0] < step:
            continue
        average = _running_average(other, step)
        reached = value_at(other, step)
        if average is None or reached is None:
            continue
        averages.append(average)
        best_other = min(best_other, reached)
    if len(averages) < max(min_others, 1):
        return False
    if value < best_other:
        return False
    return bool(value > float(np.median(averages)))


def asha_stops(
    job: Curve,
    others: Sequence[Curve],
    *,
    rungs: Sequence[float],
    eta: float,
    min_at_rung: int = 1,
) -> bool:
    """Asynchronous successive halving (ASHA's stopping variant), decided at the job's last step.

    ``rungs`` come from :func:`rung_levels`; the last is the maximum resource. The job **reached
    the top rung** when its last step is at least ``rungs[-1]``: then the answer is always True
    (its training is done and its objective final).

    Otherwise the rule acts only on the report that *crosses* a rung: the job's last step is at
    or beyond a rung ``r`` while its previous point (if any) was below ``r``. When one report
    crosses several rungs, the highest is judged. The job's value at ``r`` is that last value; an
    other job's value at ``r`` is its first value at or after ``r`` (:func:`value_from`).
    ``others`` are all other training jobs of the tuning job (earlier or later, running or
    ended); those that reached ``r`` count, the job itself included in the count ``n``.

    The job continues when it is in the top ``1/eta`` of the ``n`` values at ``r``: its rank
    (1 + the number of counting jobs strictly better) is at most ``n / eta``. It also always
    continues when it is the best at ``r`` (rank 1, so the first job at a rung never stops), and
    while fewer than ``min_at_rung`` jobs (itself included) have reached ``r``, a grace period
    against the noise of the first values. Nobody waits for a rung to fill: the rule decides
    with what has been reported so far.
    """
    if not job or not rungs:
        return False
    step, value = job[-1]
    if step >= rungs[-1]:
        return True
    previous = job[-2][0] if len(job) > 1 else -math.inf
    crossed = [rung for rung in rungs[:-1] if previous < rung <= step]
    if not crossed:
        return False
    rung = crossed[-1]
    values = [value]
    for other in others:
        reached = value_from(other, rung)
        if reached is not None:
            values.append(reached)
    n = len(values)
    if n < min_at_rung:
        return False
    rank = 1 + sum(1 for other_value in values[1:] if other_value < value)
    if rank == 1:
        return False
    return rank > n / eta


_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def hyperband_bracket(index: int, brackets: int) -> int:
    """The Hyperband bracket of the training job with 0-based ordinal ``index`` in its tuning job.

    Bracket ``k`` of ``brackets`` starts its rungs at the ``k``-th rung, so bracket 0 is plain
    ASHA from MinResource and the last bracket (its only rung the top one) is never stopped
    early. Brackets get equal shares of the jobs, drawn deterministically from the ordinal: the
    fractional part of ``index`` times the golden ratio's conjugate (a Weyl sequence), cut into
    ``brackets`` equal intervals. Any run of consecutive jobs is spread over the brackets about
    evenly, job 0 is in bracket 0, and nothing needs storing, since the ordinal is the job's
    number. A plain cycle would spread as evenly but would lock the brackets to other cycles
    over the ordinal (with two training job definitions taking turns, each would see only half
    of the brackets).
    """
    if brackets <= 1:
        return 0
    return min(int(((index * _GOLDEN) % 1.0) * brackets), brackets - 1)


def hyperband_stops(
    job: Curve,
    index: int,
    others: Sequence[Curve],
    *,
    rungs: Sequence[float],
    eta: float,
    min_at_rung: int = 1,
) -> bool:
    """Asynchronous Hyperband: ASHA in several brackets, decided at the job's last step.

    ``index`` is the job's 0-based ordinal in its tuning job and ``others`` the other jobs' curves
    (earlier or later, running or ended). The job's bracket ``k`` is :func:`hyperband_bracket` over
    ``len(rungs)`` brackets; the job is judged by :func:`asha_stops` with the rungs from
    ``rungs[k]`` on, so it is never judged below its bracket's first rung, and it is always told
    to stop at the top rung. At a rung it is ranked against every other job that reached that
    rung, whatever their bracket (pooled rankings): a rung's values mean the same in every
    bracket, pooling ranks the few jobs of the later brackets against enough others from their
    first rung on, and it measured as good as per-bracket rankings (``bench/MULTIFIDELITY.md``).

    Why several brackets: one bracket from MinResource stops, at the first rungs, the slow
    starters whose curves cross the others later (slow learning rates in gradient boosting);
    jobs in the later brackets are first judged after more resource, and those in the last run
    to MaxResource, so such configurations still reach the top and inform the model. Measured
    in ``bench/MULTIFIDELITY.md``: +18.3 points at the full budget on gradient boosting, level
    where early values rank well, but slower to a given score there.
    """
    if not rungs:
        return False
    bracket = hyperband_bracket(index, len(rungs))
    return asha_stops(job, others, rungs=rungs[bracket:], eta=eta, min_at_rung=min_at_rung)
