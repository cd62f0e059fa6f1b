"""Quick quality check of the Bayesian engine against peers on synthetic problems.

Not the Bayesmark harness (that lives in bench/bayes/); a fast, self-contained comparison used
while iterating on the engine design. Problems: Branin (2-D), Hartmann-6, Ackley-5 and a mixed
space (log-continuous, linear and log integers, two categoricals). Each method proposes in
rounds of ``batch`` points (the round's earlier points are pending for the later ones), then
all are evaluated; we record the best value after 16/32/64/128 evaluations.

    .venv/bin/python bench/engine_quick.py --seeds 5 --batches 1 8
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

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


Objective = Callable[[dict[str, str]], float]
CHECKPOINTS = (16, 32, 64, 128)


def _cont(name: str, lo: float, hi: float, scaling: str = "Linear") -> dict[str, str]:
    return {"Name": name, "MinValue": str(lo), "MaxValue": str(hi), "ScalingType": scaling}


def branin(c: dict[str, str]) -> float:
    x1, x2 = float(c["x1"]), float(c["x2"])
    b, cc, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + cc * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(c: dict[str, str]) -> float:
    x = np.array([float(c[f"x{i}"]) for i in range(6)])
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def ackley5(c: dict[str, str]) -> float:
    x = np.array([float(c[f"x{i}"]) for i in range(5)])
    d = len(x)
    return float(
        -20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d))
        - np.exp(np.sum(np.cos(2 * np.pi * x)) / d)
        + 20
        + math.e
    )


def mixed(c: dict[str, str]) -> float:
    """A model-tuning-like surface: the best learning rate depends on the optimizer."""
    lr = math.log10(float(c["lr"]))
    layers, units = int(c["layers"]), int(c["units"])
    opt_shift = {"adam": -3.0, "sgd": -1.5, "rmsprop": -2.5}[c["optimizer"]]
    act = {"relu": 0.0, "tanh": 0.4, "sigmoid": 1.2}[c["activation"]]
    drop = float(c["dropout"])
    return (
        (lr - opt_shift) ** 2
        + 0.15 * (layers - 4) ** 2
        + 0.3 * (math.log2(units) - 7.5) ** 2
        + act
        + 2.0 * (drop - 0.2) ** 2
        + (0.3 if c["optimizer"] == "sgd" else 0.0)
    )


PROBLEMS: dict[str, tuple[dict[str, Any], Objective, float]] = {
    "branin": (
        {"ContinuousParameterRanges": [_cont("x1", -5, 10), _cont("x2", 0, 15)]},
        branin,
        0.397887,
    ),
    "hartmann6": (
        {"ContinuousParameterRanges": [_cont(f"x{i}", 0, 1) for i in range(6)]},
        hartmann6,
        -3.32237,
    ),
    "ackley5": (
        {"ContinuousParameterRanges": [_cont(f"x{i}", -32.768, 32.768) for i in range(5)]},
        ackley5,
        0.0,
    ),
    "mixed": (
        {
            "IntegerParameterRanges": [
                {"Name": "layers", "MinValue": "1", "MaxValue": "8", "ScalingType": "Linear"},
                {
                    "Name": "units",
                    "MinValue": "8",
                    "MaxValue": "1024",
                    "ScalingType": "Logarithmic",
                },
            ],
            "ContinuousParameterRanges": [
                _cont("lr", 1e-5, 1.0, "Logarithmic"),
                _cont("dropout", 0.0, 0.9),
            ],
            "CategoricalParameterRanges": [
                {"Name": "optimizer", "Values": ["adam", "sgd", "rmsprop"]},
                {"Name": "activation", "Values": ["relu", "tanh", "sigmoid"]},
            ],
        },
        mixed,
        0.0,
    ),
}


# --------------------------------------------------------------------------- methods
def run_amtune(space: SearchSpace, f: Objective, budget: int, batch: int, seed: int) -> list[float]:
    strategy = BayesianStrategy()
    finished: list[Trial] = []
    values: list[float] = []
    while len(values) < budget:
        pending: list[dict[str, str]] = []
        for _ in range(min(batch, budget - len(values))):
            h = History(finished=tuple(finished), pending=tuple(pending))
            c = strategy.suggest(space, h, seed=seed, index=len(finished) + len(pending))
            assert c is not None
            pending.append(c)
        for c in pending:
            y = f(c)
            finished.append(Trial(config=c, objective=y))
            values.append(y)
    return values


def run_random(space: SearchSpace, f: Objective, budget: int, batch: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [f(space.from_unit(rng.random(space.dim))) for _ in range(budget)]


def _optuna_dists(pr: dict[str, Any]) -> dict[str, Any]:
    import optuna

    d: dict[str, Any] = {}
    for r in pr.get("IntegerParameterRanges", []):
        d[r["Name"]] = optuna.distributions.IntDistribution(
            int(r["MinValue"]), int(r["MaxValue"]), log=r["ScalingType"] == "Logarithmic"
        )
    for r in pr.get("ContinuousParameterRanges", []):
        d[r["Name"]] = optuna.distributions.FloatDistribution(
            float(r["MinValue"]), float(r["MaxValue"]), log=r["ScalingType"] == "Logarithmic"
        )
    for r in pr.get("CategoricalParameterRanges", []):
        d[r["Name"]] = optuna.distributions.CategoricalDistribution(r["Values"])
    return d


def _run_optuna(
    sampler: Any, pr: dict[str, Any], f: Objective, budget: int, batch: int
) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=sampler)
    dists = _optuna_dists(pr)
    values: list[float] = []
    while len(values) < budget:
        trials = [study.ask(dists) for _ in range(min(batch, budget - len(values)))]
        for t in trials:
            y = f({k: str(v) for k, v in t.params.items()})
            study.tell(t, y)
            values.append(y)
    return values


def run_tpe(
    space: SearchSpace, f: Objective, budget: int, batch: int, seed: int, pr: Any = None
) -> list[float]:
    import optuna

    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    return _run_optuna(sampler, pr, f, budget, batch)


def run_optuna_gp(
    space: SearchSpace, f: Objective, budget: int, batch: int, seed: int, pr: Any = None
) -> list[float]:
    import optuna

    return _run_optuna(optuna.samplers.GPSampler(seed=seed), pr, f, budget, batch)


def run_skopt(
    space: SearchSpace, f: Objective, budget: int, batch: int, seed: int, pr: Any = None
) -> list[float]:
    from skopt import Optimizer
    from skopt.space import Categorical, Integer, Real

    dims: list[Any] = []
    names: list[str] = []
    for r in pr.get("IntegerParameterRanges", []):
        prior = "log-uniform" if r["ScalingType"] == "Logarithmic" else "uniform"
        dims.append(Integer(int(r["MinValue"]), int(r["MaxValue"]), prior=prior))
        names.append(r["Name"])
    for r in pr.get("ContinuousParameterRanges", []):
        prior = "log-uniform" if r["ScalingType"] == "Logarithmic" else "uniform"
        dims.append(Real(float(r["MinValue"]), float(r["MaxValue"]), prior=prior))
        names.append(r["Name"])
    for r in pr.get("CategoricalParameterRanges", []):
        dims.append(Categorical(r["Values"]))
        names.append(r["Name"])
    opt = Optimizer(dims, base_estimator="GP", n_initial_points=10, random_state=seed)
    values: list[float] = []
    while len(values) < budget:
        q = min(batch, budget - len(values))
        xs = opt.ask(n_points=q) if q > 1 else [opt.ask()]
        ys = [f({n: str(v) for n, v in zip(names, x, strict=True)}) for x in xs]
        opt.tell(xs, ys)
        values.extend(ys)
    return values


METHODS = {
    "amtune": run_amtune,
    "random": run_random,
    "tpe": run_tpe,
    "optuna_gp": run_optuna_gp,
    "skopt": run_skopt,
}


def _job(
    args: tuple[str, str, int, int, int],
) -> tuple[str, str, int, int, list[float], float]:
    problem, method, batch, seed, budget = args
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    pr, f, _ = PROBLEMS[problem]
    space = SearchSpace.from_parameter_ranges(pr)
    t0 = time.perf_counter()
    fn = METHODS[method]
    if method in ("amtune", "random"):
        values = fn(space, f, budget, batch, seed)
    else:
        values = fn(space, f, budget, batch, seed, pr)  # type: ignore[call-arg]
    return problem, method, batch, seed, values, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=128)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--jsonl", help="append one line per run to this file (for re-reading)")
    ap.add_argument("--report", help="only summarise runs already in this JSONL file")
    args = ap.parse_args()
    if args.report:
        with open(args.report) as fh:
            rows = [json.loads(line) for line in fh]
        summarise(rows, args)
        return
    jobs = [
        (p, m, b, s, args.budget)
        for p in args.problems
        for b in args.batches
        for m in args.methods
        for s in range(args.seeds)
    ]
    rows = []
    with ProcessPoolExecutor(args.workers) as pool:
        for p, m, b, s, values, dt in pool.map(_job, jobs):
            row = {"problem": p, "method": m, "batch": b, "seed": s, "values": values, "time": dt}
            rows.append(row)
            if args.jsonl:
                with open(args.jsonl, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
    summarise(rows, args)


def summarise(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    results: dict[tuple[str, str, int], list[list[float]]] = {}
    times: dict[tuple[str, str, int], float] = {}
    for r in rows:
        k = (r["problem"], r["method"], r["batch"])
        results.setdefault(k, []).append(r["values"][: args.budget])
        times[k] = times.get(k, 0.0) + r["time"]
    methods = sorted({k[1] for k in results}, key=lambda m: list(METHODS).index(m))
    problems = [p for p in PROBLEMS if any(k[0] == p for k in results)]
    batches = sorted({k[2] for k in results})
    checkpoints = [c for c in CHECKPOINTS if c <= args.budget]
    print(f"budget={args.budget}: mean simple regret (best-so-far - optimum) ± standard error")
    for b in batches:
        for p in problems:
            opt = PROBLEMS[p][2]
            print(f"\n{p}  batch={b}")
            print(
                f"  {'method':10s}"
                + "".join(f"{'@' + str(c):>16s}" for c in checkpoints)
                + "  s/run"
            )
            for m in methods:
                if (p, m, b) not in results:
                    continue
                runs = np.array(results[(p, m, b)])
                best = np.minimum.accumulate(runs, axis=1) - opt
                cells = ""
                for c in checkpoints:
                    col = best[:, c - 1]
                    se = col.std(ddof=1) / np.sqrt(len(col)) if len(col) > 1 else 0.0
                    cells += f"{col.mean():10.4f}±{se:<5.3f}"
                print(f"  {m:10s}{cells}  {times[(p, m, b)] / len(runs):5.1f}  n={len(runs)}")


if __name__ == "__main__":
    main()
