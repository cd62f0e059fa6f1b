"""Latency and memory of BayesianStrategy.suggest as the history grows.

History: n finished trials at uniform random points of a ``--dim``-dimensional space (default
10: one linear integer, one categorical with 4 values, the rest continuous) with a smooth
objective plus noise; optional pending
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
from dataclasses import dataclass
from typing import Any

import numpy as np
from bench.bayes.optimizers import AmtuneStrategy, AskTell, Param, _from_reverse
from bench.bayes.problems.base import Problem
from bench.bayes.runner import pin_threads

from amtune.engine.spaces import SearchSpace
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.bayesian import BayesianStrategy


def ranges(dim: int) -> dict[str, Any]:
    """An integer, a categorical and ``dim - 2`` continuous ranges."""
    return {
        "IntegerParameterRanges": [
            {"Name": "depth", "MinValue": "1", "MaxValue": "12", "ScalingType": "Linear"}
        ],
        "ContinuousParameterRanges": [
            {"Name": f"x{i}", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"}
            for i in range(dim - 2)
        ],
        "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b", "c", "d"]}],
    }


@dataclass(frozen=True)
class Bench:
    """The space and the benchmark adapter's problem for one dimension count."""

    space: SearchSpace
    problem: Problem

    @classmethod
    def of(cls, dim: int) -> Bench:
        parameter_ranges = ranges(dim)
        return cls(
            SearchSpace.from_parameter_ranges(parameter_ranges),
            Problem("latency", parameter_ranges, lambda config: 0.0, "loss"),
        )


def objective(u: np.ndarray, rng: np.random.Generator) -> float:
    return float(np.sum((u - 0.3) ** 2) + 0.5 * np.sin(6 * u[1]) + 0.05 * rng.standard_normal())


def make_history(space: SearchSpace, n: int, n_pending: int, seed: int = 0) -> History:
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n):
        u = rng.random(space.dim)
        trials.append(Trial(config=space.from_unit(u), objective=objective(u, rng)))
    pending = tuple(space.from_unit(rng.random(space.dim)) for _ in range(n_pending))
    return History(finished=tuple(trials), pending=pending)


def time_asks(opt: AskTell, space: SearchSpace, reps: int) -> tuple[list[float], list[float]]:
    """Wall and CPU ms of ``ask(1)``; each config is evaluated and told, as in a run (the first
    call warms imports and caches and is not timed; the last sees ``n + reps`` trials)."""
    rng = np.random.default_rng(99)
    times, cpu = [], []
    for r in range(reps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        (config,) = opt.ask(1)
        if r:
            times.append(1000 * (time.perf_counter() - t0))
            cpu.append(1000 * (time.process_time() - c0))
        opt.tell([config], [objective(space.to_unit(config), rng)])
    return times, cpu


def amtune_from(problem: Problem, history: History) -> AmtuneStrategy:
    """The benchmark's adapter of the engine, as the claim flow drives it, holding ``history``."""
    opt = AmtuneStrategy(problem, seed=1, strategy="Bayesian")
    opt.finished.extend(history.finished)
    opt.pending.extend(history.pending)
    return opt


def gpsampler_from(problem: Problem, history: History) -> AskTell:
    """Optuna's GPSampler through the benchmark's adapter, holding the finished trials of
    ``history`` (pending trials are not passed on). Torch gets one thread, as in ``bench.bayes``
    runs: amtune's engine runs its BLAS on one thread too, so CPU times compare."""
    import torch
    from bench.bayes.optimizers import OptunaPeer
    from optuna.trial import create_trial

    pin_threads()
    assert torch.get_num_threads() == 1
    peer = OptunaPeer(problem, seed=1, sampler="gp")
    params = {p.name: p for p in peer.params}
    peer.study.add_trials(
        [
            create_trial(
                params={k: _peer_value(params[k], v) for k, v in t.config.items()},
                distributions=peer.dists,
                value=t.objective,
            )
            for t in history.finished
        ]
    )
    return peer


def _peer_value(param: Param, text: str) -> Any:
    """A config's string -> the value a peer's distribution holds (inverse of ``format_value``)."""
    if param.kind == "categorical":
        return text
    if param.kind == "integer":
        return int(text)
    return _from_reverse(param, float(text))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    ap.add_argument("--pending", type=int, default=0)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--dim", type=int, default=10, help="dimensions (at least 3)")
    ap.add_argument(
        "--peer",
        action="store_true",
        help="also time Optuna GPSampler's ask from the same history (needs .[bench-peers])",
    )
    args = ap.parse_args()
    if args.dim < 3:
        ap.error("--dim must be at least 3 (an integer, a categorical and a continuous range)")
    bench = Bench.of(args.dim)
    strategy = BayesianStrategy()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, dim={bench.space.dim}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    head = "| finished | pending | median wall ms | p90 wall ms | median CPU ms | peak traced MB |"
    rule = "|---:|---:|---:|---:|---:|---:|"
    if args.peer:
        head += " GPSampler median wall ms | GPSampler median CPU ms | amtune / GPSampler CPU |"
        rule += "---:|---:|---:|"
    print(head)
    print(rule)
    for n in args.sizes:
        history = make_history(bench.space, n, args.pending)
        times, cpu = time_asks(amtune_from(bench.problem, history), bench.space, args.reps)
        tracemalloc.start()
        strategy.suggest(bench.space, history, seed=2, index=n)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        p90 = float(np.percentile(times, 90))
        row = (
            f"| {n} | {args.pending} | {statistics.median(times):.0f} | {p90:.0f} "
            f"| {statistics.median(cpu):.0f} | {peak:.1f} |"
        )
        if args.peer:
            peer_times, peer_cpu = time_asks(
                gpsampler_from(bench.problem, history), bench.space, args.reps
            )
            ratio = statistics.median(cpu) / statistics.median(peer_cpu)
            row += (
                f" {statistics.median(peer_times):.0f} | {statistics.median(peer_cpu):.0f} "
                f"| {ratio:.2f} |"
            )
        print(row)


if __name__ == "__main__":
    main()
