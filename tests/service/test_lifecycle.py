"""Tuning semantics through the application layer, on a real database with a hand-moved clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from amtune.app import claims
from amtune.app.claims import Claim, Wait
from amtune.app.domain import TrainingStatus
from amtune.app.errors import (
    Conflict,
    ResourceLimitExceeded,
    TrainingJobNotFound,
    ValidationError,
)
from amtune.app.lifecycle import end_training_job
from amtune.app.reports import MetricPoint
from amtune.app.service import Tuner
from amtune.store import guarded_writes
from tests.app.requests import grid_request, sdk_style_request
from tests.conftest import FakeClock

OBJECTIVE = "validation:accuracy"


def make_job(
    tuner: Tuner,
    name: str,
    *,
    max_jobs: int = 4,
    parallel: int = 2,
    strategy: str = "Random",
    **definition: Any,
) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = strategy
    config["ResourceLimits"] = {
        "MaxNumberOfTrainingJobs": max_jobs,
        "MaxParallelTrainingJobs": parallel,
    }
    request["TrainingJobDefinition"].update(definition)
    tuner.create_tuning_job(tuner.default_caller(), request)


#: The lease token each training job was last handed out with, as its worker would keep it.
TOKENS: dict[str, str] = {}


def claim(tuner: Tuner, name: str, worker: str = "w1") -> Claim:
    outcome = tuner.claim(tuner.default_caller(), name, worker)
    assert isinstance(outcome, Claim), outcome
    TOKENS[outcome.training_job_name] = outcome.lease_token
    return outcome


def describe(tuner: Tuner, name: str) -> dict[str, Any]:
    return tuner.describe_tuning_job(tuner.default_caller(), name)


def training(tuner: Tuner, name: str) -> dict[str, Any]:
    return tuner.describe_training_job(tuner.default_caller(), name)


def finish(tuner: Tuner, job: str, value: float | None) -> None:
    caller = tuner.default_caller()
    if value is not None:
        tuner.report_metrics(caller, job, TOKENS[job], [MetricPoint(OBJECTIVE, value)])
    tuner.complete(caller, job, TOKENS[job])


def test_parallel_limit_makes_workers_wait(tuner: Tuner) -> None:
    make_job(tuner, "par", max_jobs=5, parallel=2)
    first, _second = claim(tuner, "par"), claim(tuner, "par")
    third = tuner.claim(tuner.default_caller(), "par", "w3")
    assert isinstance(third, Wait) and third.retry_after >= 1
    finish(tuner, first.training_job_name, 0.5)
    assert isinstance(tuner.claim(tuner.default_caller(), "par", "w3"), Claim)


def test_budget_spent_and_last_job_ended_completes(tuner: Tuner) -> None:
    make_job(tuner, "budget", max_jobs=2, parallel=2)
    a, b = claim(tuner, "budget"), claim(tuner, "budget")
    assert isinstance(tuner.claim(tuner.default_caller(), "budget", "w"), Wait)
    finish(tuner, a.training_job_name, 0.1)
    assert describe(tuner, "budget")["HyperParameterTuningJobStatus"] == "InProgress"
    finish(tuner, b.training_job_name, 0.2)
    described = describe(tuner, "budget")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert "HyperParameterTuningEndTime" in described
    with pytest.raises(Conflict) as ended:
        tuner.claim(tuner.default_caller(), "budget", "w")
    assert ended.value.code == "TuningJobNotInProgress"


def test_lapsed_lease_fails_the_job_and_frees_its_slot(tuner: Tuner, clock: FakeClock) -> None:
    make_job(tuner, "lease", max_jobs=3, parallel=1)
    job = claim(tuner, "lease", "doomed")
    assert job.lease_expires_at == pytest.approx(clock.now + 60, abs=0.01)
    clock.advance(30)
    assert (
        tuner.heartbeat(tuner.default_caller(), job.training_job_name, job.lease_token)[
            "StopRequested"
        ]
        is False
    )
    clock.advance(61)
    assert tuner.sweep() >= 1
    described = training(tuner, job.training_job_name)
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("RetryableError")
    counters = describe(tuner, "lease")["TrainingJobStatusCounters"]
    assert counters["RetryableError"] == 1 and counters["InProgress"] == 0
    # The late worker hears 409 on everything, and its report changes nothing.
    caller = tuner.default_caller()
    late_calls: tuple[Callable[[], object], ...] = (
        lambda: tuner.heartbeat(caller, job.training_job_name, job.lease_token),
        lambda: tuner.report_metrics(
            caller, job.training_job_name, job.lease_token, [MetricPoint(OBJECTIVE, 1.0)]
        ),
        lambda: tuner.complete(caller, job.training_job_name, job.lease_token),
    )
    for late in late_calls:
        with pytest.raises(Conflict):
            late()
    assert training(tuner, job.training_job_name)["TrainingJobStatus"] == "Failed"
    assert isinstance(tuner.claim(caller, "lease", "next"), Claim)


def test_a_late_heartbeat_expires_the_lease_itself(tuner: Tuner, clock: FakeClock) -> None:
    make_job(tuner, "lazy", max_jobs=3, parallel=1)
    job = claim(tuner, "lazy")
    clock.advance(120)
    with pytest.raises(Conflict):
        tuner.heartbeat(tuner.default_caller(), job.training_job_name, job.lease_token)
    # The expiry found by the heartbeat is committed even though the call failed.
    assert training(tuner, job.training_job_name)["TrainingJobStatus"] == "Failed"


def test_retry_strategy_reissues_the_same_job_then_gives_up(tuner: Tuner) -> None:
    make_job(tuner, "retry", max_jobs=2, parallel=1, RetryStrategy={"MaximumRetryAttempts": 1})
    caller = tuner.default_caller()
    first = claim(tuner, "retry", "a")
    tuner.fail(
        caller, first.training_job_name, first.lease_token, "spot interruption", retryable=True
    )
    assert training(tuner, first.training_job_name)["TrainingJobStatus"] == "InProgress"
    again = claim(tuner, "retry", "b")
    assert again.training_job_name == first.training_job_name
    assert again.hyperparameters == first.hyperparameters
    assert again.lease_token != first.lease_token
    with pytest.raises(Conflict):
        tuner.heartbeat(caller, first.training_job_name, first.lease_token)
    tuner.fail(caller, again.training_job_name, again.lease_token, "again", retryable=True)
    assert training(tuner, first.training_job_name)["TrainingJobStatus"] == "Failed"
    transitions = [
        t["Status"] for t in training(tuner, first.training_job_name)["SecondaryStatusTransitions"]
    ]
    assert transitions.count("Restarting") == 1


def test_first_jobs_all_failing_fails_the_tuning_job(tuner: Tuner) -> None:
    make_job(tuner, "doomed", max_jobs=20, parallel=1)
    caller = tuner.default_caller()
    for _ in range(5):
        job = claim(tuner, "doomed")
        tuner.fail(caller, job.training_job_name, job.lease_token, "ImportError: no module")
    described = describe(tuner, "doomed")
    assert described["HyperParameterTuningJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("No training job succeeded after 5 attempts")
    assert described["TrainingJobStatusCounters"]["NonRetryableError"] == 5


def test_completion_without_objective_counts_failed_and_is_never_best(tuner: Tuner) -> None:
    make_job(tuner, "noobj", max_jobs=2, parallel=2)
    silent, good = claim(tuner, "noobj"), claim(tuner, "noobj")
    finish(tuner, silent.training_job_name, None)
    finish(tuner, good.training_job_name, 0.3)
    described = describe(tuner, "noobj")
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 1, "Pending": 0, "Failed": 1}
    assert described["TrainingJobStatusCounters"]["Completed"] == 2
    assert described["BestTrainingJob"]["TrainingJobName"] == good.training_job_name


def test_a_job_that_reported_its_objective_and_then_failed_is_not_evaluated(
    tuner: Tuner,
) -> None:
    """AMT's ObjectiveStatus Failed: the job failed or never emitted the objective. A value
    reported before the failure is not the job's objective: it is neither counted as
    Succeeded, nor shown, nor ever the best."""
    make_job(tuner, "failing", max_jobs=3, parallel=2)
    caller = tuner.default_caller()
    failed, good = claim(tuner, "failing"), claim(tuner, "failing")
    tuner.report_metrics(
        caller, failed.training_job_name, failed.lease_token, [MetricPoint(OBJECTIVE, 0.99)]
    )
    tuner.fail(caller, failed.training_job_name, failed.lease_token, "CUDA out of memory")
    finish(tuner, good.training_job_name, 0.3)
    described = describe(tuner, "failing")
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 1, "Pending": 0, "Failed": 1}
    assert described["BestTrainingJob"]["TrainingJobName"] == good.training_job_name
    listed = {
        summary["TrainingJobName"]: summary
        for summary in tuner.list_training_jobs_for_tuning_job(
            caller, {"HyperParameterTuningJobName": "failing"}
        )["TrainingJobSummaries"]
    }
    assert listed[failed.training_job_name]["ObjectiveStatus"] == "Failed"
    assert "FinalHyperParameterTuningJobObjectiveMetric" not in listed[failed.training_job_name]


def test_final_metric_list_overrides_the_last_report(tuner: Tuner) -> None:
    make_job(tuner, "final", max_jobs=1, parallel=1)
    caller = tuner.default_caller()
    job = claim(tuner, "final")
    name, token = job.training_job_name, job.lease_token
    tuner.report_metrics(caller, name, token, [MetricPoint(OBJECTIVE, 0.2)])
    tuner.complete(caller, name, token, [MetricPoint(OBJECTIVE, 0.95)])
    best = describe(tuner, "final")["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == 0.95


def test_a_report_batch_records_every_metric_and_its_last_objective(tuner: Tuner) -> None:
    """The report path is one statement on PostgreSQL: every metric of a batch is stored,
    the objective becomes the batch's last value for it, and a wrong token changes nothing."""
    make_job(tuner, "batch", max_jobs=1, parallel=1)
    caller = tuner.default_caller()
    job = claim(tuner, "batch", "w")
    batch = [
        MetricPoint(OBJECTIVE, 0.3, step=1),
        MetricPoint("train:loss", 7.0),
        MetricPoint(OBJECTIVE, 0.4, timestamp=1_700_000_000.5),
    ]
    name, token = job.training_job_name, job.lease_token
    assert tuner.report_metrics(caller, name, token, batch) == {"StopRequested": False}
    assert tuner.report_metrics(caller, name, token, []) == {"StopRequested": False}
    with pytest.raises(Conflict):
        tuner.report_metrics(caller, name, "intruder", [MetricPoint(OBJECTIVE, 0.9)])
    tuner.complete(caller, name, token)
    described = tuner.describe_training_job(caller, job.training_job_name)
    assert described["FinalMetricDataList"] == [
        {
            "MetricName": "train:loss",
            "Value": 7.0,
            "Timestamp": described["FinalMetricDataList"][0]["Timestamp"],
        },
        {"MetricName": OBJECTIVE, "Value": 0.4, "Timestamp": 1_700_000_000.5},
    ]
    best = describe(tuner, "batch")["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == 0.4


def test_minimize_picks_the_lowest(tuner: Tuner) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "mini"
    request["HyperParameterTuningJobConfig"].update(
        Strategy="Random",
        ResourceLimits={"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 3},
        HyperParameterTuningJobObjective={"Type": "Minimize", "MetricName": OBJECTIVE},
    )
    tuner.create_tuning_job(tuner.default_caller(), request)
    jobs = [claim(tuner, "mini") for _ in range(3)]
    for job, value in zip(jobs, [0.5, 0.1, 0.3], strict=True):
        finish(tuner, job.training_job_name, value)
    assert (
        describe(tuner, "mini")["BestTrainingJob"]["TrainingJobName"] == jobs[1].training_job_name
    )


def test_runtime_limit_stops_the_tuning_job(tuner: Tuner, clock: FakeClock) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "timed"
    request["HyperParameterTuningJobConfig"].update(
        Strategy="Random",
        ResourceLimits={
            "MaxNumberOfTrainingJobs": 10,
            "MaxParallelTrainingJobs": 1,
            "MaxRuntimeInSeconds": 300,
        },
    )
    tuner.create_tuning_job(tuner.default_caller(), request)
    job = claim(tuner, "timed")
    for _ in range(6):
        clock.advance(50)
        tuner.heartbeat(tuner.default_caller(), job.training_job_name, job.lease_token)
    clock.advance(1)
    tuner.sweep()
    assert describe(tuner, "timed")["HyperParameterTuningJobStatus"] == "Stopping"
    assert tuner.heartbeat(tuner.default_caller(), job.training_job_name, job.lease_token)[
        "StopRequested"
    ]
    finish(tuner, job.training_job_name, 0.4)
    assert describe(tuner, "timed")["HyperParameterTuningJobStatus"] == "Stopped"
    assert training(tuner, job.training_job_name)["TrainingJobStatus"] == "Stopped"


def test_stop_training_job_stops_only_that_job(tuner: Tuner) -> None:
    make_job(tuner, "one", max_jobs=3, parallel=2)
    caller = tuner.default_caller()
    a, b = claim(tuner, "one"), claim(tuner, "one")
    tuner.stop_training_job(caller, a.training_job_name)
    assert training(tuner, a.training_job_name)["TrainingJobStatus"] == "Stopping"
    assert tuner.heartbeat(caller, b.training_job_name, b.lease_token)["StopRequested"] is False
    tuner.fail(caller, a.training_job_name, a.lease_token, "killed by SIGTERM")
    assert training(tuner, a.training_job_name)["TrainingJobStatus"] == "Stopped"
    assert describe(tuner, "one")["HyperParameterTuningJobStatus"] == "InProgress"


def test_delete_only_in_a_terminal_state(tuner: Tuner) -> None:
    make_job(tuner, "keep", max_jobs=1, parallel=1)
    with pytest.raises(ValidationError, match="not in a terminal state"):
        tuner.delete_tuning_job(tuner.default_caller(), "keep")
    job = claim(tuner, "keep")
    finish(tuner, job.training_job_name, 0.9)
    tuner.delete_tuning_job(tuner.default_caller(), "keep")
    assert training(tuner, job.training_job_name)["TrainingJobStatus"] == "Completed"


def test_grid_runs_each_point_once_and_shows_its_computed_size(tuner: Tuner) -> None:
    request = grid_request()
    request["HyperParameterTuningJobName"] = "grid"
    request["HyperParameterTuningJobConfig"]["ResourceLimits"] = {"MaxParallelTrainingJobs": 3}
    tuner.create_tuning_job(tuner.default_caller(), request)
    described = describe(tuner, "grid")
    size = described["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"]
    ranges = request["HyperParameterTuningJobConfig"]["ParameterRanges"][
        "CategoricalParameterRanges"
    ]
    expected = 1
    for categorical in ranges:
        expected *= len(categorical["Values"])
    assert size == expected
    seen = []
    for _ in range(size):
        job = claim(tuner, "grid")
        seen.append(tuple(sorted(job.hyperparameters.items())))
        finish(tuner, job.training_job_name, 0.5)
    assert len(set(seen)) == size
    assert describe(tuner, "grid")["HyperParameterTuningJobStatus"] == "Completed"


def test_integer_and_categorical_values_come_out_exactly(tuner: Tuner) -> None:
    make_job(tuner, "exact", max_jobs=20, parallel=10)
    for _ in range(10):
        params = claim(tuner, "exact").hyperparameters
        assert params["max_depth"] in {str(v) for v in range(3, 11)}
        assert params["booster"] in {"gbtree", "dart"}
        assert 0.01 <= float(params["eta"]) <= 0.3


def test_random_seed_makes_the_sequence_reproducible(tuner: Tuner) -> None:
    sequences = []
    for name in ("seeded-a", "seeded-b"):
        request = sdk_style_request()
        request["HyperParameterTuningJobName"] = name
        request["HyperParameterTuningJobConfig"].update(
            Strategy="Random",
            RandomSeed=42,
            ResourceLimits={"MaxNumberOfTrainingJobs": 5, "MaxParallelTrainingJobs": 5},
        )
        tuner.create_tuning_job(tuner.default_caller(), request)
        sequences.append([claim(tuner, name).hyperparameters for _ in range(5)])
    assert sequences[0] == sequences[1]


def test_parallel_jobs_above_the_quota_are_refused(tuner: Tuner) -> None:
    with pytest.raises(ResourceLimitExceeded, match="maxParallelTrainingJobs"):
        make_job(tuner, "greedy", max_jobs=50, parallel=11)


def test_unknown_training_job_is_a_validation_error(tuner: Tuner) -> None:
    with pytest.raises(TrainingJobNotFound, match="Requested resource not found"):
        tuner.heartbeat(tuner.default_caller(), "ghost-001-deadbeef", "any-token")


def test_tuning_jobs_in_progress_are_capped_per_account(tuner: Tuner) -> None:
    capped = Tuner(
        tuner.settings.model_copy(update={"max_concurrent_tuning_jobs": 2}),
        db=tuner.db,
        clock=tuner.ctx.clock,
    )
    make_job(capped, "first")
    make_job(capped, "second")
    with pytest.raises(ResourceLimitExceeded, match="quota of 2"):
        make_job(capped, "third")
    capped.stop_tuning_job(capped.default_caller(), "first")
    make_job(capped, "third")


def _read_then_end(tuner: Tuner, name: str, clock: FakeClock) -> tuple[Any, dict[str, Any]]:
    """What a completion's unlocked read sees, and the ending it decides on that copy."""
    account = tuner.default_caller().account_id
    found = tuner.db.run(lambda s: guarded_writes.job_and_tuning_unlocked(s, account, name))
    assert found is not None
    job, _tuning = found
    seen = guarded_writes.guard_of(job)
    end_training_job(job, TrainingStatus.COMPLETED, clock())
    return job, seen


def test_an_ending_decided_before_a_report_is_not_written_over_it(
    tuner: Tuner, clock: FakeClock
) -> None:
    make_job(tuner, "race")
    name = claim(tuner, "race").training_job_name
    caller = tuner.default_caller()
    tuner.report_metrics(caller, name, TOKENS[name], [MetricPoint(OBJECTIVE, 0.3)])
    clock.advance(1)
    job, seen = _read_then_end(tuner, name, clock)
    clock.advance(1)
    tuner.report_metrics(caller, name, TOKENS[name], [MetricPoint(OBJECTIVE, 0.9)])
    assert not tuner.db.run(lambda s: guarded_writes.end_if_unchanged(s, job, seen))
    assert training(tuner, name)["TrainingJobStatus"] == "InProgress"
    # The completion itself then ends it with the report it would have missed.
    tuner.complete(caller, name, TOKENS[name])
    ended = training(tuner, name)
    assert ended["TrainingJobStatus"] == "Completed"
    final = {m["MetricName"]: m["Value"] for m in ended["FinalMetricDataList"]}
    assert final[OBJECTIVE] == 0.9


def test_an_ending_is_not_written_once_the_tuning_job_stops(tuner: Tuner, clock: FakeClock) -> None:
    make_job(tuner, "halt")
    name = claim(tuner, "halt").training_job_name
    job, seen = _read_then_end(tuner, name, clock)
    tuner.stop_tuning_job(tuner.default_caller(), "halt")
    assert not tuner.db.run(lambda s: guarded_writes.end_if_unchanged(s, job, seen))
    assert training(tuner, name)["TrainingJobStatus"] == "Stopping"


def test_an_unchanged_job_of_a_running_tuning_job_is_ended(tuner: Tuner, clock: FakeClock) -> None:
    make_job(tuner, "calm")
    name = claim(tuner, "calm").training_job_name
    job, seen = _read_then_end(tuner, name, clock)
    assert tuner.db.run(lambda s: guarded_writes.end_if_unchanged(s, job, seen))
    assert training(tuner, name)["TrainingJobStatus"] == "Completed"


# PostgreSQL only: SQLite runs the quick claim in one write transaction, so nothing races it.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_claim_that_loses_its_job_number_tries_the_quick_path_again(
    tuner: Tuner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another claim takes the number between this claim's read and its insert: this one
    reads again and takes the next number, without the tuning job's lock."""
    assert not tuner.db.is_sqlite
    make_job(tuner, "contended", max_jobs=4, parallel=4)
    real_insert = guarded_writes.insert_if_number_free
    rival: list[Claim] = []
    inserts: list[int] = []

    def insert_after_a_rival(session: Any, job: Any) -> bool:
        inserts.append(job.seq)
        if len(inserts) == 1:  # the first insert is this claim's: a rival claims first
            rival.append(claim(tuner, "contended", "rival"))
        return real_insert(session, job)

    def locked_path(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the lost race fell back to the locked path")

    monkeypatch.setattr(guarded_writes, "insert_if_number_free", insert_after_a_rival)
    monkeypatch.setattr(claims, "_claim_step", locked_path)
    mine = claim(tuner, "contended", "me")
    assert inserts == [1, 1, 2]  # mine lost number 1 to the rival, then took 2
    assert rival[0].training_job_name.startswith("contended-001-")
    assert mine.training_job_name.startswith("contended-002-")
    assert describe(tuner, "contended")["TrainingJobStatusCounters"]["InProgress"] == 2
