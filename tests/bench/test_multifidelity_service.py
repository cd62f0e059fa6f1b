"""``python -m bench.multifidelity --through-service``: its figures are only worth its bookkeeping.

A live server (uvicorn on a fresh SQLite database, in a thread: the benchmark starts ``amtune
serve`` in a process, which costs seconds of start-up a test need not pay) and 4 worker threads
run a small tuning job to a step budget.
What the tables rest on must hold: the workers spend exactly the budget and the service holds
exactly the points they reported, every training job ends Stopped or Completed, Hyperband
stops jobs before MaxResource, and the best job the trace scores is the BestTrainingJob that
DescribeHyperParameterTuningJob reports.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.multifidelity.problems import crossing
from bench.multifidelity.through_service import run_through_service
from tests.conftest import LiveServer

from amtune.settings import Settings
from amtune.store.migrate import upgrade

PROBLEM = crossing(9)
BUDGET = 6 * PROBLEM.max_resource


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('mf-service') / 'amtune.db'}"
    upgrade(url)
    with LiveServer(Settings(database_url=url)) as server:
        yield server.url


def test_hyperband_through_the_service_spends_the_budget_and_reports_its_best(
    endpoint: str,
) -> None:
    run = run_through_service(
        endpoint, PROBLEM, "amtune-hyperband", 0, workers=4, step_budget=BUDGET, step_seconds=0.0
    )
    assert set(run.statuses.values()) <= {"Completed", "Stopped"}
    assert "Stopped" in run.statuses.values()
    assert sum(run.steps_by_worker) == run.trace.total_steps == BUDGET
    assert run.reported_points == BUDGET  # every step reported once, none lost
    assert all(steps > 0 for steps in run.steps_by_worker)  # four workers really worked
    # Hyperband stops jobs at its rungs: more jobs than the budget pays full training for
    assert run.trace.jobs > BUDGET // PROBLEM.max_resource
    assert run.best_described is not None
    assert run.best_described == run.trace.best[-1]
    assert run.best_job_described in run.best_jobs_scored
    assert run.trace.steps == sorted(run.trace.steps) and run.trace.steps[-1] == BUDGET


def test_median_rule_through_the_service_ends_every_job(endpoint: str) -> None:
    run = run_through_service(
        endpoint,
        PROBLEM,
        "amtune-bayesian-auto",
        1,
        workers=4,
        step_budget=BUDGET,
        step_seconds=0.0,
    )
    assert set(run.statuses.values()) <= {"Completed", "Stopped"}
    assert sum(run.steps_by_worker) == run.reported_points == BUDGET
    assert len(run.trace.steps) == len(run.statuses)  # every job ended and was scored
    assert run.best_job_described in run.best_jobs_scored
