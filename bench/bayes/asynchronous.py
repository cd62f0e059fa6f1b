"""Parallel workers that arrive one at a time: ``python -m bench.bayes.asynchronous``.

The benchmark's batch mode asks ``B`` configs, evaluates them, and tells all ``B`` before asking
again, so the optimizer sees 0 to ``B - 1`` pending configs. Workers of a real tuning job do
not wait for each other: each claims the moment it finishes, so nearly every claim is made with
``B - 1`` jobs pending. This driver runs optimizers that way, beside the batch mode, for every
optimizer that sees its pending configs: amtune's engine (kriging believers), Optuna's
GPSampler (which conditions on running trials itself) and Optuna's TPE (``constant_liar=True``).

Jobs are taken to last equally long, so they finish in the order they were handed out
(first in, first out) and the run stays deterministic for a seed. ``--workers 1`` is the
sequential mode (one worker, nothing pending).

Output: per mode and worker count, each optimizer's score (Bayesmark's scale; with ``random``
among the optimizers also the random-search scale, 0 = the median best of random search at the
same budget), the lead optimizer minus each peer paired seed by seed, and per-problem scores at
the last checkpoint. ``--out`` stores the runs; ``--report`` rebuilds the tables from stored
files, so an engine variant (``--label``, with another engine first on ``PYTHONPATH``) can be
compared with runs made earlier.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .optimizers import AskTell
from .problems import Config, Problem
from .profiles import PROFILES

#: Adapters whose single ``ask`` ignores configs still running (scikit-optimize's ``ask()``
#: returns the same point until told); driving them asynchronously would measure that, not them.
BLIND_TO_PENDING = frozenset({"skopt-gp"})
RANDOM = "random"

Curves = dict[tuple[str, int], list[float]]


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


@dataclass(frozen=True)
class AsyncSpec:
    """One run: ``mode`` is ``"async"`` (workers claim one at a time) or ``"batch"``."""

    optimizer: str
    problem: str
    seed: int
    mode: str
    workers: int
    n_evals: int
    label: str = ""

    @property
    def name(self) -> str:
        """The optimizer's name in the tables (``label`` when given)."""
        return self.label or self.optimizer


def run_spec(spec: AsyncSpec) -> dict[str, Any]:
    """One run's record: the spec, its losses and its CPU seconds (never raises)."""
    import traceback

    from .optimizers import make_optimizer
    from .problems import get_problem

    cpu = time.process_time()
    record: dict[str, Any] = {"spec": asdict(spec), "losses": [], "error": None}
    try:
        problem = get_problem(spec.problem)
        if spec.mode == "batch":
            record["losses"] = _run_batches(spec.optimizer, problem, spec.seed, spec)
        else:
            opt = make_optimizer(spec.optimizer, problem, spec.seed)
            record["losses"] = run_asynchronous(opt, problem, spec.n_evals, spec.workers)
    except Exception:  # a crashing optimiser is a result to report, not a reason to stop
        record["error"] = traceback.format_exc(limit=8)
    record["cpu_s"] = time.process_time() - cpu
    return record


def _run_batches(optimizer: str, problem: Problem, seed: int, spec: AsyncSpec) -> list[float]:
    """The benchmark's own batch mode, exactly as ``python -m bench.bayes --batch`` runs it."""
    from .runner import RunSpec, run_one

    result = run_one(RunSpec(optimizer, problem.name, seed, spec.workers, spec.n_evals))
    if result.error is not None:
        raise RuntimeError(result.error)
    return result.losses


def _init_worker() -> None:
    from .runner import pin_threads

    pin_threads()
    import warnings

    warnings.filterwarnings("ignore")


def run_all(
    specs: Sequence[AsyncSpec], jobs: int, out: Path | None = None, command: str = ""
) -> list[dict[str, Any]]:
    """Every spec, on ``jobs`` spawned processes (GP peers first, so the cores end together);
    with ``out``, the runs so far are saved after each one, so a stopped run keeps its work."""
    weight = {"optuna-gp": 4, "amtune-bayesian": 2}
    todo = sorted(specs, key=lambda s: (-weight.get(s.optimizer, 1), s.problem, s.seed))
    records: list[dict[str, Any]] = []

    def progress(record: dict[str, Any]) -> None:
        records.append(record)
        spec, state = record["spec"], "error" if record["error"] else "ok"
        print(
            f"[{len(records)}/{len(todo)}] {spec['label'] or spec['optimizer']} "
            f"{spec['problem']} seed {spec['seed']} {spec['mode']} {spec['workers']}: "
            f"{state}, {record['cpu_s']:.1f} CPU-s",
            file=sys.stderr,
            flush=True,
        )
        if out is not None:
            save(out, records, command)

    if jobs <= 1:
        _init_worker()
        for spec in todo:
            progress(run_spec(spec))
        return records
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(processes=jobs, initializer=_init_worker) as pool:
        for record in pool.imap_unordered(run_spec, todo, chunksize=1):
            progress(record)
    return records


def save(path: Path, records: Sequence[dict[str, Any]], command: str) -> None:
    """Runs as JSON (gzip when the name ends in ``.gz``); non-finite losses become null."""
    clean = [
        {**r, "losses": [v if math.isfinite(v) else None for v in r["losses"]]} for r in records
    ]
    text = json.dumps({"command": command, "date": time.strftime("%Y-%m-%d"), "runs": clean})
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))
    else:
        path.write_text(text + "\n")


def load(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    runs: list[dict[str, Any]] = json.loads(raw)["runs"]
    for r in runs:
        r["losses"] = [math.inf if v is None else float(v) for v in r["losses"]]
    return runs


def group(records: Sequence[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Curves]]:
    """``(mode, workers) -> optimizer name -> (problem, seed) -> losses``; later records win.

    Random search does not depend on the mode, so its runs stand in every group."""
    groups: dict[tuple[str, int], dict[str, Curves]] = defaultdict(lambda: defaultdict(dict))
    randoms: Curves = {}
    for r in records:
        if r["error"]:
            continue
        spec = AsyncSpec(**r["spec"])
        if spec.optimizer == RANDOM:
            randoms[(spec.problem, spec.seed)] = r["losses"]
            continue
        groups[(spec.mode, spec.workers)][spec.name][(spec.problem, spec.seed)] = r["losses"]
    for by_name in groups.values():
        if randoms:
            by_name[RANDOM] = dict(randoms)
    return groups


def report(records: Sequence[dict[str, Any]], lead: str) -> str:
    """The tables described in the module docstring, as Markdown."""
    from . import baselines
    from .scoring import (
        CHECKPOINTS,
        aggregate,
        paired_difference,
        per_problem_scores,
        random_search_references,
    )

    every = [(r["spec"]["problem"], r["losses"]) for r in records if not r["error"] and r["losses"]]
    refs = baselines.references(baselines.load(), every)
    groups = group(records)
    lines: list[str] = []
    for (mode, workers), by_name in sorted(groups.items()):
        n_max = min(len(v) for curves in by_name.values() for v in curves.values())
        checks = sorted({n for n in CHECKPOINTS if n < n_max} | {n_max})
        head = "| optimizer | " + " | ".join(f"@{n}" for n in checks) + " |"
        rule = "|---|" + "---:|" * len(checks)
        scales: list[tuple[str, Mapping[int, Any]]] = [
            ("Bayesmark scale", {n: refs for n in checks})
        ]
        if RANDOM in by_name:
            scales.append(
                ("random-search scale", random_search_references(by_name[RANDOM], refs, checks))
            )
        for scale_name, refs_at in scales:
            lines += ["", f"**{mode}, {workers} worker(s), {scale_name}**", "", head, rule]
            for name, curves in sorted(by_name.items(), key=lambda kv: (kv[0] != lead, kv[0])):
                cells = []
                for n in checks:
                    covered = {k: v for k, v in curves.items() if k[0] in refs_at[n]}
                    score = aggregate(covered, refs_at[n], [n]).get(n) if covered else None
                    cells.append("" if score is None else f"{score.mean:.1f} ± {score.se:.1f}")
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
            if lead not in by_name:
                continue
            lines += ["", f"{lead} minus each, paired seed by seed:", "", head, rule]
            for name, curves in sorted(by_name.items()):
                if name == lead:
                    continue
                cells = []
                for n in checks:
                    diff = paired_difference(
                        {k: v for k, v in by_name[lead].items() if k[0] in refs_at[n]},
                        {k: v for k, v in curves.items() if k[0] in refs_at[n]},
                        refs_at[n],
                        n,
                    )
                    cells.append(
                        "" if diff is None else f"{diff.mean:+.2f} ± {diff.se:.2f} ({diff.n_seeds})"
                    )
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
        last = checks[-1]
        rs = scales[-1][1][last]
        names = sorted(by_name, key=lambda n: (n != lead, n))
        lines += ["", f"per problem at {last} ({scales[-1][0]}):", ""]
        lines += ["| problem | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        table = {
            name: per_problem_scores(
                {k: v for k, v in by_name[name].items() if k[0] in rs}, rs, last
            )
            for name in names
        }
        for problem in sorted({p for t in table.values() for p in t}):
            cells = [f"{table[n][problem]:.1f}" if problem in table[n] else "" for n in names]
            lines.append(f"| {problem} | " + " | ".join(cells) + " |")
        if lead in by_name:
            lines += _against_peers(by_name, lead, [(name, at[last]) for name, at in scales], last)
    batch_vs_async = _batch_minus_async(groups, refs)
    if batch_vs_async:
        lines += ["", *batch_vs_async]
    return "\n".join(lines) + "\n"


def _against_peers(
    by_name: Mapping[str, Curves],
    lead: str,
    scales: Sequence[tuple[str, Mapping[str, Any]]],
    n: int,
) -> list[str]:
    """The targets' two comparisons at ``n`` evaluations, on each scale: ``lead`` at ``n // 2``
    against each peer at ``n`` (twice the sample efficiency), both measured on the scale of
    ``n``; and per problem, ``lead`` minus the peer with the higher mean there, paired by seed."""
    from .scoring import paired_difference, per_problem_scores

    peers = sorted(name for name in by_name if name not in (lead, RANDOM))
    if not peers:
        return []
    lines = ["", f"{lead} at {n // 2} minus each at {n}, paired seed by seed:", ""]
    lines += ["| optimizer | " + " | ".join(name for name, _ in scales) + " |"]
    lines += ["|---|" + "---:|" * len(scales)]
    for peer in peers:
        cells = []
        for _, refs in scales:
            diff = paired_difference(
                {k: v for k, v in by_name[lead].items() if k[0] in refs},
                {k: v for k, v in by_name[peer].items() if k[0] in refs},
                refs,
                n,
                n_a=n // 2,
            )
            cells.append("" if diff is None else f"{diff.mean:+.1f} ± {diff.se:.1f}")
        lines.append(f"| {peer} | " + " | ".join(cells) + " |")
    lines += ["", f"per problem at {n}, {lead} minus the better peer there, paired by seed:", ""]
    lines += ["| problem | " + " | ".join(name for name, _ in scales) + " |"]
    lines += ["|---|" + "---:|" * len(scales)]
    problems = sorted({p for p, _ in by_name[lead]})
    for problem in problems:
        cells = []
        for _, refs in scales:
            if problem not in refs:
                cells.append("")
                continue
            mine = {k: v for k, v in by_name[lead].items() if k[0] == problem}
            means = {
                peer: per_problem_scores(
                    {k: v for k, v in by_name[peer].items() if k[0] == problem}, refs, n
                ).get(problem, -math.inf)
                for peer in peers
            }
            best = max(peers, key=lambda peer: means[peer])
            theirs = {k: v for k, v in by_name[best].items() if k[0] == problem}
            diff = paired_difference(mine, theirs, refs, n)
            cells.append("" if diff is None else f"{diff.mean:+.1f} ± {diff.se:.1f} ({best})")
        lines.append(f"| {problem} | " + " | ".join(cells) + " |")
    return lines


def _batch_minus_async(
    groups: Mapping[tuple[str, int], Mapping[str, Curves]], refs: Mapping[str, Any]
) -> list[str]:
    """Per optimizer and worker count run both ways: batch minus async, paired by seed."""
    from .scoring import paired_difference

    out = []
    for (mode, workers), by_name in sorted(groups.items()):
        if mode != "batch" or ("async", workers) not in groups:
            continue
        for name, curves in sorted(by_name.items()):
            other = groups[("async", workers)].get(name)
            if name == RANDOM or other is None:
                continue
            n = min(len(v) for v in (*curves.values(), *other.values()))
            diff = paired_difference(curves, other, refs, n)
            if diff is not None:
                out.append(
                    f"{name}, {workers} workers, batch minus async at {n}, paired over "
                    f"{diff.n_seeds} seeds: {diff.mean:+.2f} ± {diff.se:.2f}"
                )
    return out


def _seeds(text: str) -> list[int]:
    return [int(s) for s in text.split(",")] if "," in text else list(range(int(text)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bayes.asynchronous", description=__doc__)
    parser.add_argument("--optimizers", "--optimizer", default="amtune-bayesian")
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="a named profile's problems, seeds and evaluations, as the defaults of "
        "--problems, --seeds and --evals",
    )
    parser.add_argument("--problems", help="comma list (ackley5); with --report: a filter")
    parser.add_argument(
        "--seeds", help="N = seeds 0..N-1, or a comma list (10); with --report: a filter"
    )
    parser.add_argument("--workers", default="8", help="comma list of worker counts (8)")
    parser.add_argument("--modes", default="batch,async", help="batch, async or both")
    parser.add_argument("--evals", type=int, help="evaluations per run (128)")
    parser.add_argument("--jobs", type=int, default=1, help="processes (1)")
    parser.add_argument("--label", default="", help="name for amtune-bayesian's runs")
    parser.add_argument("--lead", default="", help="optimizer compared with each (default: own)")
    parser.add_argument("--out", type=Path, help="store the runs (.json or .json.gz)")
    parser.add_argument("--report", type=Path, nargs="+", help="tables of stored runs only")
    args = parser.parse_args(argv)
    if args.profile:
        profile = PROFILES[args.profile]
        args.problems = args.problems or ",".join(profile.problems)
        args.seeds = args.seeds or ",".join(str(s) for s in profile.seeds)
        args.evals = args.evals or profile.n_evals
    args.evals = args.evals or 128
    lead = args.lead or args.label or "amtune-bayesian"
    if args.report:
        records = [r for path in args.report for r in load(path)]
        if args.problems:
            records = [r for r in records if r["spec"]["problem"] in args.problems.split(",")]
        if args.seeds:
            records = [r for r in records if r["spec"]["seed"] in _seeds(args.seeds)]
        print(report(records, lead), end="")
        return 0
    optimizers = args.optimizers.split(",")
    seeds = _seeds(args.seeds or "10")
    workers = [int(w) for w in args.workers.split(",")]
    modes = args.modes.split(",")
    if len(seeds) < 2 or min(workers) < 1 or args.evals < 1:
        parser.error("--seeds must be at least 2, --workers and --evals at least 1")
    if set(modes) - {"batch", "async"}:
        parser.error("--modes takes batch, async or both")
    blind = BLIND_TO_PENDING.intersection(optimizers)
    if blind and "async" in modes:
        parser.error(
            f"{', '.join(sorted(blind))}'s ask does not see pending configs: one at a time, "
            "it would hand the same config to every free worker"
        )

    from .problems import get_problem

    problems = [get_problem(name).name for name in (args.problems or "ackley5").split(",")]
    specs = [
        AsyncSpec(
            opt, problem, seed, mode, w, args.evals, args.label if opt == "amtune-bayesian" else ""
        )
        for opt in optimizers
        for problem in problems
        for seed in seeds
        for w in workers
        for mode in (["batch"] if opt == RANDOM else modes)
        if not (opt == RANDOM and w != workers[0])
    ]
    command = "python -m bench.bayes.asynchronous " + " ".join(sys.argv[1:])
    records = run_all(specs, args.jobs, args.out, command)
    for r in records:
        if r["error"]:
            print(f"error in {r['spec']}:\n{r['error']}", file=sys.stderr)
    print(report(records, lead), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
