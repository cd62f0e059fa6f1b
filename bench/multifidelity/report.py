"""Markdown tables of a ``python -m bench.multifidelity`` summary: medians, paired differences,
and the issue's three targets checked on the numbers."""

from __future__ import annotations

import math
from statistics import median
from typing import Any

HYPERBAND = "amtune-hyperband"
REFERENCE = "amtune-bayesian"
AUTO = "amtune-bayesian-auto"


def _steps(x: float | None, cap: float) -> float:
    """Steps to a target; a run that never reached it counts as the whole budget (a lower bound
    on its true cost, so ratios against it favour the run that did not reach it)."""
    return cap if x is None else float(x)


def _mean_se(xs: list[float]) -> str:
    n = len(xs)
    m = sum(xs) / n
    se = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1) / n) if n > 1 else float("nan")
    return f"{m:+.1f} ± {se:.1f}"


def _fmt_steps(values: list[float | None], cap: float) -> str:
    reached = sum(1 for v in values if v is not None)
    med = median(_steps(v, cap) for v in values)
    text = f"{med:.0f}" if med < cap or reached == len(values) else f"≥{cap:.0f}"
    return f"{text} ({reached}/{len(values)})"


def _row(label: str, records: list[dict[str, Any]], budget: float) -> str:
    """One method's medians over seeds: scores at B/8 .. B, steps to the targets, jobs, CPU."""
    scores = [median(r["scores"][i] for r in records) for i in range(4)]
    return (
        f"| {label} | "
        + " | ".join(f"{s:.1f}" for s in scores)
        + f" | {_fmt_steps([r['steps_to_paired'] for r in records], budget)}"
        + f" | {_fmt_steps([r['steps_to_common'] for r in records], budget)}"
        + f" | {median(r['jobs'] for r in records):.0f}"
        + f" | {median(r['cpu_s'] for r in records):.1f} |"
    )


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"Command: `{summary['command']}`; {summary['workers']} asynchronous workers; budget "
        f"B = {summary['jobs']} full trainings; seeds {summary['seeds'][0]}-"
        f"{summary['seeds'][-1]}; wall {summary['wall_s']} s.",
        "",
    ]
    verdicts: list[str] = []
    for name, problem in summary["problems"].items():
        budget = float(problem["budget"])
        runs = problem["runs"]
        lines += [
            f"### {name} (max resource {problem['max_resource']}, B = {budget:.0f} steps, "
            f"common target score {problem['common_target_score']})",
            "",
            "| method | score B/8 | B/4 | B/2 | B | steps to paired target | steps to common "
            "target | jobs | CPU s/run |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for method, records in runs.items():
            lines.append(_row(method, records, budget))
        lines.append("")
        if HYPERBAND in runs:
            hb = runs[HYPERBAND]
            ratios = [_steps(r["steps_to_paired"], budget) / budget for r in hb]
            met = median(ratios) <= 0.25
            verdicts.append(
                f"- {name}: Hyperband reached full-training Bayesian's final score with a median "
                f"{median(ratios):.2f} of its steps (≤ 0.25 in "
                f"{sum(1 for x in ratios if x <= 0.25)}/{len(ratios)} seeds): "
                f"{'met' if met else 'NOT met'}."
            )
            lines += ["Paired against amtune-hyperband (per seed; mean ± standard error):", ""]
            lines += [
                "| peer | score B/4: HB - peer | score B: HB - peer | steps to common "
                "target: HB / peer (median) |",
                "|---|---|---|---|",
            ]
            worse = []
            for method, records in runs.items():
                if method == HYPERBAND:
                    continue
                d4 = [a["scores"][1] - b["scores"][1] for a, b in zip(hb, records, strict=True)]
                d1 = [a["scores"][3] - b["scores"][3] for a, b in zip(hb, records, strict=True)]
                ratio = median(
                    _steps(a["steps_to_common"], budget) / _steps(b["steps_to_common"], budget)
                    for a, b in zip(hb, records, strict=True)
                )
                if ratio >= 1.0:
                    worse.append(method)
                lines.append(f"| {method} | {_mean_se(d4)} | {_mean_se(d1)} | {ratio:.2f} |")
            lines.append("")
            verdicts.append(
                f"- {name}: Hyperband needed fewer steps than every peer for the common target: "
                + ("met." if not worse else f"NOT met (not fewer than {', '.join(worse)}).")
            )
        if AUTO in runs and REFERENCE in runs:
            auto = runs[AUTO]
            off = runs[REFERENCE]
            saved = [1.0 - r["job_limited"]["steps"] / budget for r in auto]
            loss = [
                b["scores"][3] - a["job_limited"]["score"] for a, b in zip(auto, off, strict=True)
            ]
            mean_loss = sum(loss) / len(loss)
            met = median(saved) >= 0.30 and mean_loss <= 1.0
            verdicts.append(
                f"- {name}: early stopping Auto, same {summary['jobs']} jobs, saved a median "
                f"{100 * median(saved):.0f} % of the steps of Off and lost "
                f"{_mean_se(loss)} points of score (Off - Auto): {'met' if met else 'NOT met'}."
            )
    return "\n".join([*lines, "Targets:", "", *verdicts, ""])


def service_markdown(summary: dict[str, Any]) -> str:
    """The ``--through-service`` tables: per problem, each method's service run beside its
    in-process run (same columns; CPU is the server process's for a service run), then the
    paired difference, service minus in process, of the same method and seed."""
    lines = [
        f"Command: `{summary['command']}`; {summary['workers']} worker threads against a live "
        f"`amtune serve` (SQLite), {summary['step_seconds']} s per training step; budget "
        f"B = {summary['jobs']} full trainings; seeds {summary['seeds'][0]}-"
        f"{summary['seeds'][-1]}; wall {summary['wall_s']} s.",
        "",
    ]
    for name, problem in summary["problems"].items():
        budget = float(problem["budget"])
        runs, served = problem["runs"], problem["service_runs"]
        lines += [
            f"### {name} through the service (B = {budget:.0f} steps, common target score "
            f"{problem['common_target_score']}; targets from the in-process amtune-bayesian)",
            "",
            "| method | score B/8 | B/4 | B/2 | B | steps to paired target | steps to common "
            "target | jobs | CPU s/run |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for method, records in served.items():
            lines.append(_row(f"{method}, service", records, budget))
            lines.append(_row(f"{method}, in process", runs[method], budget))
        lines += [
            "",
            "Service minus in process, same method and seed (mean ± standard error):",
            "",
            "| method | score B/4 | score B | steps to common target | jobs | Auto, same "
            f"{summary['jobs']} jobs: steps saved, service / in process (median) |",
            "|---|---|---|---|---|---|",
        ]
        for method, records in served.items():
            pairs = list(zip(records, runs[method], strict=True))
            d4 = [a["scores"][1] - b["scores"][1] for a, b in pairs]
            d1 = [a["scores"][3] - b["scores"][3] for a, b in pairs]
            steps = [
                _steps(a["steps_to_common"], budget) - _steps(b["steps_to_common"], budget)
                for a, b in pairs
            ]
            jobs = [float(a["jobs"] - b["jobs"]) for a, b in pairs]
            saved = "-"
            if "job_limited" in records[0]:
                s_saved = median(1.0 - r["job_limited"]["steps"] / budget for r in records)
                i_saved = median(1.0 - r["job_limited"]["steps"] / budget for r in runs[method])
                saved = f"{100 * s_saved:.0f} % / {100 * i_saved:.0f} %"
            lines.append(
                f"| {method} | {_mean_se(d4)} | {_mean_se(d1)} | {_mean_se(steps)} | "
                f"{_mean_se(jobs)} | {saved} |"
            )
        lines.append("")
    checked = [
        check
        for problem in summary["problems"].values()
        for records in problem["service_runs"].values()
        for r in records
        for check in (r["checks"], r.get("job_limited", {}).get("checks"))
        if check is not None
    ]
    held = sum(1 for check in checked if all(check.values()))
    served_only = {
        **summary,
        "problems": {
            name: {**problem, "runs": problem["service_runs"]}
            for name, problem in summary["problems"].items()
        },
    }
    verdicts = markdown(served_only).split("Targets:\n", 1)[1].strip()
    lines += ["The issue's targets on the service runs alone:", "", verdicts, ""]
    lines.append(
        f"Checks read back through the API (every training job ended Stopped or Completed; the "
        f"steps the workers counted are the points the service holds; the best scored job is "
        f"Describe's BestTrainingJob): held in {held} of {len(checked)} service runs."
    )
    return "\n".join(lines)
