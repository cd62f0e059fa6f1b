"""Bayesmark scoring.

Per run, the best-so-far curve ``S(n) = min(loss[0:n])``. Per problem, the normalised regret

    r = (S(n) - opt) / (median_random - opt)

where ``median_random`` is the median loss of ONE random evaluation (so a random search's first
evaluation scores 0 on average and the optimum scores 100) and ``opt`` the known optimum or the
best value ever seen. As in Bayesmark's ``experiment_analysis.compute_aggregates``, each run's
regret is clipped to ``[-1, 1]`` so one bad run (or one run that beats a poor optimum estimate by
a lot) cannot dominate the mean. The score is ``100 * (1 - mean over problems of the mean over
seeds of r)``; its standard error is taken over seeds, from the per-seed score averaged over
problems (the seed is the replicate; problems are the fixed design).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

CHECKPOINTS = (16, 32, 64, 128)


@dataclass(frozen=True)
class Reference:
    """What a problem is normalised by."""

    median_random: float
    optimum: float
    worst_regret: float = 1.0
    """Upper clip of a run's regret. Bayesmark's 1 suits its scale, where 0 is one random
    evaluation and nothing sensible scores below it; on the random-search scale a run can be
    worse than random search, and that must show (see :func:`random_search_references`)."""


def best_so_far(losses: Sequence[float]) -> np.ndarray:
    """Running minimum; NaN counts as no improvement."""
    arr = np.asarray(losses, dtype=float)
    arr = np.where(np.isnan(arr), np.inf, arr)
    return np.minimum.accumulate(arr)


def normalised_regret(best: float, ref: Reference) -> float:
    """Bayesmark's normalised, clipped regret of a best-so-far value."""
    span = ref.median_random - ref.optimum
    if math.isinf(best):
        return ref.worst_regret
    if not span > 0:  # degenerate problem: half the random configs are already optimal
        return 0.0 if best <= ref.optimum else 1.0
    return float(np.clip((best - ref.optimum) / span, -1.0, ref.worst_regret))


def regrets_at(
    losses: Sequence[float], ref: Reference, checkpoints: Iterable[int]
) -> dict[int, float]:
    """Normalised regret of one run at each checkpoint it reached."""
    curve = best_so_far(losses)
    return {n: normalised_regret(float(curve[n - 1]), ref) for n in checkpoints if n <= len(curve)}


def score_at(losses: Sequence[float], ref: Reference, n: int) -> float:
    """One run's ``100 * (1 - r)`` at ``n`` evaluations (it must have reached ``n``)."""
    return 100.0 * (1.0 - regrets_at(losses, ref, [n])[n])


RANDOM_SCALE_WORST_REGRET = 2.0
"""On the random-search scale a run scores down to -100 (twice random search's regret)."""


def random_search_references(
    random_curves: Mapping[tuple[str, int], Sequence[float]],
    refs: Mapping[str, Reference],
    checkpoints: Iterable[int] = CHECKPOINTS,
) -> dict[int, dict[str, Reference]]:
    """Per checkpoint ``n``, references where 0 is the median best value of random search after
    ``n`` evaluations (over its runs of each problem) and 100 the optimum.

    Bayesmark's scale puts 0 at ONE random evaluation, so every sensible optimiser is pressed
    into the nineties at 64 evaluations and the gaps between them look small; measured against
    random search at the same budget the same runs spread over the whole range, and a run worse
    than random search scores below 0."""
    out: dict[int, dict[str, Reference]] = {}
    for n in checkpoints:
        bests: dict[str, list[float]] = defaultdict(list)
        for (problem, _seed), losses in random_curves.items():
            if len(losses) >= n:
                bests[problem].append(float(best_so_far(losses)[n - 1]))
        out[n] = {
            problem: Reference(
                float(np.median(values)), refs[problem].optimum, RANDOM_SCALE_WORST_REGRET
            )
            for problem, values in bests.items()
            if problem in refs
        }
    return out


@dataclass(frozen=True)
class Score:
    mean: float
    se: float
    n_seeds: int
    n_problems: int


def aggregate(
    curves: Mapping[tuple[str, int], Sequence[float]],
    refs: Mapping[str, Reference],
    checkpoints: Iterable[int] = CHECKPOINTS,
) -> dict[int, Score]:
    """Score one optimiser (one batch mode) from its runs.

    ``curves`` maps ``(problem, seed)`` to the run's losses in evaluation order. The mean is over
    problems of the per-problem mean over seeds (every run counts); the standard error uses the
    seeds that every problem has.
    """
    out: dict[int, Score] = {}
    problems = sorted({p for p, _ in curves})
    for n in checkpoints:
        per_problem: dict[str, dict[int, float]] = defaultdict(dict)
        for (problem, seed), losses in curves.items():
            if len(losses) >= n:
                per_problem[problem][seed] = regrets_at(losses, refs[problem], [n])[n]
        if not per_problem or len(per_problem) < len(problems):
            continue
        mean_regret = float(np.mean([np.mean(list(v.values())) for v in per_problem.values()]))
        common = set.intersection(*(set(v) for v in per_problem.values()))
        per_seed = [
            100.0 * (1.0 - float(np.mean([per_problem[p][s] for p in per_problem])))
            for s in sorted(common)
        ]
        se = (
            float(np.std(per_seed, ddof=1) / math.sqrt(len(per_seed)))
            if len(per_seed) > 1
            else math.nan
        )
        out[n] = Score(100.0 * (1.0 - mean_regret), se, len(common), len(per_problem))
    return out


def per_problem_scores(
    curves: Mapping[tuple[str, int], Sequence[float]], refs: Mapping[str, Reference], n: int
) -> dict[str, float]:
    """Mean over seeds of ``100 * (1 - r)`` at ``n`` evaluations, per problem."""
    acc: dict[str, list[float]] = defaultdict(list)
    for (problem, _seed), losses in curves.items():
        if len(losses) >= n:
            acc[problem].append(score_at(losses, refs[problem], n))
    return {p: float(np.mean(v)) for p, v in sorted(acc.items())}


@dataclass(frozen=True)
class PairedDifference:
    """``a - b`` in score points, seed by seed."""

    mean: float
    se: float
    n_seeds: int


def paired_difference(
    curves_a: Mapping[tuple[str, int], Sequence[float]],
    curves_b: Mapping[tuple[str, int], Sequence[float]],
    refs: Mapping[str, Reference],
    n: int,
    n_a: int | None = None,
) -> PairedDifference | None:
    """Mean and standard error over seeds of (score of ``a`` - score of ``b``) at ``n``, or of
    ``a`` at ``n_a`` evaluations against ``b`` at ``n`` (sample efficiency: does ``a`` reach with
    half the evaluations what ``b`` reaches with all?).

    Two optimizers run on the same seeds share each seed's luck of the problems, so their
    per-seed difference varies much less than either score: this is the test of "above every
    peer" that the separate standard errors of :func:`aggregate` understate. Only seeds on which
    both ran every problem that either ran are used, so each seed's score averages the same
    problems; ``None`` when fewer than two such seeds exist."""
    problems = sorted({p for p, _ in curves_a} | {p for p, _ in curves_b})
    seeds = sorted({s for _, s in curves_a} & {s for _, s in curves_b})
    at_a = n if n_a is None else n_a
    diffs = []
    for seed in seeds:
        if not all(
            len(curves_a.get((p, seed), ())) >= at_a and len(curves_b.get((p, seed), ())) >= n
            for p in problems
        ):
            continue
        a_minus_b = [
            score_at(curves_a[(p, seed)], refs[p], at_a) - score_at(curves_b[(p, seed)], refs[p], n)
            for p in problems
        ]
        diffs.append(float(np.mean(a_minus_b)))
    if len(diffs) < 2:
        return None
    se = float(np.std(diffs, ddof=1) / math.sqrt(len(diffs)))
    return PairedDifference(float(np.mean(diffs)), se, len(diffs))
