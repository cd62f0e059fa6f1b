"""A live amtune service in a subprocess, and helpers for tests that drive it end to end.

The service is the real ``amtune serve`` on a free port over a temporary SQLite file (started
through :class:`amtune.worker.local_service.LocalService`, the same code ``amtune demo`` uses).
Waiting is done by polling with a generous deadline; no test asserts on timing.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from amtune.worker.local_service import LocalService

SCRIPT = Path(__file__).with_name("scripts") / "sm_train.py"
OBJECTIVE = "validation:accuracy"
METRIC_DEFINITIONS = [
    {"Name": OBJECTIVE, "Regex": r"validation:accuracy=([-0-9.eE]+)"},
    {"Name": "train:loss", "Regex": r"train_loss=([0-9.]+)"},
]
SERVICE_ENV = {"AMTUNE_LEASE_SECONDS": "60", "AMTUNE_LOG_LEVEL": "WARNING"}

T = TypeVar("T")


def _service_available() -> None:
    if (
        importlib.util.find_spec("amtune.cli") is None
        or importlib.util.find_spec("amtune.api.app") is None
    ):
        pytest.skip("the amtune service (amtune.cli / amtune.api.app) is not built yet")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """One live service shared by a test module (tests use distinct tuning-job names)."""
    _service_available()
    with LocalService(tmp_path_factory.mktemp("service") / "amtune.db", env=SERVICE_ENV) as live:
        yield live


@pytest.fixture
def own_service(tmp_path: Path) -> Iterator[LocalService]:
    """A live service for one test, which may stop and restart it."""
    _service_available()
    live = LocalService(tmp_path / "amtune.db", env=SERVICE_ENV)
    live.start()
    try:
        yield live
    finally:
        live.stop()


_counter = itertools.count(1)


def unique_name(prefix: str) -> str:
    """A tuning-job name no other test of this session uses (a shared service remembers)."""
    return f"{prefix}-{os.getpid() % 10000}-{next(_counter)}"[:32]


def tuning_request(
    name: str,
    *,
    static: dict[str, str] | None = None,
    max_jobs: int | None = 3,
    parallel: int = 2,
    strategy: str = "Random",
    ranges: dict[str, Any] | None = None,
) -> dict[str, Any]:
    limits: dict[str, int] = {"MaxParallelTrainingJobs": parallel}
    if max_jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = max_jobs
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy,
            "RandomSeed": 3,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": OBJECTIVE},
            "ResourceLimits": limits,
            "ParameterRanges": ranges
            or {
                "ContinuousParameterRanges": [
                    {"Name": "x", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"}
                ],
                "IntegerParameterRanges": [
                    {"Name": "y", "MinValue": "1", "MaxValue": "5", "ScalingType": "Auto"}
                ],
            },
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": static or {"mode": "ok"},
            "AlgorithmSpecification": {
                "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/test:latest",
                "TrainingInputMode": "File",
                "MetricDefinitions": METRIC_DEFINITIONS,
            },
            "RoleArn": "arn:aws:iam::123456789012:role/test",
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": "s3://bucket/train",
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/output"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }


def expected_objective(hyperparameters: dict[str, str]) -> float:
    x, y = float(hyperparameters["x"]), int(hyperparameters["y"])
    return round(round(1.0 - (x - 0.3) ** 2 - 0.01 * y, 6), 6)


def start_worker(
    endpoint: str,
    tuning_job: str,
    workdir: Path,
    *,
    concurrency: int = 1,
    worker_id: str | None = None,
    extra: Sequence[str] = (),
    command: Sequence[str] | None = None,
) -> subprocess.Popen[str]:
    """``amtune worker`` as a user runs it (``python -m amtune`` is the console script)."""
    argv = [
        sys.executable,
        "-m",
        "amtune",
        "worker",
        "--endpoint",
        endpoint,
        "--tuning-job",
        tuning_job,
        "--workdir",
        str(workdir),
        "--concurrency",
        str(concurrency),
        "--stop-grace",
        "5",
        *(["--worker-id", worker_id] if worker_id else []),
        *extra,
        "--",
        *(command or [sys.executable, str(SCRIPT)]),
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"worker did not exit in {timeout}s; output:\n{output}") from None
    return process.returncode, output


def interrupt(process: subprocess.Popen[str], signum: int = signal.SIGTERM) -> None:
    process.send_signal(signum)


def wait_for(
    what: str, probe: Callable[[], T | None], timeout: float = 60, interval: float = 0.1
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def training_jobs(sm: Any, tuning_job: str) -> list[dict[str, Any]]:
    pages = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=tuning_job
    )
    return [summary for page in pages for summary in page["TrainingJobSummaries"]]


def describe(sm: Any, tuning_job: str) -> dict[str, Any]:
    result: dict[str, Any] = sm.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_job
    )
    return result
