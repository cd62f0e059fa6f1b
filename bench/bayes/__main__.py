"""``python -m bench.bayes``: run the Bayesmark-style benchmark and write the results.

Examples::

    python -m bench.bayes --profile quick
    python -m bench.bayes --profile full
    python -m bench.bayes --optimizers random,optuna-tpe --problems branin,SVM_wine_nll \\
        --seeds 10 --batch 1,8
    python -m bench.bayes --calibrate-only --problems all
    python -m bench.bayes --service http://127.0.0.1:8765 --problems branin --seeds 2
    python -m bench.bayes --merge peers.json amtune.json --out merged.json --no-markdown
"""

from __future__ import annotations

from .runner import pin_threads

pin_threads()  # before numpy/sklearn/torch are imported anywhere in this process

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from . import baselines, report  # noqa: E402
from .merge import Selection, merge, sources_json, sources_note  # noqa: E402
from .optimizers import OPTIMIZERS, amtune_strategies, bayesian_available  # noqa: E402
from .problems import all_problem_names  # noqa: E402
from .profiles import PROFILES, Profile  # noqa: E402
from .runner import RunResult, RunSpec, run_many  # noqa: E402

RESULTS_DIR = Path(__file__).with_name("results")
PEERS = ("random", "optuna-tpe", "optuna-gp", "skopt-gp")


def default_optimizers() -> list[str]:
    """The peers plus every amtune strategy that can run on its own (not Random/Grid)."""
    extra = [f"amtune-{s.lower()}" for s in amtune_strategies() if s not in ("Random", "Grid")]
    if "amtune-bayesian" not in extra and bayesian_available():
        extra.append("amtune-bayesian")
    return [*PEERS, *extra]


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m bench.bayes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="default quick; with --merge: the RESULTS.md section to write (default merged)",
    )
    ap.add_argument(
        "--optimizers",
        help=f"comma list; known: {', '.join(OPTIMIZERS)} "
        "and amtune-<strategy>; default: peers + registered amtune strategies",
    )
    ap.add_argument("--problems", help="comma list of problem names, or 'all'")
    ap.add_argument("--seeds", help="N (seeds 0..N-1) or a comma list (one seed k: k,)")
    ap.add_argument("--batch", help="comma list of batch sizes, e.g. 1,8")
    ap.add_argument("--evals", type=int, help="evaluations per run (default 128)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument(
        "--out", type=Path, help="results JSON (default bench/bayes/results/<profile>.json)"
    )
    ap.add_argument("--no-markdown", action="store_true", help="do not touch bench/RESULTS.md")
    ap.add_argument(
        "--calibrate-only",
        action="store_true",
        help="compute missing baselines.json entries and stop",
    )
    ap.add_argument(
        "--calibration-samples",
        type=int,
        help="random samples per new baselines.json entry (default 10000 synthetic, "
        "256 model tuning)",
    )
    ap.add_argument(
        "--service",
        metavar="URL",
        help="also run the problems end to end through an amtune service at URL",
    )
    ap.add_argument("--service-workers", type=int, default=8)
    ap.add_argument("--list", action="store_true", help="list problems and optimizers")
    ap.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="RESULTS",
        help="run nothing: score the runs of these results files together (a later file wins "
        "on equal runs); --optimizers/--problems/--seeds/--batch/--evals filter the runs",
    )
    return ap.parse_args(argv)


def resolve(args: argparse.Namespace) -> Profile:
    profile = args.profile or "quick"
    prof = PROFILES[profile]
    problems = prof.problems
    if args.problems:
        problems = (
            tuple(all_problem_names()) if args.problems == "all" else tuple(_csv(args.problems))
        )
    seeds = prof.seeds
    if args.seeds:
        seeds = (
            tuple(range(int(args.seeds)))
            if args.seeds.isdigit()
            else tuple(int(s) for s in _csv(args.seeds))
        )
        if not seeds:
            raise SystemExit(
                f"--seeds {args.seeds}: no seed selected (N means seeds 0..N-1; for one seed k "
                "give a list, e.g. --seeds k,)"
            )
    batches = tuple(int(b) for b in _csv(args.batch)) if args.batch else prof.batches
    optimizers = tuple(_csv(args.optimizers)) if args.optimizers else tuple(default_optimizers())
    return Profile(
        name=profile
        if not (args.problems or args.seeds or args.batch or args.optimizers or args.evals)
        else f"{profile}-custom",
        problems=problems,
        seeds=seeds,
        batches=batches,
        n_evals=args.evals or prof.n_evals,
        optimizers=optimizers,
    )


def _progress(res: RunResult, done: int, total: int) -> None:
    s = res.spec
    status = "ERROR" if res.error else f"best {min(res.losses):.5g}"
    print(
        f"[{done}/{total}] {s.optimizer:16s} b{s.batch} {s.problem:24s} seed {s.seed}: "
        f"{status} ({res.wall_s:.1f}s wall, {res.cpu_s:.1f}s cpu)",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    command = "python -m bench.bayes " + shlex.join(argv)
    if args.list:
        print("problems:", ", ".join(all_problem_names()))
        print("optimizers:", ", ".join(default_optimizers()))
        return 0
    if args.merge:
        return _merge(args, command)
    prof = resolve(args)
    started = time.time()
    print(
        f"profile {prof.name}: {len(prof.problems)} problems x {len(prof.seeds)} seeds x "
        f"batches {list(prof.batches)} x {list(prof.optimizers)}, {prof.n_evals} evals",
        file=sys.stderr,
        flush=True,
    )
    data = baselines.calibrate(prof.problems, args.jobs, command, args.calibration_samples)
    if args.calibrate_only:
        return 0
    specs = [
        RunSpec(o, p, s, b, prof.n_evals)
        for o in prof.optimizers
        for p in prof.problems
        for s in prof.seeds
        for b in prof.batches
    ]
    results = run_many(specs, args.jobs, _progress)
    notes: list[str] = []
    if args.service:
        from .service import run_service_suite

        service_results, service_note = run_service_suite(
            args.service, prof.problems, prof.seeds, prof.n_evals, args.service_workers
        )
        results.extend(service_results)
        notes.append(service_note)
    curves = [(r.spec.problem, r.losses) for r in results if r.error is None]
    baselines.record_best(data, curves)
    elapsed = time.time() - started
    notes.append(f"Wall time {elapsed / 60:.1f} min with {args.jobs} worker processes.")
    out = args.out or RESULTS_DIR / f"{prof.name}.json"
    _write(args, command, prof, results, notes, out, {"elapsed_s": elapsed})
    return 0


def _merge(args: argparse.Namespace, command: str) -> int:
    """``--merge``: one report from the runs already in several results files."""
    selection = Selection(
        optimizers=_csv(args.optimizers) if args.optimizers else (),
        problems=_csv(args.problems) if args.problems else (),
        seeds=resolve(args).seeds if args.seeds else (),
        batches=[int(b) for b in _csv(args.batch)] if args.batch else (),
        n_evals=args.evals,
    )
    results, sources = merge(args.merge, selection)
    if not results:
        print("no runs left to merge", file=sys.stderr)
        return 1
    specs = [r.spec for r in results]
    prof = Profile(
        name=args.profile or "merged",
        problems=tuple(dict.fromkeys(s.problem for s in specs)),
        seeds=tuple(sorted({s.seed for s in specs})),
        batches=tuple(sorted({s.batch for s in specs})),
        n_evals=max(s.n_evals for s in specs),
        optimizers=tuple(dict.fromkeys(s.optimizer for s in specs)),
    )
    out = args.out or RESULTS_DIR / f"{prof.name}.json"
    _write(
        args,
        command,
        prof,
        results,
        [sources_note(sources)],
        out,
        {"merged_from": sources_json(sources)},
    )
    return 0


def _write(
    args: argparse.Namespace,
    command: str,
    prof: Profile,
    results: list[RunResult],
    notes: list[str],
    out: Path,
    extra: dict[str, Any],
) -> None:
    """Score ``results``, write the results JSON and print (and maybe record) the Markdown."""
    curves = [(r.spec.problem, r.losses) for r in results if r.error is None]
    refs = baselines.references(baselines.load(), curves)
    summary = report.summarise(results, refs)
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "command": command,
        "date": date,
        "profile": vars(prof),
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "cpu": _cpu_model(),
            "note": report.NOISE_NOTE,
        },
        "versions": _versions(),
        "references": {p: vars(r) for p, r in refs.items()},
        "summary": summary,
        **extra,
        "runs": [r.to_json() for r in results],
    }
    report.write_results(out, _strict(payload))
    md = report.markdown(
        summary,
        profile=prof.name,
        command=command,
        date=date,
        problems=prof.problems,
        seeds=prof.seeds,
        refs=refs,
        notes=notes,
    )
    print(md)
    if not args.no_markdown:
        report.write_section(prof.name, md)
    print(f"results: {out}", file=sys.stderr)


def _strict(value: Any) -> Any:
    """NaN/inf -> None, so the results file is strict JSON any tool can read."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _cpu_model() -> str:
    """The CPU's model name, family and model number, plus whether it has AVX-512: numpy and
    OpenBLAS pick their kernels by CPU, so the same seed gives the same losses only on the same
    kind of CPU (a Sobol-phase loss differed in its 16th digit between two machines, after which
    the GP runs diverged). A virtual machine may mask the model name ("AMD EPYC" for two
    generations whose runs differ), so the family and model numbers tell the kinds apart."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    fields: dict[str, str] = {}
    for line in info.splitlines():  # one block per logical CPU: the first one is enough
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name", "unknown")
    family, number = fields.get("cpu family"), fields.get("model")
    kind = f" (family {family}, model {number})" if family and number else ""
    avx512 = "avx512f" in fields.get("flags", "").split()
    return f"{name}{kind}, {'AVX-512' if avx512 else 'no AVX-512'}"


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("numpy", "scipy", "scikit-learn", "optuna", "scikit-optimize", "torch", "amtune"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


if __name__ == "__main__":
    raise SystemExit(main())
