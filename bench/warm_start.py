"""Warm start and completion criteria on synthetic problems, through the engine in-process.

What it measures (each at batch 1, so a run is the sequence a single worker would see):

- IdenticalDataAndAlgorithm: a child of 20 jobs whose history starts with a 50-job parent's
  trials on the same problem, against a cold 20-job job (the first 20 jobs of the parent's own
  run: a cold job with the same seed). Score: the best loss of the child's own 20 jobs, and
  of parent plus child (Describe's OverallBestTrainingJob).
- TransferLearning: the same 50-job parent as one transfer group, and a child on a related
  function (each coordinate shifted by 5 % of its range; the value scaled by 3 and offset by
  50), against a cold job on that function with the same seed, at 10 and 20 evaluations (and
  at 40 and 60 with ``--transfer-jobs 60``: whether what helps a short child costs a long one).
- Completion criteria: on a 100-job run, where BestObjectiveNotImproving (N = 10) and
  ConvergenceDetected (the rule of ``amtune.app.completion``) would have ended it, how many jobs
  that saves and how much regret it costs. At batch 1 the criteria do not change the
  suggestions before the stop, so one run serves all three.

Scores are simple regret (loss minus the known optimum's loss); the differences are paired by
seed (same problem, same seed). Medians and means with standard errors are printed.

    PYTHONPATH=service:. python -m bench.warm_start --problems branin hartmann6 --seeds 10

Methods are tuned and selected on seeds 100-109 (``--seed-offset 100``) and reported on 0-9.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def one_seed(
    name: str, seed: int, *, criteria_only: bool = False, transfer_jobs: int = CHILD_JOBS
) -> dict[str, Any]:
    problem = get_problem(name)
    space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
    optimum = problem.optimum_loss
    assert optimum is not None, f"{name} has no known optimum"
    full = run(space, problem.loss, FULL_JOBS, seed)
    stops = {}
    for criterion in ("not_improving", "convergence"):
        for k in range(1, FULL_JOBS + 1):
            if criterion == "not_improving":
                done = not_improving(full.losses[:k], "Minimize") >= NOT_IMPROVING
            else:
                done = converged(full.expected[:k])
            if done:
                break
        stops[criterion] = {"jobs": k, "regret": best(full.losses, k) - optimum}
    row: dict[str, Any] = {
        "problem": name,
        "seed": seed,
        "full100": best(full.losses, FULL_JOBS) - optimum,
        "stops": stops,
    }
    if criteria_only:
        return row
    parent = full.trials[:PARENT_JOBS]
    identical = run(space, problem.loss, CHILD_JOBS, seed + 1000, prior=parent)
    related, related_optimum = shifted(problem, optimum)
    cold_related = run(space, related, transfer_jobs, seed + 1000)
    transfer = run(space, related, transfer_jobs, seed + 1000, transfer=(parent,))
    checkpoints = [k for k in TRANSFER_CHECKPOINTS if k <= transfer_jobs]
    return {
        **row,
        "cold20": best(full.losses, CHILD_JOBS) - optimum,
        "identical20": best(identical.losses, CHILD_JOBS) - optimum,
        "identical20_overall": min(best(identical.losses, CHILD_JOBS), best(full.losses, 50))
        - optimum,
        "parent50": best(full.losses, PARENT_JOBS) - optimum,
        **{f"cold_related{k}": best(cold_related.losses, k) - related_optimum for k in checkpoints},
        **{f"transfer{k}": best(transfer.losses, k) - related_optimum for k in checkpoints},
    }


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
    parser.add_argument("--problems", nargs="+", default=["branin", "hartmann6"])
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
    rows = []
    started = time.monotonic()
    for name in args.problems:
        for seed in range(args.seed_offset, args.seed_offset + args.seeds):
            rows.append(
                one_seed(
                    name,
                    seed,
                    criteria_only=args.criteria_only,
                    transfer_jobs=args.transfer_jobs,
                )
            )
            print(f"{name} seed {seed} done at {time.monotonic() - started:.0f} s", flush=True)
    if args.output is not None:
        args.output.write_text(json.dumps(rows, indent=1))
    print(report(rows))


if __name__ == "__main__":
    main()
