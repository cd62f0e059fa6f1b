"""Small helpers shared by the fault tests: tuning jobs over the wire, waiting, reading counts."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.load.generator import aws_call, random_tuning_job, training_jobs_of

from tests.service.processes import ServerProcess

T = TypeVar("T")

__all__ = [
    "aws_call",
    "create_tuning_job",
    "describe_training_job",
    "describe_tuning_job",
    "max_overlap",
    "random_tuning_job",
    "started",
    "training_jobs_of",
    "wait_for",
]


def started(server: ServerProcess) -> ServerProcess:
    """Start a server process; if it does not come up, make sure it is not left running."""
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise


def create_tuning_job(
    url: str, name: str, *, max_jobs: int, max_parallel: int, retries: int | None = None
) -> None:
    request = random_tuning_job(name, max_jobs, max_parallel)
    if retries is not None:
        request["TrainingJobDefinition"]["RetryStrategy"] = {"MaximumRetryAttempts": retries}
    aws_call(url, "CreateHyperParameterTuningJob", request)


def describe_tuning_job(url: str, name: str) -> dict[str, Any]:
    return aws_call(url, "DescribeHyperParameterTuningJob", {"HyperParameterTuningJobName": name})


def describe_training_job(url: str, name: str) -> dict[str, Any]:
    return aws_call(url, "DescribeTrainingJob", {"TrainingJobName": name})


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll ``probe`` until it returns something truthy; fail (not hang) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def max_overlap(summaries: list[dict[str, Any]]) -> int:
    """The most training jobs in progress at any instant, from their server-side times."""
    events = []
    for summary in summaries:
        events.append((summary["TrainingStartTime"], 1))
        events.append((summary["TrainingEndTime"], -1))
    running = peak = 0
    for _, delta in sorted(events):
        running += delta
        peak = max(peak, running)
    return peak
