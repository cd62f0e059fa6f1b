"""Running one optimiser on one problem for one seed, and many such runs across the cores.

A run is the unit of parallelism: it owns its optimiser and evaluates its own configs, so runs
share nothing and two processes never disagree about an objective value. BLAS and torch are
pinned to one thread per process, otherwise two processes on two cores would oversubscribe and
the timings would measure contention instead of the optimisers.
"""

from __future__ import annotations

import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def pin_threads() -> None:
    """One BLAS/torch thread per process (call before numpy is imported where possible)."""
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    try:
        import threadpoolctl

        threadpoolctl.threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


@dataclass(frozen=True)
class RunSpec:
    optimizer: str
    problem: str
    seed: int
    batch: int
    n_evals: int


@dataclass
class RunResult:
    spec: RunSpec
    losses: list[float] = field(default_factory=list)
    ask_ms: list[float] = field(default_factory=list)  # per config: ask-call time / batch
    tell_ms: list[float] = field(default_factory=list)  # per config: tell-call time / batch
    ask_cpu_ms: list[float] = field(default_factory=list)  # same, process CPU time
    tell_cpu_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    fallbacks: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["spec"] = asdict(self.spec)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        """Read a run back from a results file, where non-finite numbers were written as null
        (strict JSON): a missing timing (a service run measures none in this process) becomes
        NaN again and a failed evaluation's loss becomes +inf, so a merge rescores them alike."""
        data = dict(data)
        data["spec"] = RunSpec(**data["spec"])
        data["losses"] = [math.inf if v is None else v for v in data.get("losses", [])]
        for key in ("ask_ms", "tell_ms", "ask_cpu_ms", "tell_cpu_ms"):
            data[key] = [math.nan if v is None else v for v in data.get(key, [])]
        for key in ("wall_s", "cpu_s"):
            if key in data and data[key] is None:
                data[key] = math.nan
        return cls(**data)


def run_one(spec: RunSpec) -> RunResult:
    """Ask/evaluate/tell until ``n_evals`` configs are evaluated; never raises."""
    from .optimizers import make_optimizer
    from .problems import get_problem

    result = RunResult(spec=spec)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        problem = get_problem(spec.problem)
        opt = make_optimizer(spec.optimizer, problem, spec.seed)
        while len(result.losses) < spec.n_evals:
            n = min(spec.batch, spec.n_evals - len(result.losses))
            t0, c0 = time.perf_counter(), time.process_time()
            configs = opt.ask(n)
            t1, c1 = time.perf_counter(), time.process_time()
            losses = [problem.loss(c) for c in configs]
            t2, c2 = time.perf_counter(), time.process_time()
            opt.tell(configs, losses)
            t3, c3 = time.perf_counter(), time.process_time()
            result.losses.extend(losses)
            result.ask_ms.append(1000.0 * (t1 - t0) / n)
            result.tell_ms.append(1000.0 * (t3 - t2) / n)
            result.ask_cpu_ms.append(1000.0 * (c1 - c0) / n)
            result.tell_cpu_ms.append(1000.0 * (c3 - c2) / n)
        result.fallbacks = int(getattr(opt, "fallbacks", 0))
    except Exception:  # a crashing optimiser is a result to report, not a reason to stop
        result.error = traceback.format_exc(limit=8)
    result.wall_s = time.perf_counter() - start
    result.cpu_s = time.process_time() - cpu_start
    return result


def _init_worker() -> None:
    pin_threads()
    import warnings

    warnings.filterwarnings("ignore")


def run_many(
    specs: Iterable[RunSpec],
    jobs: int,
    progress: Callable[[RunResult, int, int], None] | None = None,
) -> list[RunResult]:
    """Run every spec on ``jobs`` processes (spawned: no state leaks between runs' parents).

    Expensive optimisers go first so the two cores finish together rather than one idling
    while the other works through a GP-heavy tail.
    """
    weight = {"optuna-gp": 4, "skopt-gp": 3, "amtune-bayesian": 3}
    todo = sorted(specs, key=lambda s: (-weight.get(s.optimizer, 1) * s.n_evals, s.problem))
    results: list[RunResult] = []
    if jobs <= 1:
        _init_worker()
        for spec in todo:
            res = run_one(spec)
            results.append(res)
            if progress:
                progress(res, len(results), len(todo))
        return results
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(processes=jobs, initializer=_init_worker) as pool:
        for res in pool.imap_unordered(run_one, todo, chunksize=1):
            results.append(res)
            if progress:
                progress(res, len(results), len(todo))
    return results
