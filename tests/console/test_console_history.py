"""The tuning-job page's first request (``app.console.history``), on SQLite and PostgreSQL:
the objective of each scored training job by end time, the best so far, and the counts by
status the page compares to decide whether to redraw."""

from __future__ import annotations

from amtune.app import console
from amtune.app.claims import Claim
from amtune.app.reports import MetricPoint
from amtune.app.service import Tuner
from tests.app.requests import random_request
from tests.conftest import FakeClock

JOB = "history"
METRIC = "validation:accuracy"  # Maximize in random_request


def claimed(tuner: Tuner, value: float) -> Claim:
    """A claimed training job that has reported ``value`` as its objective."""
    claim = tuner.claim(tuner.default_caller(), JOB, "worker-h")
    assert isinstance(claim, Claim), claim
    metric = [MetricPoint(METRIC, value)]
    tuner.report_metrics(tuner.default_caller(), claim.training_job_name, claim.lease_token, metric)
    return claim


def test_history_plots_scored_jobs_by_end_time_with_the_best_so_far(
    tuner: Tuner, clock: FakeClock
) -> None:
    caller = tuner.default_caller()
    tuner.create_tuning_job(caller, random_request(JOB, max_jobs=10, parallel=10))
    ended: dict[str, tuple[float, float]] = {}
    for value in (0.5, 0.7, 0.6, 0.9, 0.8):
        claim = claimed(tuner, value)
        clock.advance(10)
        tuner.complete(caller, claim.training_job_name, claim.lease_token)
        ended[claim.training_job_name] = (round(clock.now, 3), value)  # stored to the ms
    failed = claimed(tuner, 0.99)  # the highest value, but a failure's objective never counts
    tuner.fail(caller, failed.training_job_name, failed.lease_token, "CUDA out of memory")
    claimed(tuner, 0.95)  # still running: no end time, not plotted yet

    shown = console.history(tuner.ctx, caller, JOB)

    assert shown["StatusCounts"] == {"Completed": 5, "Failed": 1, "InProgress": 1}
    assert shown["TrainingJobCount"] == 7
    assert shown["ScoredCount"] == 5
    assert shown["Objective"] == {"Type": "Maximize", "MetricName": METRIC}
    assert shown["TuningJobStatus"] == "InProgress" and shown["EndTime"] is None
    assert {name: (end, value) for end, value, name in shown["Points"]} == ended
    # Maximize: the best so far steps up at each new highest objective, in end-time order.
    steps = [list(ended[name]) for name in ended if ended[name][1] in (0.5, 0.7, 0.9)]
    assert shown["BestSoFar"] == steps


def test_history_of_a_tuning_job_without_ended_jobs_is_empty_but_counted(tuner: Tuner) -> None:
    caller = tuner.default_caller()
    tuner.create_tuning_job(caller, random_request(JOB, max_jobs=3, parallel=3))
    claimed(tuner, 0.4)

    shown = console.history(tuner.ctx, caller, JOB)

    assert shown["StatusCounts"] == {"InProgress": 1}
    assert shown["Points"] == [] and shown["BestSoFar"] == []
