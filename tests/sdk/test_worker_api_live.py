"""The Python worker API (``amtune.Worker``) against a live service."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import amtune.sdk
from amtune.sdk import WorkerProtocol
from amtune.worker.local_service import LocalService
from tests.worker.live import OBJECTIVE, tuning_request, unique_name, wait_for

pytestmark = pytest.mark.slow

RANGES = {
    "IntegerParameterRanges": [{"Name": "y", "MinValue": "1", "MaxValue": "5"}],
    "ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}],
    "CategoricalParameterRanges": [{"Name": "opt", "Values": ["1", "2.5"]}],
}


def summaries(sm: Any, name: str) -> list[dict[str, Any]]:
    result = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=100
    )
    return list(result["TrainingJobSummaries"])


def test_typed_hyperparameters_reports_and_completion(service: LocalService) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("typed")
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(
            name, max_jobs=2, parallel=1, ranges=RANGES, static={"layers": "3", "act": "relu"}
        )
    )
    seen = []
    for job in amtune.sdk.Worker(service.url, name).jobs():
        hps = job.hyperparameters
        seen.append(hps)
        # Exact types from the ranges: a categorical "1" stays the string it is.
        assert isinstance(hps["y"], int) and isinstance(hps["x"], float)
        assert isinstance(hps["opt"], str) and hps["opt"] in {"1", "2.5"}
        # Static values are guessed: "3" -> 3, "relu" -> "relu".
        assert hps["layers"] == 3 and hps["act"] == "relu"
        assert "_tuning_objective_metric" not in hps
        assert job.raw_hyperparameters["_tuning_objective_metric"] == OBJECTIVE
        for epoch in range(3):
            job.report(OBJECTIVE, hps["x"] + epoch, step=epoch)
            job.report("loss", 1.0 / (epoch + 1), step=epoch)
        with pytest.raises(ValueError):
            job.report("loss", float("nan"))
    assert len(seen) == 2
    jobs = summaries(sm, name)
    for summary in jobs:
        assert summary["TrainingJobStatus"] == "Completed"
        x = float(summary["TunedHyperParameters"]["x"])
        value = summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        assert value == pytest.approx(x + 2)
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"


def test_exception_fails_the_job_with_its_text_and_the_loop_goes_on(service: LocalService) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("raise")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=2, parallel=1))
    worker = amtune.sdk.Worker(service.url, name)

    def train(job: amtune.sdk.Job) -> None:
        if worker.jobs_seen == 1:
            raise ValueError("learning rate too high: diverged")
        job.report(OBJECTIVE, 0.5)

    assert worker.run(train) == 2
    jobs = sorted(summaries(sm, name), key=lambda s: s["TrainingJobName"])
    assert [j["TrainingJobStatus"] for j in jobs] == ["Failed", "Completed"]
    assert "ValueError: learning rate too high: diverged" in jobs[0]["FailureReason"]


def test_bare_loop_uncaught_exception_fails_the_job_with_its_text(
    service: LocalService, tmp_path: Path
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("bare")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=1, parallel=1))
    program = textwrap.dedent(
        f"""
        import sys, threading
        import amtune.sdk
        for job in amtune.sdk.Worker({service.url!r}, {name!r}).jobs():
            job.report({OBJECTIVE!r}, 0.1)
            if (sys.excepthook, threading.excepthook) == (
                sys.__excepthook__, threading.__excepthook__
            ):
                print("hooks untouched", flush=True)
            raise RuntimeError("out of memory in epoch 3")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "out of memory in epoch 3" in result.stderr  # the usual traceback is still printed
    (job,) = summaries(sm, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert "RuntimeError: out of memory in epoch 3" in job["FailureReason"]
    # No hook was installed to get there: the program's own hooks stay the interpreter's.
    assert "hooks untouched" in result.stdout


def test_with_job_reports_the_failure_and_leaves_interpreter_hooks_alone(
    service: LocalService,
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("withjob")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=2, parallel=1))
    hooks = (sys.excepthook, threading.excepthook)
    raised = 0
    for job in amtune.sdk.Worker(service.url, name).jobs():
        try:
            with job:
                job.report(OBJECTIVE, 0.25)
                if raised == 0:
                    raise FloatingPointError("loss became nan at epoch 2")
        except FloatingPointError:
            raised += 1
        assert (sys.excepthook, threading.excepthook) == hooks
    assert raised == 1
    assert (sys.excepthook, threading.excepthook) == hooks
    jobs = sorted(summaries(sm, name), key=lambda s: s["TrainingJobName"])
    assert [j["TrainingJobStatus"] for j in jobs] == ["Failed", "Completed"]
    assert "FloatingPointError: loss became nan at epoch 2" in jobs[0]["FailureReason"]


def test_should_stop_after_stop_training_job_and_the_job_ends_stopped(
    service: LocalService,
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("shouldstop")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=1, parallel=1))
    epochs = 0
    for job in amtune.sdk.Worker(service.url, name, flush_interval=0.2).jobs():
        sm.stop_training_job(TrainingJobName=job.name)
        while not job.should_stop:  # reports carry StopRequested back
            epochs += 1
            job.report(OBJECTIVE, 0.1 * epochs, step=epochs)
            time.sleep(0.1)
            assert epochs < 600, "the stop request never arrived"
    (summary,) = summaries(sm, name)
    assert summary["TrainingJobStatus"] == "Stopped"


def test_lost_lease_drops_the_job_without_raising(service: LocalService) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("lease")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=2, parallel=1))
    other = WorkerProtocol(service.url)
    statuses: list[amtune.sdk.Job] = []

    def lease_lost(job: amtune.sdk.Job) -> bool:
        return job.lease_lost

    for job in amtune.sdk.Worker(service.url, name, flush_interval=0.1).jobs():
        if len(statuses) == 0:
            # Someone else ends this job behind the worker's back (as a lapsed lease would).
            other.fail(job.name, "taken away", retryable=True, lease_token=job.claim.lease_token)
            job.report(OBJECTIVE, 0.3)
            wait_for("the 409 to reach the job", partial(lease_lost, job), timeout=30)
            assert job.should_stop
        else:
            job.report(OBJECTIVE, 0.7)
        statuses.append(job)
    assert [j.status for j in statuses] == ["Dropped", "Completed"]
    jobs = sorted(summaries(sm, name), key=lambda s: s["TrainingJobName"])
    assert [j["TrainingJobStatus"] for j in jobs] == ["Failed", "Completed"]
    assert "taken away" in jobs[0]["FailureReason"]


def test_close_stops_claiming_and_gives_the_cut_short_job_back(service: LocalService) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("close")
    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=3, parallel=1))
    worker = amtune.sdk.Worker(service.url, name)
    ran = []
    for job in worker.jobs():
        ran.append(job)
        job.report(OBJECTIVE, 0.5)
        worker.close()  # e.g. from a signal handler
        assert job.should_stop
    assert [job.status for job in ran] == ["Released"]
    (summary,) = summaries(sm, name)
    assert summary["TrainingJobStatus"] == "InProgress"
    counters = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
        "TrainingJobStatusCounters"
    ]
    assert counters["RetryableError"] == 0
    # The next worker gets the same training job, same hyperparameters.
    with amtune.sdk.Worker(service.url, name) as successor:
        again = next(successor.jobs())
        assert again.name == ran[0].name
        assert again.raw_hyperparameters == ran[0].raw_hyperparameters
        again.complete()
