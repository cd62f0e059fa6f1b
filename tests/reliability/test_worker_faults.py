"""Workers that die or freeze: the service moves on, and a frozen worker that wakes up copes.

A killed worker must not leave a zombie InProgress job holding a
slot, and a worker declared dead that comes back must hear a clean 409 and carry on, not crash.
Leases are 2 s here, so the reaper (every 0.5 s) acts within seconds.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from amtune.sdk import Worker
from tests.conftest import new_account_id
from tests.reliability.support import (
    create_tuning_job,
    describe_training_job,
    describe_tuning_job,
    started,
    wait_for,
)
from tests.service.processes import ServerProcess
from tests.service.protocol import RestWorker

pytestmark = pytest.mark.slow
CONTEXT = multiprocessing.get_context("fork")
LEASE = {"AMTUNE_LEASE_SECONDS": "2"}


def hold_one_job(url: str, tuning_job: str, out: Path) -> None:
    """An SDK worker that claims one job and trains forever (heartbeats keep its lease)."""
    with Worker(url, tuning_job, worker_id="doomed") as worker:
        for job in worker.jobs():
            out.write_text(job.name)
            time.sleep(3600)


def train_slowly(url: str, tuning_job: str, out: Path, seconds: float) -> None:
    """An SDK worker loop: report every 0.1 s for ``seconds``, then end the job; until no work.

    Any exception escaping the loop ends the process with a non-zero exit code.
    """
    seen = []
    with Worker(url, tuning_job, worker_id="sleepy", flush_interval=0.1) as worker:
        for job in worker.jobs():
            seen.append(job)
            with (out.parent / "claimed.txt").open("a") as handle:
                handle.write(f"{job.name} {job.claim.lease_token}\n")
            end = time.monotonic() + seconds
            step = 0
            while time.monotonic() < end and not job.should_stop:
                job.report("loss", 1.0 / (step + 1), step=step)
                step += 1
                time.sleep(0.1)
    out.write_text("\n".join(f"{job.name} {job.status}" for job in seen))


@pytest.fixture(scope="module")
def server(own_database: str) -> Iterator[ServerProcess]:
    """One server per backend for the module (starting one costs seconds); own job names."""
    running = started(ServerProcess(own_database, new_account_id(), **LEASE))
    try:
        yield running
    finally:
        running.stop()


def claimed_name(path: Path) -> str:
    return str(wait_for("the worker to claim a job", lambda: path.exists() and path.read_text()))


def test_a_killed_worker_frees_its_slot_and_its_job_fails_retryable(
    server: ServerProcess, tmp_path: Path
) -> None:
    create_tuning_job(server.url, "killed", max_jobs=2, max_parallel=1)
    out = tmp_path / "held.txt"
    doomed = CONTEXT.Process(target=hold_one_job, args=(server.url, "killed", out))
    doomed.start()
    victim = claimed_name(out)
    other = RestWorker(server.url, "other")
    # The one slot is taken while the doomed worker lives (its heartbeats keep the lease).
    assert other.claim("killed").status_code == 204

    assert doomed.pid is not None
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join()

    failed = wait_for(
        "the lease to lapse",
        lambda: (
            (job := describe_training_job(server.url, victim))["TrainingJobStatus"] == "Failed"
            and job
        ),
    )
    assert failed["FailureReason"].startswith("RetryableError:")
    assert "lease expired" in failed["FailureReason"]
    # The slot is free again: the next claim gets the second training job, not a 204.
    second = other.run_one("killed", "loss", 0.5)
    assert second != victim
    tuning = describe_tuning_job(server.url, "killed")
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert tuning["TrainingJobStatusCounters"] == {
        "Completed": 1,
        "InProgress": 0,
        "RetryableError": 1,
        "NonRetryableError": 0,
        "Stopped": 0,
    }


def test_a_killed_workers_job_is_retried_under_the_retry_strategy(
    server: ServerProcess, tmp_path: Path
) -> None:
    create_tuning_job(server.url, "retried", max_jobs=1, max_parallel=1, retries=1)
    out = tmp_path / "held.txt"
    doomed = CONTEXT.Process(target=hold_one_job, args=(server.url, "retried", out))
    doomed.start()
    victim = claimed_name(out)
    assert doomed.pid is not None
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join()

    # After the lease lapses the same training job is handed out again, as attempt 2.
    rescuer = RestWorker(server.url, "rescuer")
    claim = wait_for(
        "the job to be re-issued",
        lambda: (r := rescuer.claim("retried")).status_code == 200 and r.json(),
    )
    assert claim["TrainingJobName"] == victim
    assert rescuer.metrics(victim, "loss", 0.25).status_code == 200
    assert rescuer.complete(victim).status_code == 200

    job = describe_training_job(server.url, victim)
    assert job["TrainingJobStatus"] == "Completed"
    restarts = [t for t in job["SecondaryStatusTransitions"] if t["Status"] == "Restarting"]
    assert len(restarts) == 1 and "lease expired" in restarts[0]["StatusMessage"]
    tuning = describe_tuning_job(server.url, "retried")
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 1
    assert tuning["TrainingJobStatusCounters"]["InProgress"] == 0


def test_a_frozen_worker_hears_409_drops_the_job_and_goes_on(
    server: ServerProcess, tmp_path: Path
) -> None:
    create_tuning_job(server.url, "frozen", max_jobs=2, max_parallel=1)
    out = tmp_path / "result.txt"
    sleepy = CONTEXT.Process(target=train_slowly, args=(server.url, "frozen", out, 4.0))
    sleepy.start()
    first, first_token = claimed_name(tmp_path / "claimed.txt").split()[:2]
    assert sleepy.pid is not None
    os.kill(sleepy.pid, signal.SIGSTOP)
    try:
        wait_for(
            "the frozen worker's lease to lapse",
            lambda: describe_training_job(server.url, first)["TrainingJobStatus"] == "Failed",
        )
        # What its late calls will hear, on the wire: 409 with an AWS code, never a 500.
        late = RestWorker(server.url, "sleepy")
        late.tokens[first] = first_token
        for response in (
            late.heartbeat(first),
            late.metrics(first, "loss", 0.0, step=999),
            late.complete(first),
        ):
            assert response.status_code == 409, response.text
            assert response.json()["__type"] == "TrainingJobNotInProgress"
    finally:
        os.kill(sleepy.pid, signal.SIGCONT)
    sleepy.join(timeout=60)
    # No exception escaped the loop, and the worker went on to the second job.
    assert sleepy.exitcode == 0
    results = dict(line.split() for line in out.read_text().splitlines())
    second = next(name for name in results if name != first)
    assert results == {first: "Dropped", second: "Completed"}

    dropped = describe_training_job(server.url, first)
    assert dropped["TrainingJobStatus"] == "Failed"
    assert not dropped.get("FinalMetricDataList")  # the late completion changed nothing
    tuning = describe_tuning_job(server.url, "frozen")
    assert tuning["HyperParameterTuningJobStatus"] == "Completed"
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 1
    assert tuning["TrainingJobStatusCounters"]["RetryableError"] == 1
