"""Per-problem normalisation constants, computed once and kept in ``baselines.json``.

``median_random`` is the median loss of a single uniformly random config (AMT's own uniform
distribution: ``SearchSpace.from_unit`` of a uniform unit point), estimated from many samples
drawn with a fixed seed. ``best_seen`` is the lowest loss ever observed for the problem: by the
random sample, and by every benchmark run since (updated after each run, never raised). For
problems without a known optimum, ``opt = min(best_seen, best in the current run)``, Bayesmark's
"best ever found" estimate. Each entry records the command line that computed it, so the file can
be regenerated; delete an entry (or the file) to recompute.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .scoring import Reference

BASELINE_FILE = Path(__file__).with_name("baselines.json")
SYNTHETIC_SAMPLES = 10_000
MODEL_SAMPLES = 256
CALIBRATION_SEED = 20_201
_CHUNKS = 4


def load(path: Path = BASELINE_FILE) -> dict[str, Any]:
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def save(data: Mapping[str, Any], path: Path = BASELINE_FILE) -> None:
    path.write_text(json.dumps(dict(sorted(data.items())), indent=1, sort_keys=True) + "\n")


def default_samples(problem: str) -> int:
    from .problems import get_problem

    return SYNTHETIC_SAMPLES if get_problem(problem).family == "synthetic" else MODEL_SAMPLES


def _sample_chunk(task: tuple[str, int, int]) -> list[float]:
    """Losses of ``count`` random configs, stream ``chunk`` of the calibration seed."""
    problem_name, chunk, count = task
    from amtune.engine.spaces import SearchSpace

    from .problems import get_problem

    problem = get_problem(problem_name)
    space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
    rng = np.random.default_rng([CALIBRATION_SEED, chunk])
    return [problem.loss(space.from_unit(rng.random(space.dim))) for _ in range(count)]


def canonical_command(problem: str, samples: int) -> str:
    """The command that recomputes exactly this entry (the sample stream is seeded)."""
    return (
        f"python -m bench.bayes --calibrate-only --problems {problem} "
        f"--calibration-samples {samples}"
    )


def calibrate(
    problems: Sequence[str],
    jobs: int,
    command: str,
    samples: int | None = None,
    path: Path = BASELINE_FILE,
) -> dict[str, Any]:
    """Compute (and store) the entries missing for ``problems``; return the whole file."""
    from .runner import _init_worker

    data = load(path)
    missing = [p for p in problems if p not in data]
    if not missing:
        return data
    tasks: list[tuple[str, int, int]] = []
    for name in missing:
        total = samples or default_samples(name)
        per = [total // _CHUNKS + (1 if i < total % _CHUNKS else 0) for i in range(_CHUNKS)]
        tasks.extend((name, i, c) for i, c in enumerate(per) if c)
    if jobs <= 1:
        _init_worker()
        outputs = [_sample_chunk(t) for t in tasks]
    else:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(jobs, initializer=_init_worker) as pool:
            outputs = pool.map(_sample_chunk, tasks, chunksize=1)
    losses: dict[str, list[float]] = {name: [] for name in missing}
    for (name, _, _), out in zip(tasks, outputs, strict=True):
        losses[name].extend(out)
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for name in missing:
        arr = np.asarray(losses[name], dtype=float)
        data[name] = {
            "median_random": float(np.median(arr)),
            "best_random": float(np.min(arr)),
            "best_seen": float(np.min(arr)),
            "n_samples": int(arr.size),
            "seed": CALIBRATION_SEED,
            "command": canonical_command(name, int(arr.size)),
            "computed_during": command,
            "date": today,
        }
    save(data, path)
    return data


def references(
    data: Mapping[str, Any], curves: Iterable[tuple[str, Sequence[float]]]
) -> dict[str, Reference]:
    """``Reference`` per problem: known optimum, else the best value ever seen (file + runs)."""
    from .problems import get_problem

    best: dict[str, float] = {}
    for problem, losses in curves:
        finite = [v for v in losses if math.isfinite(v)]
        if finite:
            best[problem] = min(best.get(problem, math.inf), *finite)
    refs: dict[str, Reference] = {}
    for problem in sorted(best):
        if problem not in data:
            continue
        known = get_problem(problem).optimum_loss
        opt = (
            known
            if known is not None
            else min(data[problem]["best_seen"], best.get(problem, math.inf))
        )
        refs[problem] = Reference(median_random=data[problem]["median_random"], optimum=opt)
    return refs


def record_best(
    data: dict[str, Any],
    curves: Iterable[tuple[str, Sequence[float]]],
    path: Path = BASELINE_FILE,
) -> None:
    """Lower each problem's ``best_seen`` to the best of ``curves`` and save."""
    changed = False
    for problem, losses in curves:
        finite = [v for v in losses if math.isfinite(v)]
        if problem in data and finite and min(finite) < data[problem]["best_seen"]:
            data[problem]["best_seen"] = float(min(finite))
            changed = True
    if changed:
        save(data, path)
