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
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Curve",
    "RankGate",
    "asha_stops",
    "hyperband_bracket",
    "hyperband_stops",
    "median_rule_stops",
    "rank_agreement",
    "reliable_rung",
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


@dataclass(frozen=True)
class RankGate:
    """When early values are shown to rank configurations as their final values do.

    Early values can be trusted at a step when, among at least ``min_jobs`` jobs that trained to
    the end, the fraction of pairs that the step's values order as the final values do
    (:func:`rank_agreement`) is at least ``min_agreement``. At most the ``max_jobs`` most recent
    such jobs are used, which bounds the cost of a decision."""

    min_jobs: int
    min_agreement: float
    max_jobs: int = 256


def rank_agreement(early: Sequence[float], final: Sequence[float]) -> float:
    """The fraction of concordant pairs: of the pairs whose final values differ, how many the
    early values order the same way (a tie in the early values counts half). Kendall's tau is
    twice this minus one. NaN when no pair's final values differ."""
    e = np.asarray(early, dtype=float)
    f = np.asarray(final, dtype=float)
    upper = np.triu_indices(len(e), k=1)
    de = np.sign(e[:, None] - e[None, :])[upper]
    df = np.sign(f[:, None] - f[None, :])[upper]
    judged = df != 0
    if not judged.any():
        return math.nan
    score = (de * df > 0).astype(float) + 0.5 * (de == 0)
    return float(score[judged].mean())


def _trusted(early: Sequence[float], final: Sequence[float], gate: RankGate) -> bool | None:
    """Whether the gate trusts these early values (None: too few jobs to tell)."""
    if len(early) < gate.min_jobs:
        return None
    agreement = rank_agreement(early, final)
    return not math.isnan(agreement) and agreement >= gate.min_agreement


def median_rule_stops(
    job: Curve,
    others: Sequence[Curve],
    *,
    min_others: int,
    min_progress: float = 0.0,
    gate: RankGate | None = None,
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

    * ``s`` is a step the earlier jobs' data do not trust. With a ``gate``, the earlier jobs
      that reached the longest earlier curve (the highest step any of them reported) are the
      evidence: when there are at least ``gate.min_jobs`` of them, the job is judged at ``s``
      only if their running averages at ``s`` order their last values as the gate requires
      (:class:`RankGate`); so a tuning job whose curves rank early is judged from its first
      steps, and one whose curves cross is judged only once they have stopped crossing. Without
      a gate, or with too few such jobs, ``s`` must be at least ``min_progress`` times the
      longest earlier curve: the first values of a curve rank configurations poorly (slow
      starters often finish best), so nobody is judged on them, or
    * fewer than ``min_others`` earlier jobs count at ``s`` (too little to judge), or
    * ``v`` is the best so far at ``s``: no counting job had a value at or below ``v`` by ``s``
      (its last point at or before ``s``), or
    * the job has no points.
    """
    if not job:
        return False
    step, value = job[-1]
    longest = max((other[-1][0] for other in others if other), default=0.0)
    trusted = _median_gate(others, step, longest, gate) if gate is not None else None
    if trusted is False or (trusted is None and step < min_progress * longest):
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


def _median_gate(
    others: Sequence[Curve], step: float, longest: float, gate: RankGate
) -> bool | None:
    """Whether the running averages at ``step`` of the earlier jobs that reached ``longest``
    order their last values as ``gate`` requires (None: too few such jobs)."""
    done = [other for other in others if other and other[-1][0] >= longest > 0]
    done = done[-gate.max_jobs :]
    early: list[float] = []
    final: list[float] = []
    for curve in done:
        average = _running_average(curve, step)
        if average is not None:
            early.append(average)
            final.append(curve[-1][1])
    return _trusted(early, final, gate)


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


def reliable_rung(rungs: Sequence[float], finished: Sequence[Curve], gate: RankGate) -> int | None:
    """The lowest rung below the top whose values the gate trusts, or None.

    ``finished`` are curves that reached the top rung ``rungs[-1]``. A rung is trusted when the
    values those jobs had when they reached it (:func:`value_from`) order their values at the
    top rung as ``gate`` requires (:class:`RankGate`)."""
    top = rungs[-1]
    done = [curve for curve in finished if curve and curve[-1][0] >= top][-gate.max_jobs :]
    finals = [value_from(curve, top) for curve in done]
    for k, rung in enumerate(rungs[:-1]):
        early = [value_from(curve, rung) for curve in done]
        pairs = [
            (e, f) for e, f in zip(early, finals, strict=True) if e is not None and f is not None
        ]
        if _trusted([e for e, _ in pairs], [f for _, f in pairs], gate):
            return k
    return None


def hyperband_stops(
    job: Curve,
    index: int,
    others: Sequence[Curve],
    *,
    rungs: Sequence[float],
    eta: float,
    min_at_rung: int = 1,
    gate: RankGate | None = None,
    other_indices: Sequence[int] | None = None,
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
    brackets = len(rungs)
    bracket = hyperband_bracket(index, brackets)
    if gate is not None and 0 < bracket < brackets - 1 and job and job[-1][0] < rungs[-1]:
        step = job[-1][0]
        previous = job[-2][0] if len(job) > 1 else -math.inf
        if any(previous < rung <= step for rung in rungs[:bracket]):
            if other_indices is None:
                evidence = list(others)
            else:
                evidence = [
                    curve
                    for curve, other in zip(others, other_indices, strict=True)
                    if hyperband_bracket(other, brackets) == brackets - 1
                ]
            trusted = reliable_rung(rungs, evidence, gate)
            if trusted is not None:
                bracket = min(bracket, trusted)
    return asha_stops(job, others, rungs=rungs[bracket:], eta=eta, min_at_rung=min_at_rung)
