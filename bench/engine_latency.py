"""Latency and memory of BayesianStrategy.suggest as the history grows.

History: n finished trials at uniform random points of a 10-D space (8 continuous, one linear
integer, one categorical with 4 values) with a smooth objective plus noise; optional pending
trials. ``--reps`` suggestions follow, each evaluated and added to the history as in a run;
reported are the median / p90 wall time and the median CPU time of those calls, and the peak
memory traced by ``tracemalloc`` during one call. ``--peer`` runs Optuna's GPSampler the same
way from the same n trials, in the same process, so the ratio of the two survives a noisy host.

    .venv/bin/python -m bench.engine_latency --sizes 100 500 1000 --reps 15 [--peer]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc
from typing import Any

import numpy as np

from amtune.engine.spaces import SearchSpace
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.bayesian import BayesianStrategy

RANGES: dict[str, Any] = {
    "IntegerParameterRanges": [
        {"Name": "depth", "MinValue": "1", "MaxValue": "12", "ScalingType": "Linear"}
    ],
    "ContinuousParameterRanges": [
        {"Name": f"x{i}", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"}
        for i in range(8)
    ],
    "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b", "c", "d"]}],
}
SPACE = SearchSpace.from_parameter_ranges(RANGES)


def objective(u: np.ndarray, rng: np.random.Generator) -> float:
    return float(np.sum((u - 0.3) ** 2) + 0.5 * np.sin(6 * u[1]) + 0.05 * rng.standard_normal())


def make_history(n: int, n_pending: int, seed: int = 0) -> History:
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n):
        u = rng.random(SPACE.dim)
        trials.append(Trial(config=SPACE.from_unit(u), objective=objective(u, rng)))
    pending = tuple(SPACE.from_unit(rng.random(SPACE.dim)) for _ in range(n_pending))
    return History(finished=tuple(trials), pending=pending)


def amtune_ask_ms(
    strategy: BayesianStrategy, history: History, reps: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU ms of ``suggest``; each suggestion is evaluated and joins the history, as in
    a run (the first call warms imports and is not timed; the last sees ``n + reps`` trials)."""
    rng = np.random.default_rng(99)
    times, cpu = [], []
    for r in range(reps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        config = strategy.suggest(SPACE, history, seed=1, index=len(history.finished))
        if r:
            times.append(1000 * (time.perf_counter() - t0))
            cpu.append(1000 * (time.process_time() - c0))
        assert config is not None
        trial = Trial(config=config, objective=objective(SPACE.to_unit(config), rng))
        history = History(finished=(*history.finished, trial), pending=history.pending)
    return times, cpu


def _optuna_value(dist: Any, value: str) -> Any:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return value
    return int(value) if isinstance(dist, IntDistribution) else float(value)


def gpsampler_ask_ms(history: History, reps: int) -> tuple[list[float], list[float]]:
    """Wall and CPU ms of Optuna GPSampler's ``ask`` with the same finished trials.

    Each asked config is evaluated and told, as in a run (and as :func:`amtune_ask_ms` does),
    and the sampler keeps whatever it caches between asks. Pending trials are not passed on.
    Torch gets one thread, as in ``bench.bayes`` runs: amtune's engine runs its BLAS on one
    thread too, so CPU times compare."""
    import torch
    from bench.bayes.runner import pin_threads

    pin_threads()
    assert torch.get_num_threads() == 1
    from bench.bayes.optimizers import OptunaPeer, format_value
    from bench.bayes.problems.base import Problem
    from optuna.trial import create_trial

    problem = Problem("latency", RANGES, lambda c: 0.0, "loss")
    peer = OptunaPeer(problem, seed=1, sampler="gp")
    study, dists = peer.study, peer.dists
    params = {p.name: p for p in peer.params}
    study.add_trials(
        [
            create_trial(
                params={k: _optuna_value(dists[k], v) for k, v in t.config.items()},
                distributions=dists,
                value=t.objective,
            )
            for t in history.finished
        ]
    )
    rng = np.random.default_rng(99)
    times, cpu = [], []
    for r in range(reps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        trial = study.ask(dists)
        if r:
            times.append(1000 * (time.perf_counter() - t0))
            cpu.append(1000 * (time.process_time() - c0))
        config = {k: format_value(p, trial.params[k]) for k, p in params.items()}
        study.tell(trial, objective(SPACE.to_unit(config), rng))
    return times, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    ap.add_argument("--pending", type=int, default=0)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument(
        "--peer",
        action="store_true",
        help="also time Optuna GPSampler's ask from the same history (needs .[bench-peers])",
    )
    args = ap.parse_args()
    strategy = BayesianStrategy()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, dim={SPACE.dim}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    head = "| finished | pending | median wall ms | p90 wall ms | median CPU ms | peak traced MB |"
    rule = "|---:|---:|---:|---:|---:|---:|"
    if args.peer:
        head += " GPSampler median wall ms | GPSampler median CPU ms | amtune / GPSampler CPU |"
        rule += "---:|---:|---:|"
    print(head)
    print(rule)
    for n in args.sizes:
        history = make_history(n, args.pending)
        times, cpu = amtune_ask_ms(strategy, history, args.reps)
        tracemalloc.start()
        strategy.suggest(SPACE, history, seed=2, index=n)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        p90 = float(np.percentile(times, 90))
        row = (
            f"| {n} | {args.pending} | {statistics.median(times):.0f} | {p90:.0f} "
            f"| {statistics.median(cpu):.0f} | {peak:.1f} |"
        )
        if args.peer:
            peer_times, peer_cpu = gpsampler_ask_ms(history, args.reps)
            ratio = statistics.median(cpu) / statistics.median(peer_cpu)
            row += (
                f" {statistics.median(peer_times):.0f} | {statistics.median(peer_cpu):.0f} "
                f"| {ratio:.2f} |"
            )
        print(row)


if __name__ == "__main__":
    main()
