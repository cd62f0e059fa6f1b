"""Latency and memory of BayesianStrategy.suggest as the history grows.

History: n finished trials at uniform random points of a 10-D space (8 continuous, one linear
integer, one categorical with 4 values) with a smooth objective plus noise; optional pending
trials. Reports median / p90 wall time of ``suggest`` over ``--reps`` calls (different job
indices) and the peak memory traced by ``tracemalloc`` during one call.

    .venv/bin/python bench/engine_latency.py --sizes 100 500 1000 --reps 15
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from amtune.engine.spaces import SearchSpace
from amtune.engine.strategies.bayesian import BayesianStrategy

try:
    from amtune.engine.strategies.base import History, Trial
except ImportError:  # until base.py lands: the contract from docs/ARCHITECTURE.md

    @dataclass(frozen=True)
    class Trial:  # type: ignore[no-redef]
        config: dict[str, str]
        objective: float | None

    @dataclass(frozen=True)
    class History:  # type: ignore[no-redef]
        finished: tuple[Trial, ...]
        pending: tuple[dict[str, str], ...]


SPACE = SearchSpace.from_parameter_ranges(
    {
        "IntegerParameterRanges": [
            {"Name": "depth", "MinValue": "1", "MaxValue": "12", "ScalingType": "Linear"}
        ],
        "ContinuousParameterRanges": [
            {"Name": f"x{i}", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"}
            for i in range(8)
        ],
        "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b", "c", "d"]}],
    }
)


def make_history(n: int, n_pending: int, seed: int = 0) -> History:
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n):
        u = rng.random(SPACE.dim)
        config = SPACE.from_unit(u)
        y = float(np.sum((u - 0.3) ** 2) + 0.5 * np.sin(6 * u[1]) + 0.05 * rng.standard_normal())
        trials.append(Trial(config=config, objective=y))
    pending = tuple(SPACE.from_unit(rng.random(SPACE.dim)) for _ in range(n_pending))
    return History(finished=tuple(trials), pending=pending)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    ap.add_argument("--pending", type=int, default=0)
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    strategy = BayesianStrategy()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, dim={SPACE.dim}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print("| finished | pending | median wall ms | p90 wall ms | median CPU ms | peak traced MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        history = make_history(n, args.pending)
        strategy.suggest(SPACE, history, seed=1, index=n)  # warm imports and caches
        times, cpu = [], []
        for r in range(args.reps):
            t0, c0 = time.perf_counter(), time.process_time()
            strategy.suggest(SPACE, history, seed=1, index=n + r + 1)
            times.append(1000 * (time.perf_counter() - t0))
            cpu.append(1000 * (time.process_time() - c0))
        tracemalloc.start()
        strategy.suggest(SPACE, history, seed=2, index=n)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        p90 = float(np.percentile(times, 90))
        print(
            f"| {n} | {args.pending} | {statistics.median(times):.0f} | {p90:.0f} "
            f"| {statistics.median(cpu):.0f} | {peak:.1f} |"
        )


if __name__ == "__main__":
    main()
