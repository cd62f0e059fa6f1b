"""``amtune worker`` as a pool worker, waiting for a tuning job, and refusing a bad endpoint."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import amtune.sdk
from amtune.worker.local_service import LocalService
from tests.worker.live import (
    SCRIPT,
    describe,
    finish,
    training_jobs,
    tuning_request,
    unique_name,
    wait_for,
)

pytestmark = pytest.mark.slow


def worker(endpoint: str, workdir: Path, *options: str) -> subprocess.Popen[str]:
    argv = [
        sys.executable, "-m", "amtune", "worker", "--endpoint", endpoint,
        "--workdir", str(workdir), *options, "--", sys.executable, str(SCRIPT),
    ]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_an_endpoint_without_a_scheme_is_refused_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    code, output = finish(worker("127.0.0.1:8000", tmp_path, "--tuning-job", "tj"), timeout=60)

    assert code == 2, output
    assert "'127.0.0.1:8000' is not an http:// or https:// URL" in output
    assert "did you mean http://127.0.0.1:8000" in output
    assert time.monotonic() - started < 30  # no retrying: it could never connect


def test_wait_serves_a_tuning_job_created_after_the_worker_started(
    service: LocalService, tmp_path: Path
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("later")
    process = worker(service.url, tmp_path, "--tuning-job", name, "--wait")
    wait_for(
        "the worker to say it waits",
        lambda: (
            process.stdout is not None and "waiting for tuning job" in process.stdout.readline()
        ),
    )
    assert process.poll() is None

    sm.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=2, parallel=1))
    code, output = finish(process)

    assert code == 0, output
    assert describe(sm, name)["HyperParameterTuningJobStatus"] == "Completed"


def test_without_wait_an_unknown_tuning_job_exits_2(service: LocalService, tmp_path: Path) -> None:
    code, output = finish(worker(service.url, tmp_path, "--tuning-job", unique_name("nope")))

    assert code == 2, output


def test_a_pool_worker_serves_every_tuning_job_of_its_image(
    service: LocalService, tmp_path: Path
) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/pool-only:1"
    names = [unique_name("pool-a"), unique_name("pool-b")]
    for name in names:
        request = tuning_request(name, max_jobs=2, parallel=2)
        request["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = image
        sm.create_hyper_parameter_tuning_job(**request)
    # A tuning job of another image, which this pool must leave alone.
    other = unique_name("pool-other")
    sm.create_hyper_parameter_tuning_job(**tuning_request(other, max_jobs=1, parallel=1))

    process = worker(service.url, tmp_path, "--image", image, "--concurrency", "2")

    def all_done() -> bool:
        return all(
            describe(sm, name)["HyperParameterTuningJobStatus"] == "Completed" for name in names
        )

    wait_for("both tuning jobs to complete", all_done, timeout=120, interval=0.5)
    assert process.poll() is None  # a pool worker stays for the next tuning job
    process.terminate()
    code, output = finish(process)

    assert code == 128 + 15, output
    assert "every tuning job of the team running " + image in output
    for name in names:
        assert {job["TrainingJobStatus"] for job in training_jobs(sm, name)} == {"Completed"}
    assert training_jobs(sm, other) == []
