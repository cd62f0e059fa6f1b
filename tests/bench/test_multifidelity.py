"""``python -m bench.multifidelity``: its figures are only worth its model of workers and budget.

The tests pin that model: at most ``workers`` jobs run at once (so every claim sees the others
pending), steps arrive in order and are each counted once, a stopped job frees its worker for
the next claim, the step budget and the job limit hold, and the command writes its summary.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.multifidelity.__main__ import main
from bench.multifidelity.ceiling import ceiling
from bench.multifidelity.methods import METHODS
from bench.multifidelity.problems import crossing
from bench.multifidelity.simulator import Job, simulate

from amtune.engine.spaces import Config

PROBLEM = crossing(9)


class _Recording:
    """Numbered configs; stops every odd-numbered job at step 2; records what it saw."""

    def __init__(self) -> None:
        self.running_at_ask: list[int] = []
        self.ended_jobs: list[Job] = []

    def ask(self, jobs: list[Job]) -> Config | None:
        self.running_at_ask.append(sum(1 for j in jobs if not j.ended))
        k = len(jobs)
        return {"x0": repr(k / 100), "x1": "0.5", "x2": "0.5", "lr": "0.01"}

    def should_stop(self, job: Job, jobs: list[Job]) -> bool:
        assert [s for s, _ in job.reported] == list(range(1, len(job.reported) + 1))
        return job.number % 2 == 1 and len(job.reported) == 2

    def ended(self, job: Job, jobs: list[Job]) -> None:
        self.ended_jobs.append(job)


def test_workers_budget_and_stops() -> None:
    method = _Recording()
    trace = simulate(PROBLEM, method, workers=4, step_budget=100)
    assert trace.total_steps == 100
    assert max(method.running_at_ask) == 3  # a claim always sees the other workers' jobs
    assert method.running_at_ask[:4] == [0, 1, 2, 3]
    ended = method.ended_jobs
    assert all(len(j.reported) == 2 for j in ended if j.number % 2 and j.stopped)
    assert all(len(j.reported) == 9 for j in ended if not j.stopped)
    assert sum(not j.stopped for j in ended) == trace.completed
    # the best final objective only improves, and is what the ended jobs reported last
    assert trace.best == sorted(trace.best, reverse=True)
    assert trace.best[-1] == min(j.reported[-1][1] for j in ended)


def test_job_limit_lets_every_claimed_job_end() -> None:
    method = _Recording()
    trace = simulate(PROBLEM, method, workers=4, job_limit=6)
    assert trace.jobs == 6 and len(method.ended_jobs) == 6
    assert trace.total_steps == 3 * 9 + 3 * 2


def test_the_command_writes_every_method_and_the_targets(tmp_path: Path) -> None:
    out = tmp_path / "tiny.json"
    md = tmp_path / "tiny.md"
    assert main(["--profile", "tiny", "--out", str(out), "--markdown", str(md)]) == 0
    summary = json.loads(out.read_text())
    runs = summary["problems"]["crossing-9"]["runs"]
    assert {"amtune-hyperband", "amtune-bayesian-auto", "optuna-tpe-median"} <= set(runs)
    for records in runs.values():
        assert [r["seed"] for r in records] == [0, 1]
        assert all(s >= 0.0 for r in records for s in r["scores"])
    auto = runs["amtune-bayesian-auto"]
    assert all(
        r["job_limited"]["steps"] <= summary["problems"]["crossing-9"]["budget"] for r in auto
    )
    assert "Targets:" in md.read_text()


def test_merge_adds_a_later_runs_methods_to_the_same_problem(tmp_path: Path) -> None:
    first, second, merged = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "m.json"
    assert main(["--profile", "tiny", "--methods", "amtune-random", "--out", str(first)]) == 0
    assert main(["--profile", "tiny", "--methods", "optuna-tpe-median", "--out", str(second)]) == 0
    assert main(["--merge", str(first), str(second), "--out", str(merged)]) == 0
    runs = json.loads(merged.read_text())["problems"]["crossing-9"]["runs"]
    assert set(runs) == {"amtune-bayesian", "amtune-random", "optuna-tpe-median"}
    # runs are deterministic: the reference both parts ran scored the same
    first_reference = json.loads(first.read_text())["problems"]["crossing-9"]["runs"]
    scores = [r["scores"] for r in first_reference["amtune-bayesian"]]
    assert [r["scores"] for r in runs["amtune-bayesian"]] == scores


def test_the_ceiling_replays_the_reference_search() -> None:
    """Replayed in the last bracket (full training), the reference's configurations reach its
    final value at the very step the reference did; with the oracle's brackets never later."""
    jobs = 8
    budget = jobs * PROBLEM.max_resource
    reference = simulate(
        PROBLEM, METHODS["amtune-bayesian"](PROBLEM, 0), workers=4, step_budget=budget
    )
    replays = ceiling(PROBLEM, [0], jobs=jobs)
    fractions = replays.hyperband
    assert set(fractions) == {"service", "bracket-0", "bracket-1", "bracket-2", "oracle"}
    full = reference.steps_to(reference.best_at(budget)) / budget
    assert fractions["bracket-2"] == [full]  # rungs 1, 3, 9: bracket 2 is full training
    assert fractions["oracle"][0] <= full
    assert 0.0 <= replays.median_saved[0] < 1.0  # the median rule only ever shortens jobs
