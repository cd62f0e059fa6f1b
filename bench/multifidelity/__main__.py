"""``python -m bench.multifidelity``: training steps saved by stopping early, side by side.

Examples::

    python -m bench.multifidelity --profile full --out bench/multifidelity/results/full.json
    python -m bench.multifidelity --problems crossing-27 --seeds 0-2 --methods amtune-hyperband
    python -m bench.multifidelity --through-service --problems crossing-27 --seeds 0-9

For every problem, seed and method, 4 simulated asynchronous workers (:mod:`.simulator`) spend a
budget of ``B = jobs x max_resource`` training steps, what full-training search spends on
``jobs`` configurations. Recorded per run: the best final objective after each ended job (the
tuning job's BestTrainingJob), as a score (:meth:`Problem.score`), at B/8, B/4, B/2 and B; the
steps until it first reached full-training amtune Bayesian's final value on the same seed (the
paired target); the steps until it reached the median over seeds of that value (the common
target). Early stopping Auto is also run with the job limit of full training (``jobs``
configurations, AMT's MaxNumberOfTrainingJobs) to measure the steps it saves against Off.

``--through-service`` also makes every run through a live ``amtune serve`` with real worker
threads (:mod:`.through_service`), scored by the same code against the same targets, and reports
the service run beside the in-process run of the same method and seed.
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

from bench.processes import cpu_seconds  # noqa: E402

from .methods import METHODS  # noqa: E402
from .problems import PROBLEMS, Problem, get_problem  # noqa: E402
from .report import markdown, service_markdown  # noqa: E402
from .simulator import Trace, simulate  # noqa: E402
from .synetune_methods import SYNETUNE_METHODS, synetune_missing  # noqa: E402
from .through_service import SETTINGS, run_through_service, served  # noqa: E402

PROFILES: dict[str, dict[str, Any]] = {
    "tiny": {"problems": ["crossing-9"], "seeds": [0, 1], "jobs": 6},
    "full": {"problems": list(PROBLEMS), "seeds": list(range(10)), "jobs": 32},
}
FRACTIONS = (0.125, 0.25, 0.5, 1.0)
REFERENCE = "amtune-bayesian"
AUTO = "amtune-bayesian-auto"


def parse_seeds(text: str) -> list[int]:
    """``0-9`` (a range, both ends included) or ``0,3,5``."""
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
    endpoint: tuple[str, int] | None = None,
    step_seconds: float = 0.002,
) -> dict[str, Any]:
    """Every (problem, method, seed) run, summarised; see the module docstring.

    With ``endpoint`` (a live service's URL and process id), every run is also made through the
    service (:mod:`.through_service`) and recorded under ``service_runs``, scored against the
    same targets as the in-process runs (the in-process reference's), so the two are paired by
    method and seed."""
    if REFERENCE not in methods:
        methods = [REFERENCE, *methods]
    out: dict[str, Any] = {}
    for name in problems:
        problem = get_problem(name, log=log)
        budget = jobs * problem.max_resource
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
        traces: dict[str, list[Trace]] = {m: [] for m in methods}
        service_runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
        service_traces: dict[str, list[Trace]] = {m: [] for m in methods}
        for method in methods:
            for seed in seeds:
                started = time.process_time()
                trace = simulate(
                    problem, METHODS[method](problem, seed), workers=workers, step_budget=budget
                )
                record = _record(problem, trace, budget, seed, time.process_time() - started)
                if method == AUTO:
                    limited = simulate(
                        problem, METHODS[method](problem, seed), workers=workers, job_limit=jobs
                    )
                    record["job_limited"] = _limited(problem, limited)
                runs[method].append(record)
                traces[method].append(trace)
                log(f"{name} {method} seed {seed}: {record}")
                if endpoint is None:
                    continue
                url, pid = endpoint
                cpu = cpu_seconds([pid])
                served = run_through_service(
                    url,
                    problem,
                    method,
                    seed,
                    workers=workers,
                    step_budget=budget,
                    step_seconds=step_seconds,
                )
                record = _record(problem, served.trace, budget, seed, cpu_seconds([pid]) - cpu)
                record["wall_s"] = round(served.wall_s, 1)
                record["checks"] = served.checks()
                if method == AUTO:
                    limited_run = run_through_service(
                        url,
                        problem,
                        method,
                        seed,
                        workers=workers,
                        job_limit=jobs,
                        step_seconds=step_seconds,
                    )
                    record["job_limited"] = {
                        **_limited(problem, limited_run.trace),
                        "checks": limited_run.checks(),
                    }
                service_runs[method].append(record)
                service_traces[method].append(served.trace)
                log(f"{name} {method} seed {seed} through the service: {record}")
        finals = [t.best_at(budget) for t in traces[REFERENCE]]
        common = sorted(finals)[len(finals) // 2]
        for kind, kind_traces in ((runs, traces), (service_runs, service_traces)):
            for method in methods:
                if not kind[method]:
                    continue  # no service runs
                for record, trace, final in zip(
                    kind[method], kind_traces[method], finals, strict=True
                ):
                    record["steps_to_paired"] = _finite(trace.steps_to(final))
                    record["steps_to_common"] = _finite(trace.steps_to(common))
        out[name] = {
            "max_resource": problem.max_resource,
            "budget": budget,
            "common_target_score": round(problem.score(common), 3),
            "runs": runs,
        }
        if endpoint is not None:
            out[name]["service_runs"] = service_runs
    return out


def _record(problem: Problem, trace: Trace, budget: int, seed: int, cpu_s: float) -> dict[str, Any]:
    return {
        "seed": seed,
        "scores": [round(problem.score(trace.best_at(f * budget)), 3) for f in FRACTIONS],
        "jobs": trace.jobs,
        "completed": trace.completed,
        "cpu_s": round(cpu_s, 2),
    }


def _limited(problem: Problem, trace: Trace) -> dict[str, Any]:
    """A job-limited run: the steps it spent and its final score."""
    return {
        "steps": trace.total_steps,
        "score": round(problem.score(trace.best_at(trace.total_steps)), 3),
    }


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
    parser.add_argument(
        "--through-service",
        action="store_true",
        help="also run every method through a live `amtune serve` (SQLite in a temporary "
        f"directory) with real worker threads; methods: {', '.join(SETTINGS)}",
    )
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=0.002,
        help="with --through-service: the wall time each training step takes (0.002)",
    )
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
                    earlier = merged["problems"][name]
                    combined = {**earlier}
                    for key in ("runs", "service_runs"):
                        if key in problem:
                            combined[key] = {**earlier.get(key, {}), **problem[key]}
                    merged["problems"][name] = combined
                else:
                    merged["problems"][name] = problem
        merged["command"] = " ; ".join(part["command"] for part in parts)
        merged["wall_s"] = round(sum(part["wall_s"] for part in parts), 1)
        text = service_markdown(merged) if merged.get("through_service") else markdown(merged)
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
    if args.through_service:
        if not args.methods:
            methods = list(SETTINGS)
        refused = [m for m in methods if m not in SETTINGS]
        if refused:
            parser.error(f"not available through the service: {refused}; known: {list(SETTINGS)}")
    seeds = parse_seeds(args.seeds) if args.seeds else profile["seeds"]
    jobs = args.jobs or profile["jobs"]
    started = time.time()
    if args.through_service:
        with served() as endpoint:
            results = run(
                problems,
                methods,
                seeds,
                jobs,
                args.workers,
                endpoint=endpoint,
                step_seconds=args.step_seconds,
            )
    else:
        results = run(problems, methods, seeds, jobs, args.workers)
    summary = {
        "command": "python -m bench.multifidelity " + shlex.join(argv or sys.argv[1:]),
        "workers": args.workers,
        "through_service": args.through_service,
        "step_seconds": args.step_seconds if args.through_service else None,
        "jobs": jobs,
        "seeds": seeds,
        "python": platform.python_version(),
        "wall_s": round(time.time() - started, 1),
        "problems": results,
    }
    text = service_markdown(summary) if args.through_service else markdown(summary)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
