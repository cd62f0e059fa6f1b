"""Warm start and completion criteria on synthetic problems, through the engine in-process.

What it measures (each at batch 1, so a run is the sequence a single worker would see):

- IdenticalDataAndAlgorithm: a child of 20 jobs whose history starts with a 50-job parent's
  trials on the same problem, against a cold 20-job job (the first 20 jobs of the parent's own
  run: a cold job with the same seed). Score: the best loss of the child's own 20 jobs, and
  of parent plus child (Describe's OverallBestTrainingJob).
- TransferLearning: the same 50-job parent as one transfer group, and a child on a related
  problem, against a cold job on that problem with the same seed, at 10 and 20 evaluations
  (and at 40 and 60 with ``--transfer-jobs 60``: whether what helps a short child costs a long
  one). The related problem of a synthetic function is the function shifted (each coordinate
  by 5 % of its range; the value scaled by 3 and offset by 50); a pair ``PARENT:CHILD`` of
  model-tuning problems (``linear_wine_nll:linear_breast_nll``: the same model and space on
  another data set) names it outright.
- Completion criteria: on a 100-job run, where BestObjectiveNotImproving (N = 10) and
  ConvergenceDetected (the rule of ``amtune.app.completion``) would have ended it, how many jobs
  that saves and how much regret it costs. At batch 1 the criteria do not change the
  suggestions before the stop, so one run serves all three.

Scores are simple regret: loss minus the known optimum's loss, or, for a model-tuning problem
(no known optimum), minus the best loss seen for it (the lower of ``best_seen`` in
``bench/bayes/baselines.json`` and every loss the command's runs evaluated). The differences
are paired by seed (same problem, same seed), so they do not depend on the reference. Medians
and means with standard errors are printed.

    PYTHONPATH=service:. python -m bench.warm_start --problems branin hartmann6 --seeds 10

Methods are tuned and selected on seeds 100-109 (``--seed-offset 100``) and reported on 0-9.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bayes import baselines
from bench.bayes.problems import get_problem

from amtune.app.completion import converged, not_improving
from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.bayesian import BayesianStrategy

PARENT_JOBS, CHILD_JOBS, FULL_JOBS = 50, 20, 100
TRANSFER_CHECKPOINTS = (10, 20, 40, 60)
NOT_IMPROVING = 10
SHIFT, SCALE, OFFSET = 0.05, 3.0, 50.0

Loss = Callable[[Config], float]


@dataclass(frozen=True)
class Budget:
    """Job counts of one seed's runs (the defaults are the protocol; tests shrink them)."""

    full: int = FULL_JOBS
    parent: int = PARENT_JOBS
    child: int = CHILD_JOBS
    transfer: int = CHILD_JOBS


@dataclass(frozen=True)
class Pair:
    """A parent problem and the related problem its TransferLearning child tunes.

    ``*_reference`` is the loss regret is measured from: the known optimum (``*_exact``), or
    else the best loss recorded for the problem, lowered to the best the runs see
    (:func:`references`)."""

    name: str
    space: SearchSpace
    parent_loss: Loss
    child_loss: Loss
    parent_reference: float
    child_reference: float
    parent_exact: bool
    child_exact: bool


def best_seen(problem_name: str) -> float:
    """The lowest loss ``bench/bayes/baselines.json`` records for a model-tuning problem."""
    entry = baselines.load().get(problem_name)
    return float(entry["best_seen"]) if entry else math.inf


def make_pair(name: str) -> Pair:
    """``name`` is a synthetic problem (its child tunes the shifted function) or
    ``PARENT:CHILD``, two problems on the same space (the same model on two data sets)."""
    if ":" not in name:
        problem = get_problem(name)
        optimum = problem.optimum_loss
        assert optimum is not None, f"{name} has no known optimum"
        related, related_optimum = shifted(problem, optimum)
        space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
        return Pair(name, space, problem.loss, related, optimum, related_optimum, True, True)
    parent_name, child_name = name.split(":")
    parent, child = get_problem(parent_name), get_problem(child_name)
    space = SearchSpace.from_parameter_ranges(parent.parameter_ranges)
    if space != SearchSpace.from_parameter_ranges(child.parameter_ranges):
        raise ValueError(f"{parent_name} and {child_name} tune different spaces")
    references = []
    for problem in (parent, child):
        optimum = problem.optimum_loss
        references.append(optimum if optimum is not None else best_seen(problem.name))
    return Pair(
        name,
        space,
        parent.loss,
        child.loss,
        references[0],
        references[1],
        parent.optimum_loss is not None,
        child.optimum_loss is not None,
    )


@dataclass(frozen=True)
class Run:
    losses: list[float]
    expected: list[float | None]
    trials: tuple[Trial, ...]


def run(
    space: SearchSpace,
    loss: Loss,
    n: int,
    seed: int,
    *,
    prior: tuple[Trial, ...] = (),
    transfer: tuple[tuple[Trial, ...], ...] = (),
) -> Run:
    """n suggestions in sequence, as the service hands them to one worker."""
    strategy = BayesianStrategy()
    own: list[Trial] = []
    expected: list[float | None] = []
    for index in range(n):
        history = History(finished=prior + tuple(own), transfer=transfer)
        suggestion = strategy.suggest_scored(space, history, seed=seed, index=index)
        assert suggestion.config is not None
        own.append(Trial(suggestion.config, loss(suggestion.config)))
        expected.append(suggestion.expected_improvement)
    return Run([float(t.objective or 0.0) for t in own], expected, tuple(own))


def shifted(problem: Any, optimum: float) -> tuple[Loss, float]:
    """The related function and its optimum loss: coordinates moved by SHIFT of their range
    (numeric ranges; categoricals unchanged), values scaled and offset."""
    spans = {}
    for member in ("ContinuousParameterRanges", "IntegerParameterRanges"):
        for spec in problem.parameter_ranges.get(member, []):
            spans[spec["Name"]] = SHIFT * (float(spec["MaxValue"]) - float(spec["MinValue"]))

    def loss(config: Config) -> float:
        moved = {k: (repr(float(v) - spans[k]) if k in spans else v) for k, v in config.items()}
        return float(SCALE * problem.loss(moved) + OFFSET)

    return loss, SCALE * optimum + OFFSET


def best(losses: list[float], upto: int) -> float:
    return min(losses[:upto])


PARENT_SCORES = ("full100", "cold20", "identical20", "identical20_overall", "parent50")
"""Fields of a row that are best losses of the parent problem (the rest are the child's)."""


def one_seed(
    pair: Pair, seed: int, *, criteria_only: bool = False, budget: Budget = Budget()
) -> dict[str, Any]:
    """One seed's runs. Scores are best losses (:func:`regrets` turns them into regrets);
    ``parent_seen`` and ``child_seen`` are the lowest loss any run saw of each problem."""
    space = pair.space
    full = run(space, pair.parent_loss, budget.full, seed)
    stops = {}
    for criterion in ("not_improving", "convergence"):
        for k in range(1, budget.full + 1):
            if criterion == "not_improving":
                done = not_improving(full.losses[:k], "Minimize") >= NOT_IMPROVING
            else:
                done = converged(full.expected[:k])
            if done:
                break
        stops[criterion] = {"jobs": k, "best": best(full.losses, k)}
    row: dict[str, Any] = {
        "problem": pair.name,
        "seed": seed,
        "full100": best(full.losses, budget.full),
        "stops": stops,
        "parent_seen": min(full.losses),
    }
    if criteria_only:
        return row
    parent = full.trials[: budget.parent]
    identical = run(space, pair.parent_loss, budget.child, seed + 1000, prior=parent)
    cold_related = run(space, pair.child_loss, budget.transfer, seed + 1000)
    transfer = run(space, pair.child_loss, budget.transfer, seed + 1000, transfer=(parent,))
    checkpoints = [k for k in TRANSFER_CHECKPOINTS if k <= budget.transfer]
    return {
        **row,
        "parent_seen": min(row["parent_seen"], *identical.losses),
        "child_seen": min(cold_related.losses + transfer.losses),
        "cold20": best(full.losses, budget.child),
        "identical20": best(identical.losses, budget.child),
        "identical20_overall": min(
            best(identical.losses, budget.child), best(full.losses, budget.parent)
        ),
        "parent50": best(full.losses, budget.parent),
        **{f"cold_related{k}": best(cold_related.losses, k) for k in checkpoints},
        **{f"transfer{k}": best(transfer.losses, k) for k in checkpoints},
    }


def references(pair: Pair, rows: list[dict[str, Any]]) -> tuple[float, float]:
    """The parent's and the child's reference losses: the known optimum, or the pair's best
    seen lowered to the best loss these rows saw."""
    parent, child = pair.parent_reference, pair.child_reference
    if not pair.parent_exact:
        parent = min([parent, *(r["parent_seen"] for r in rows)])
    if not pair.child_exact and any("child_seen" in r for r in rows):
        child = min([child, *(r["child_seen"] for r in rows if "child_seen" in r)])
    return parent, child


def regrets(row: dict[str, Any], parent_reference: float, child_reference: float) -> dict[str, Any]:
    """The row with every best loss turned into simple regret, and the references it used."""
    out: dict[str, Any] = {"parent_reference": parent_reference}
    for key, value in row.items():
        if key in PARENT_SCORES:
            out[key] = value - parent_reference
        elif key.startswith(("cold_related", "transfer")):
            out[key] = value - child_reference
        elif key == "stops":
            out[key] = {
                criterion: {"jobs": stop["jobs"], "regret": stop["best"] - parent_reference}
                for criterion, stop in value.items()
            }
        elif key not in ("parent_seen", "child_seen"):
            out[key] = value
    if "child_seen" in row:
        out["child_reference"] = child_reference
    return out


def summary(values: list[float]) -> str:
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
    return f"median {statistics.median(values):.4g}, mean {mean:.4g} +- {se:.2g}"


def report(rows: list[dict[str, Any]]) -> str:
    lines = []
    for name in sorted({r["problem"] for r in rows}):
        mine = [r for r in rows if r["problem"] == name]
        lines.append(f"## {name} ({len(mine)} seeds; simple regret, lower is better)")
        pairs = [
            ("identical child 20 (own jobs) vs cold 20", "identical20", "cold20"),
            ("identical child 20 + parent 50 vs cold 20", "identical20_overall", "cold20"),
            *[
                (f"transfer child vs cold at {k}", f"transfer{k}", f"cold_related{k}")
                for k in TRANSFER_CHECKPOINTS
                if f"transfer{k}" in mine[0]
            ],
        ]
        for label, warm, cold in pairs if "cold20" in mine[0] else []:
            diffs = [r[warm] - r[cold] for r in mine]
            wins = sum(d < 0 for d in diffs)
            lines.append(
                f"- {label}: warm {summary([r[warm] for r in mine])}; cold "
                f"{summary([r[cold] for r in mine])}; paired warm - cold {summary(diffs)}; "
                f"warm better on {wins}/{len(mine)}"
            )
        for criterion in ("not_improving", "convergence"):
            jobs = [r["stops"][criterion]["jobs"] for r in mine]
            cost = [r["stops"][criterion]["regret"] - r["full100"] for r in mine]
            lines.append(
                f"- {criterion} stop: jobs used {summary([float(j) for j in jobs])} of "
                f"{FULL_JOBS}; regret at the stop minus regret at {FULL_JOBS}: {summary(cost)}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--problems",
        nargs="+",
        default=["branin", "hartmann6"],
        help="synthetic problems (the child tunes the shifted function) or PARENT:CHILD pairs "
        "of problems on one space, e.g. linear_wine_nll:linear_breast_nll",
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="first seed (seeds offset .. offset + seeds - 1); methods are tuned on 100-109, "
        "the figures reported on 0-9",
    )
    parser.add_argument(
        "--transfer-jobs",
        type=int,
        default=CHILD_JOBS,
        help="length of the TransferLearning child and its cold peer (scored at "
        f"{', '.join(map(str, TRANSFER_CHECKPOINTS))} where reached)",
    )
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--criteria-only",
        action="store_true",
        help="only the 100-job runs the completion criteria are judged on",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    for name in args.problems:
        pair = make_pair(name)
        mine = []
        for seed in range(args.seed_offset, args.seed_offset + args.seeds):
            mine.append(
                one_seed(
                    pair,
                    seed,
                    criteria_only=args.criteria_only,
                    budget=Budget(transfer=args.transfer_jobs),
                )
            )
            print(f"{name} seed {seed} done at {time.monotonic() - started:.0f} s", flush=True)
        parent_reference, child_reference = references(pair, mine)
        rows.extend(regrets(row, parent_reference, child_reference) for row in mine)
    if args.output is not None:
        args.output.write_text(json.dumps(rows, indent=1))
    print(report(rows))


if __name__ == "__main__":
    main()
