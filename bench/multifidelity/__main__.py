"""``python -m bench.multifidelity``: training steps saved by stopping early, side by side.

Examples::

    python -m bench.multifidelity --profile full --out bench/multifidelity/results/full.json
    python -m bench.multifidelity --problems crossing-27 --seeds 0-2 --methods amtune-hyperband

For every problem, seed and method, 4 simulated asynchronous workers (:mod:`.simulator`) spend a
budget of ``B = jobs x max_resource`` training steps, what full-training search spends on
``jobs`` configurations. Recorded per run: the best final objective after each ended job (the
tuning job's BestTrainingJob), as a score (:meth:`Problem.score`), at B/8, B/4, B/2 and B; the
steps until it first reached full-training amtune Bayesian's final value on the same seed (the
paired target); the steps until it reached the median over seeds of that value (the common
target). Early stopping Auto is also run with the job limit of full training (``jobs``
configurations, AMT's MaxNumberOfTrainingJobs) to measure the steps it saves against Off.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one BLAS thread: the machine is shared, runs are serial

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from .methods import METHODS  # noqa: E402
from .problems import PROBLEMS, get_problem  # noqa: E402
from .report import markdown  # noqa: E402
from .simulator import simulate  # noqa: E402
from .synetune_methods import SYNETUNE_METHODS, synetune_missing  # noqa: E402

PROFILES: dict[str, dict[str, Any]] = {
    "tiny": {"problems": ["crossing-9"], "seeds": [0, 1], "jobs": 6},
    "full": {"problems": list(PROBLEMS), "seeds": list(range(10)), "jobs": 32},
}
FRACTIONS = (0.125, 0.25, 0.5, 1.0)
REFERENCE = "amtune-bayesian"
AUTO = "amtune-bayesian-auto"


def _seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def run(
    problems: list[str],
    methods: list[str],
    seeds: list[int],
    jobs: int,
    workers: int,
    log: Any = print,
) -> dict[str, Any]:
    """Every (problem, method, seed) run, summarised; see the module docstring."""
    if REFERENCE not in methods:
        methods = [REFERENCE, *methods]
    out: dict[str, Any] = {}
    for name in problems:
        problem = get_problem(name, log=log)
        budget = jobs * problem.max_resource
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
        traces: dict[str, list[Any]] = {m: [] for m in methods}
        for method in methods:
            for seed in seeds:
                started = time.process_time()
                trace = simulate(
                    problem, METHODS[method](problem, seed), workers=workers, step_budget=budget
                )
                record: dict[str, Any] = {
                    "seed": seed,
                    "scores": [
                        round(problem.score(trace.best_at(f * budget)), 3) for f in FRACTIONS
                    ],
                    "jobs": trace.jobs,
                    "completed": trace.completed,
                    "cpu_s": round(time.process_time() - started, 2),
                }
                if method == AUTO:
                    limited = simulate(
                        problem, METHODS[method](problem, seed), workers=workers, job_limit=jobs
                    )
                    record["job_limited"] = {
                        "steps": limited.total_steps,
                        "score": round(problem.score(limited.best_at(limited.total_steps)), 3),
                    }
                runs[method].append(record)
                traces[method].append(trace)
                log(f"{name} {method} seed {seed}: {record}")
        finals = [t.best_at(budget) for t in traces[REFERENCE]]
        common = sorted(finals)[len(finals) // 2]
        for method in methods:
            for record, trace, final in zip(runs[method], traces[method], finals, strict=True):
                record["steps_to_paired"] = _finite(trace.steps_to(final))
                record["steps_to_common"] = _finite(trace.steps_to(common))
        out[name] = {
            "max_resource": problem.max_resource,
            "budget": budget,
            "common_target_score": round(problem.score(common), 3),
            "runs": runs,
        }
    return out


def _finite(x: float) -> float | None:
    return None if x == float("inf") else x


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.multifidelity", description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--problems", help="comma-separated; default: the profile's")
    parser.add_argument("--methods", help=f"comma-separated of {', '.join(METHODS)}")
    parser.add_argument("--seeds", help="e.g. 0-9 or 0,3,5; default: the profile's")
    parser.add_argument("--jobs", type=int, help="full-training jobs the budget pays for")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--out", type=Path, help="write the JSON summary here")
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        help="combine these JSON summaries (a later one's methods are added to, or replace, an "
        "earlier one's on the same problem)",
    )
    args = parser.parse_args(argv)
    if args.merge:
        parts = [json.loads(path.read_text()) for path in args.merge]
        merged = dict(parts[0])
        merged["problems"] = {}
        for part in parts:  # a later part adds its methods to a problem an earlier one ran
            for name, problem in part["problems"].items():
                if name in merged["problems"]:
                    runs = {**merged["problems"][name]["runs"], **problem["runs"]}
                    merged["problems"][name] = {**merged["problems"][name], "runs": runs}
                else:
                    merged["problems"][name] = problem
        merged["command"] = " ; ".join(part["command"] for part in parts)
        merged["wall_s"] = round(sum(part["wall_s"] for part in parts), 1)
        text = markdown(merged)
        print(text)
        if args.out:
            args.out.write_text(json.dumps(merged, indent=1) + "\n")
        if args.markdown:
            args.markdown.write_text(text)
        return 0
    profile = PROFILES[args.profile]
    problems = args.problems.split(",") if args.problems else profile["problems"]
    # Syne Tune's methods only when asked for: it is installed apart (bench/MULTIFIDELITY.md)
    default = [m for m in METHODS if m not in SYNETUNE_METHODS]
    methods = args.methods.split(",") if args.methods else default
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown methods {unknown}; known: {', '.join(METHODS)}")
    if any(m in SYNETUNE_METHODS for m in methods) and (missing := synetune_missing()):
        parser.error(missing)
    seeds = _seeds(args.seeds) if args.seeds else profile["seeds"]
    jobs = args.jobs or profile["jobs"]
    started = time.time()
    results = run(problems, methods, seeds, jobs, args.workers)
    summary = {
        "command": "python -m bench.multifidelity " + shlex.join(argv or sys.argv[1:]),
        "workers": args.workers,
        "jobs": jobs,
        "seeds": seeds,
        "python": platform.python_version(),
        "wall_s": round(time.time() - started, 1),
        "problems": results,
    }
    text = markdown(summary)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
