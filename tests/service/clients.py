"""Helpers for driving amtune with unmodified AWS clients: the AWS CLI and the SageMaker SDK.

They exist so the client tests read as what a user does (a CLI command line, an ``Estimator``)
while the plumbing that keeps those clients hermetic lives in one place: no ``~/.aws`` config,
no instance-metadata lookups, no telemetry, no connection anywhere but the test server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from tests.service.protocol import RestWorker

ACCESS_KEY_ID = "AKIDEXAMPLE"
SECRET_ACCESS_KEY = "secret"
REGION = "us-east-1"

# Variables that would point a client somewhere other than where the test says.
_LEAKY_PREFIXES = ("AWS_", "AMTUNE_", "SAGEMAKER_")


def aws_executable() -> Path:
    """The AWS CLI v1 installed beside the interpreter running the tests (.venv/bin/aws)."""
    path = Path(sys.executable).parent / "aws"
    if not path.is_file():
        raise FileNotFoundError(f"the AWS CLI is not installed at {path} (pip install awscli)")
    return path


def hermetic_aws_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with static keys and nothing else configured.

    ``AWS_CONFIG_FILE``/``AWS_SHARED_CREDENTIALS_FILE`` point at empty files so that a
    developer's own profile, region or endpoint can never leak into a test, and instance
    metadata is off so credential resolution cannot wander onto the network.
    """
    home.mkdir(parents=True, exist_ok=True)
    empty = home / "empty-aws-config"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, f"aws exited {self.returncode}: {self.stderr}"
        return json.loads(self.stdout)


def run_aws(args: list[str], env: Mapping[str, str], cwd: Path) -> CliResult:
    """``aws sagemaker <args> --output json`` as a subprocess, exactly as typed in a shell."""
    completed = subprocess.run(
        [str(aws_executable()), "sagemaker", *args, "--output", "json"],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


# --- finishing training jobs as a worker would -----------------------------------------------


@dataclass(frozen=True)
class FinishedJob:
    name: str
    hyperparameters: dict[str, str]
    objective: float


def finish_training_jobs(
    url: str,
    tuning_job: str,
    metric_name: str,
    objective: Callable[[dict[str, str]], float],
    *,
    limit: int | None = None,
) -> list[FinishedJob]:
    """Claim, report and complete training jobs until the tuning job stops handing them out
    (409 TuningJobNotInProgress) or ``limit`` jobs are done; returns them in claim order."""
    worker = RestWorker(url)
    finished: list[FinishedJob] = []
    waits = 0
    while limit is None or len(finished) < limit:
        response = worker.claim(tuning_job)
        if response.status_code == 409:
            assert response.json()["__type"] == "TuningJobNotInProgress", response.text
            break
        if response.status_code == 204:
            # Nothing startable yet; a single sequential worker should rarely see this.
            waits += 1
            assert waits < 100, "the tuning job kept answering 204 to an idle worker"
            time.sleep(min(float(response.headers.get("Retry-After", "1")), 0.2))
            continue
        assert response.status_code == 200, response.text
        claim = response.json()
        name = claim["TrainingJobName"]
        hyperparameters: dict[str, str] = claim["HyperParameters"]
        value = objective(hyperparameters)
        assert worker.metrics(name, metric_name, value).status_code == 200
        assert worker.complete(name).status_code == 200
        finished.append(FinishedJob(name, hyperparameters, value))
    return finished


# --- keeping the SageMaker SDK off the network -------------------------------------------------

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@contextmanager
def loopback_only() -> Iterator[list[object]]:
    """Refuse (and record) every outgoing connection that is not to the loopback interface.

    The SageMaker SDK swallows some network errors (telemetry, for one), so refusing alone
    would not prove that nothing tried; the recorded list lets a test assert it stayed empty.
    """
    attempts: list[object] = []
    original = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in _LOOPBACK:
            attempts.append(address)
            raise OSError(f"test guard: no network access to {address!r}")
        original(self, address)

    with mock.patch.object(socket.socket, "connect", guarded):
        yield attempts


TELEMETRY_OPT_OUT = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""
