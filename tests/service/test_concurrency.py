"""Many worker processes against two API replicas on one database: exact accounting."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.app.requests import grid_request, random_request
from tests.conftest import boto3_client, new_account_id
from tests.service.processes import ServerProcess, worker_loop

pytestmark = pytest.mark.slow
# fork: a worker needs nothing of the parent but httpx, and starts in milliseconds.
CONTEXT = multiprocessing.get_context("fork")


def run_workers(urls: list[str], tuning_job: str, count: int, out: Path) -> None:
    workers = [
        CONTEXT.Process(target=worker_loop, args=(urls, tuning_job, f"w{i}", out))
        for i in range(count)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
        assert worker.exitcode == 0, f"worker exited with {worker.exitcode}"


def max_overlap(summaries: list[dict[str, Any]]) -> int:
    """The most training jobs in progress at any instant, from their server-side times."""
    events = []
    for summary in summaries:
        events.append((summary["TrainingStartTime"].timestamp(), 1))
        events.append((summary["TrainingEndTime"].timestamp(), -1))
    running = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    return peak


def all_training_jobs(sm: Any, name: str) -> list[dict[str, Any]]:
    pages = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name, PaginationConfig={"PageSize": 100}
    )
    return [s for page in pages for s in page["TrainingJobSummaries"]]


def test_32_workers_never_overshoot_the_limits(database_url: str, tmp_path: Path) -> None:
    account = new_account_id()
    with ServerProcess(database_url, account) as one, ServerProcess(database_url, account) as two:
        sm = boto3_client(one.url)
        sm.create_hyper_parameter_tuning_job(**random_request("crowd", 60, 4))
        claimed = tmp_path / "claimed.txt"
        run_workers([one.url, two.url], "crowd", 32, claimed)

        names = claimed.read_text().split()
        assert len(names) == 60 and len(set(names)) == 60
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="crowd")
        assert described["HyperParameterTuningJobStatus"] == "Completed"
        assert described["TrainingJobStatusCounters"]["Completed"] == 60
        summaries = all_training_jobs(sm, "crowd")
        assert {s["TrainingJobName"] for s in summaries} == set(names)
        assert max_overlap(summaries) <= 4


def test_grid_of_100_points_with_16_workers_runs_each_point_once(
    database_url: str, tmp_path: Path
) -> None:
    account = new_account_id()
    with ServerProcess(database_url, account) as one, ServerProcess(database_url, account) as two:
        sm = boto3_client(one.url)
        request = grid_request()
        request["HyperParameterTuningJobName"] = "grid100"
        config = request["HyperParameterTuningJobConfig"]
        config["ResourceLimits"] = {"MaxParallelTrainingJobs": 8}
        config["ParameterRanges"] = {
            "CategoricalParameterRanges": [
                {"Name": "a", "Values": [str(v) for v in range(10)]},
                {"Name": "b", "Values": [f"b{v}" for v in range(10)]},
            ]
        }
        sm.create_hyper_parameter_tuning_job(**request)
        run_workers([one.url, two.url], "grid100", 16, tmp_path / "claimed.txt")

        summaries = all_training_jobs(sm, "grid100")
        points = {
            (s["TunedHyperParameters"]["a"], s["TunedHyperParameters"]["b"]) for s in summaries
        }
        assert len(summaries) == 100 and len(points) == 100
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="grid100")
        assert described["HyperParameterTuningJobStatus"] == "Completed"
        assert (
            described["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"]
            == 100
        )


def test_a_killed_worker_fails_its_job_after_the_lease(database_url: str, tmp_path: Path) -> None:
    account = new_account_id()
    # Short enough to wait out, long enough that a healthy worker on a loaded CI machine
    # (its jobs last milliseconds, with no heartbeat) never lapses: at 2 s one once did.
    with ServerProcess(database_url, account, AMTUNE_LEASE_SECONDS="3") as server:
        sm = boto3_client(server.url)
        sm.create_hyper_parameter_tuning_job(**random_request("victim", 6, 2))
        hung_log = tmp_path / "hung.txt"
        hung = CONTEXT.Process(
            target=worker_loop, args=([server.url], "victim", "hung", hung_log, True)
        )
        hung.start()
        deadline = time.monotonic() + 30
        while not (hung_log.exists() and hung_log.read_text().strip()):
            assert time.monotonic() < deadline, "the doomed worker never claimed a job"
            time.sleep(0.05)
        assert hung.pid is not None
        os.kill(hung.pid, signal.SIGKILL)
        hung.join()
        victim = hung_log.read_text().split()[0]

        run_workers([server.url], "victim", 3, tmp_path / "rest.txt")

        job = sm.describe_training_job(TrainingJobName=victim)
        assert job["TrainingJobStatus"] == "Failed"
        assert "lease expired" in job["FailureReason"]
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="victim")
        assert described["HyperParameterTuningJobStatus"] == "Completed"
        assert described["TrainingJobStatusCounters"] == {
            "Completed": 5,
            "InProgress": 0,
            "RetryableError": 1,
            "NonRetryableError": 0,
            "Stopped": 0,
        }
