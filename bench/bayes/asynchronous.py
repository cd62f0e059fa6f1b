"""Parallel workers that arrive one at a time: ``python -m bench.bayes.asynchronous``.

The benchmark's batch mode asks ``B`` configs, evaluates them, and tells all ``B`` before asking
again, so the optimizer sees 0 to ``B - 1`` pending configs. Workers of a real tuning job do
not wait for each other: each claims the moment it finishes, so nearly every claim is made with
``B - 1`` jobs pending. Through the service, Ackley-5 at 8 workers scored 3-7 points below the
in-process batch of 8 (bench/RESULTS.md, "Through the service"), and this driver shows whether
the engine alone does the same when driven that way.

Jobs are taken to last equally long, so they finish in the order they were handed out
(first in, first out) and the run stays deterministic for a seed. Each problem and seed is run
both ways in one process and the scores are compared seed by seed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .optimizers import AskTell
from .problems import Config, Problem

#: Adapters whose single ``ask`` ignores configs still running (scikit-optimize's ``ask()``
#: returns the same point until told); driving them asynchronously would measure that, not them.
BLIND_TO_PENDING = frozenset({"skopt-gp"})


def run_asynchronous(opt: AskTell, problem: Problem, n_evals: int, workers: int) -> list[float]:
    """Losses in the order the jobs finished; every ask after the first is for one config."""
    running: list[Config] = opt.ask(min(workers, n_evals))
    losses: list[float] = []
    while running:
        config = running.pop(0)
        loss = problem.loss(config)
        opt.tell([config], [loss])
        losses.append(loss)
        if len(losses) + len(running) < n_evals:
            running.extend(opt.ask(1))
    return losses


def _run_batches(
    optimizer: str, problem: Problem, seed: int, n_evals: int, workers: int
) -> list[float]:
    """The benchmark's own batch mode, exactly as ``python -m bench.bayes --batch`` runs it."""
    from .runner import RunSpec, run_one

    result = run_one(RunSpec(optimizer, problem.name, seed, workers, n_evals))
    if result.error is not None:
        raise RuntimeError(result.error)
    return result.losses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bayes.asynchronous", description=__doc__)
    parser.add_argument("--optimizer", default="amtune-bayesian")
    parser.add_argument("--problems", default="ackley5", help="comma list (ackley5)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (10)")
    parser.add_argument("--workers", type=int, default=8, help="parallel workers (8)")
    parser.add_argument("--evals", type=int, default=128, help="evaluations per run (128)")
    args = parser.parse_args(argv)
    if args.seeds < 2 or args.workers < 1 or args.evals < 1:
        parser.error("--seeds must be at least 2, --workers and --evals at least 1")
    if args.optimizer in BLIND_TO_PENDING:
        parser.error(
            f"{args.optimizer}'s ask does not see pending configs: one at a time, it "
            "would hand the same config to every free worker"
        )

    from . import baselines
    from .optimizers import make_optimizer
    from .problems import get_problem
    from .runner import pin_threads
    from .scoring import paired_difference, score_at

    pin_threads()
    problems = [get_problem(name) for name in args.problems.split(",")]
    curves: dict[str, dict[tuple[str, int], list[float]]] = {"batch": {}, "async": {}}
    for problem in problems:
        for seed in range(args.seeds):
            key = (problem.name, seed)
            curves["batch"][key] = _run_batches(
                args.optimizer, problem, seed, args.evals, args.workers
            )
            opt = make_optimizer(args.optimizer, problem, seed)
            curves["async"][key] = run_asynchronous(opt, problem, args.evals, args.workers)
    every = [(p, losses) for runs in curves.values() for (p, _), losses in runs.items()]
    refs = baselines.references(baselines.load(), every)
    print(f"{args.optimizer}, {args.workers} workers, score at {args.evals} per seed:")
    for problem in problems:
        for mode, runs in curves.items():
            scores = [
                score_at(runs[(problem.name, s)], refs[problem.name], args.evals)
                for s in range(args.seeds)
            ]
            shown = " ".join(f"{v:.0f}" for v in scores)
            print(f"  {problem.name:<22} {mode:<5} mean {sum(scores) / len(scores):6.2f}: {shown}")
    diff = paired_difference(curves["batch"], curves["async"], refs, args.evals)
    assert diff is not None  # at least two seeds, every problem run both ways
    print(f"batch minus async, paired over {diff.n_seeds} seeds: {diff.mean:+.2f} ± {diff.se:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
