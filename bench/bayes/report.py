"""Turning runs into the results JSON and the Markdown table in ``bench/RESULTS.md``.

RESULTS.md keeps one section per profile between HTML-comment markers; a new run of a profile
rewrites its own section and leaves the rest of the file (other profiles, notes) alone.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .runner import RunResult
from .scoring import (
    CHECKPOINTS,
    Reference,
    Score,
    aggregate,
    paired_difference,
    per_problem_scores,
    random_search_references,
)

RESULTS_MD = Path(__file__).resolve().parent.parent / "RESULTS.md"
PAIRED_REFERENCE = "amtune-bayesian"
"""The optimizer every peer is compared with, seed by seed, in the paired table."""
NOISE_NOTE = (
    "Figures come from a shared, noisy 2-core machine (other work runs beside the benchmark): "
    "scores are deterministic for a given seed on one kind of CPU (bench/README.md), "
    "timings are indicative only."
)


def summarise(results: Sequence[RunResult], refs: Mapping[str, Reference]) -> dict[str, Any]:
    """Scores per (optimizer, batch) at every checkpoint, per-problem scores, ask timings."""
    groups: dict[tuple[str, int], dict[tuple[str, int], list[float]]] = defaultdict(dict)
    timing: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(
        lambda: {"ask": [], "tell": [], "wall": [], "ask_cpu": [], "tell_cpu": [], "cpu": []}
    )
    errors: list[dict[str, Any]] = []
    fallbacks: dict[str, int] = defaultdict(int)
    for res in results:
        key = (res.spec.optimizer, res.spec.batch)
        if res.error is not None:
            errors.append({"spec": res.to_json()["spec"], "error": res.error})
            continue
        groups[key][(res.spec.problem, res.spec.seed)] = res.losses
        timing[key]["ask"].extend(res.ask_ms)
        timing[key]["tell"].extend(res.tell_ms)
        timing[key]["wall"].append(res.wall_s)
        timing[key]["ask_cpu"].extend(res.ask_cpu_ms)
        timing[key]["tell_cpu"].extend(res.tell_cpu_ms)
        timing[key]["cpu"].append(res.cpu_s)
        fallbacks[res.spec.optimizer] += res.fallbacks
    rows = []
    for (opt, batch), curves in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        scores = aggregate(curves, refs)
        rows.append(
            {
                "optimizer": opt,
                "batch": batch,
                "scores": {str(n): vars(s) for n, s in scores.items()},
                "per_problem_at_max": per_problem_scores(curves, refs, _last_checkpoint(curves)),
                "ask_ms_median": _median(timing[(opt, batch)]["ask"]),
                "tell_ms_median": _median(timing[(opt, batch)]["tell"]),
                "run_wall_s_median": _median(timing[(opt, batch)]["wall"]),
                "ask_cpu_ms_median": _median(timing[(opt, batch)]["ask_cpu"]),
                "tell_cpu_ms_median": _median(timing[(opt, batch)]["tell_cpu"]),
                "run_cpu_s_median": _median(timing[(opt, batch)]["cpu"]),
                "runs": len(curves),
            }
        )
    return {
        "rows": rows,
        "random_scale": _random_scale_rows(groups, refs),
        "paired": _paired_rows(groups, refs),
        "errors": errors,
        "fallbacks": dict(fallbacks),
    }


RANDOM_OPTIMIZER = "random"


def _random_scale_rows(
    groups: Mapping[tuple[str, int], Mapping[tuple[str, int], Sequence[float]]],
    refs: Mapping[str, Reference],
) -> list[dict[str, Any]]:
    """Every optimizer's scores on the random-search scale (none without random-search runs).

    Random search's runs of any batch size form the reference: a random search's configs do
    not depend on the batch, so its runs of one seed are the same at every batch size."""
    random_curves = {
        (problem, seed): losses
        for (opt, batch), curves in groups.items()
        if opt == RANDOM_OPTIMIZER
        for (problem, seed), losses in curves.items()
    }
    if not random_curves:
        return []
    per_n = random_search_references(random_curves, refs)
    rows = []
    for (opt, batch), curves in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        scores = {}
        for n, refs_n in per_n.items():
            covered = {key: losses for key, losses in curves.items() if key[0] in refs_n}
            score = aggregate(covered, refs_n, [n]).get(n) if covered else None
            if score is not None:
                scores[str(n)] = vars(score)
        rows.append({"optimizer": opt, "batch": batch, "scores": scores})
    return rows


def _paired_rows(
    groups: Mapping[tuple[str, int], Mapping[tuple[str, int], Sequence[float]]],
    refs: Mapping[str, Reference],
) -> list[dict[str, Any]]:
    """``PAIRED_REFERENCE`` minus each peer of the same batch size, per checkpoint."""
    rows = []
    for (opt, batch), curves in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        reference = groups.get((PAIRED_REFERENCE, batch))
        if opt == PAIRED_REFERENCE or reference is None:
            continue
        diffs = {n: paired_difference(reference, curves, refs, n) for n in CHECKPOINTS}
        rows.append(
            {
                "optimizer": opt,
                "batch": batch,
                "diffs": {str(n): vars(d) for n, d in diffs.items() if d is not None},
            }
        )
    return rows


def _last_checkpoint(curves: Mapping[tuple[str, int], Sequence[float]]) -> int:
    """The largest checkpoint every run reached (the run length if it is shorter than all)."""
    shortest = min(len(v) for v in curves.values())
    reached = [n for n in CHECKPOINTS if n <= shortest]
    return max(reached) if reached else shortest


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan


def _fmt_score(score: Mapping[str, Any] | None) -> str:
    if not score:
        return "-"
    se = score["se"]
    return f"{score['mean']:.1f}" + ("" if math.isnan(se) else f" ± {se:.1f}")


def markdown(
    summary: Mapping[str, Any],
    *,
    profile: str,
    command: str,
    date: str,
    problems: Sequence[str],
    seeds: Sequence[int],
    refs: Mapping[str, Reference],
    notes: Sequence[str] = (),
) -> str:
    """The profile's section of RESULTS.md."""
    lines = [
        f"## Profile `{profile}` — {date}",
        "",
        f"Command: `{command}`",
        "",
        f"{len(problems)} problems x {len(seeds)} seeds (seeds {_seed_text(seeds)}); "
        "score = 100 x (1 - mean normalised regret), mean ± standard error over seeds. "
        "100 = the optimum (known, or best ever seen), 0 = the median of one random evaluation.",
        "",
        f"> {NOISE_NOTE}",
        "",
        "| optimizer | batch | @16 | @32 | @64 | @128 | ask ms | ask cpu ms | tell cpu ms "
        "| run cpu s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    best_at: dict[tuple[int, str], float] = {}
    for row in summary["rows"]:
        for n, s in row["scores"].items():
            k = (row["batch"], n)
            best_at[k] = max(best_at.get(k, -math.inf), s["mean"])
    for row in summary["rows"]:
        cells = []
        for n in CHECKPOINTS:
            s = row["scores"].get(str(n))
            text = _fmt_score(s)
            if s and s["mean"] == best_at.get((row["batch"], str(n))):
                text = f"**{text}**"
            cells.append(text)
        lines.append(
            f"| {row['optimizer']} | {row['batch']} | "
            + " | ".join(cells)
            + f" | {_ms(row['ask_ms_median'])} | {_ms(row['ask_cpu_ms_median'])} "
            f"| {_ms(row['tell_cpu_ms_median'])} | {_ms(row['run_cpu_s_median'])} |"
        )
    lines += _paired_table(summary["paired"])
    lines += _random_scale_table(summary.get("random_scale", []))
    lines += [
        "",
        "Timings are medians per configuration (a batch call divided by its size): `ask ms` is "
        "wall-clock time, `cpu ms` the process CPU time (one BLAS/torch thread per process), "
        "which other load on the machine disturbs less; `run cpu s` is a whole run's CPU time "
        "including the objective. scikit-optimize fits its GP and optimises its acquisition "
        "inside `tell`, Optuna and amtune inside `ask`: compare ask + tell for cost.",
        "",
        "Per problem at the last checkpoint (mean over seeds of 100 x (1 - r)):",
        "",
    ]
    header = ["problem", "opt", "median random"] + [
        f"{r['optimizer']} b{r['batch']}" for r in summary["rows"]
    ]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|---|---:|---:|" + "---:|" * len(summary["rows"]))
    for p in problems:
        ref = refs.get(p)
        cells = [
            p,
            f"{ref.optimum:.5g}" if ref else "?",
            f"{ref.median_random:.5g}" if ref else "?",
        ]
        for row in summary["rows"]:
            v = row["per_problem_at_max"].get(p)
            cells.append("-" if v is None else f"{v:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    if summary["errors"]:
        lines += ["", f"{len(summary['errors'])} runs crashed (see the JSON for tracebacks):"]
        for err in summary["errors"][:10]:
            last = err["error"].strip().splitlines()[-1]
            spec = err["spec"]
            lines.append(
                f"- {spec['optimizer']} b{spec['batch']} {spec['problem']} seed {spec['seed']}: "
                f"`{last}`"
            )
    if any(summary["fallbacks"].values()):
        lines += [
            "",
            "Strategy returned no config (space exhausted), random config used: "
            + ", ".join(f"{k}: {v}" for k, v in summary["fallbacks"].items() if v),
        ]
    lines += ["", *notes] if notes else []
    return "\n".join(lines).rstrip() + "\n"


def _random_scale_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Markdown lines of the scores on the random-search scale (none without such rows)."""
    if not rows:
        return []
    lines = [
        "",
        "The same runs on the random-search scale: 0 = the median best value of random search "
        "after the same number of evaluations, 100 = the optimum, below 0 = worse than random "
        "search (a run's regret is clipped at twice random search's).",
        "",
        "| optimizer | batch | @16 | @32 | @64 | @128 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        cells = [_fmt_score(row["scores"].get(str(n))) for n in CHECKPOINTS]
        lines.append(f"| {row['optimizer']} | {row['batch']} | " + " | ".join(cells) + " |")
    return lines


def _paired_table(paired: Sequence[Mapping[str, Any]]) -> list[str]:
    """Markdown lines of the paired comparison (none when no row has one)."""
    if not any(row["diffs"] for row in paired):
        return []
    lines = [
        "",
        f"{PAIRED_REFERENCE} minus each peer, seed by seed: mean ± standard error over the seeds "
        "on which both ran every problem (the seeds column), of the difference of their "
        "per-seed scores. Same seeds, same luck: this is the test of a lead.",
        "",
        "| peer | batch | @16 | @32 | @64 | @128 | seeds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in paired:
        diffs = row["diffs"]
        if not diffs:
            continue
        cells = [
            f"{diffs[str(n)]['mean']:+.2f} ± {diffs[str(n)]['se']:.2f}" if str(n) in diffs else "-"
            for n in CHECKPOINTS
        ]
        seeds = max(d["n_seeds"] for d in diffs.values())
        lines.append(
            f"| {row['optimizer']} | {row['batch']} | " + " | ".join(cells) + f" | {seeds} |"
        )
    return lines


def _seed_text(seeds: Sequence[int]) -> str:
    s = sorted(seeds)
    if s == list(range(s[0], s[-1] + 1)):
        return f"{s[0]}-{s[-1]}" if len(s) > 1 else str(s[0])
    return ", ".join(map(str, s))


COMPACT_SUFFIX = ".json.gz"
"""A results file named ``*.json.gz`` is written compact: gzip, without the per-suggestion
timing lists (the summary keeps their medians). Only compact files are committed; plain
``.json`` files under ``bench/bayes/results`` are ignored by git."""

_PER_SUGGESTION = ("ask_ms", "tell_ms", "ask_cpu_ms", "tell_cpu_ms")


def write_results(path: Path, payload: Mapping[str, Any]) -> None:
    """Write a results payload as JSON, or compact (see ``COMPACT_SUFFIX``) by its name."""
    if not path.name.endswith(COMPACT_SUFFIX):
        path.write_text(json.dumps(payload, separators=(",", ":"), allow_nan=False) + "\n")
        return
    runs = [{**run, **{key: [] for key in _PER_SUGGESTION}} for run in payload.get("runs", [])]
    text = json.dumps({**payload, "runs": runs}, separators=(",", ":"), allow_nan=False)
    path.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def read_results_payload(path: Path) -> dict[str, Any]:
    """A results file's payload, plain or compact."""
    raw = Path(path).read_bytes()
    if path.name.endswith(COMPACT_SUFFIX):
        raw = gzip.decompress(raw)
    payload: dict[str, Any] = json.loads(raw)
    return payload


def write_section(profile: str, body: str, path: Path = RESULTS_MD) -> None:
    """Replace (or append) the profile's marked section of RESULTS.md."""
    start, end = f"<!-- bench.bayes:{profile}:start -->", f"<!-- bench.bayes:{profile}:end -->"
    block = f"{start}\n{body}{end}\n"
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    text = (
        pattern.sub(lambda _m: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block
    )
    path.write_text(text)


def scores_of(row: Mapping[str, Any]) -> dict[int, Score]:
    return {int(n): Score(**s) for n, s in row["scores"].items()}
