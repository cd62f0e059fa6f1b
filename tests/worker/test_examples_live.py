"""The examples and ``amtune demo`` run as a newcomer would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from amtune.worker.local_service import LocalService
from tests.worker.live import finish, start_worker, unique_name

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_sagemaker_script_tuned_by_amtune_worker(service: LocalService, tmp_path: Path) -> None:
    name = unique_name("digits")
    created = run(
        str(EXAMPLES / "boto3_tune.py"), "--endpoint", service.url, "--name", name,
        "--jobs", "3", "--parallel", "3",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    worker = start_worker(
        service.url,
        name,
        tmp_path,
        concurrency=3,
        command=[sys.executable, str(EXAMPLES / "sagemaker_style" / "train.py")],
    )
    code, output = finish(worker, timeout=300)
    assert code == 0, output

    board = run(str(EXAMPLES / "boto3_tune.py"), "--endpoint", service.url, "--name", name,
                "--no-create")  # fmt: skip
    assert board.returncode == 0, board.stderr
    assert f"{name}: Completed" in board.stdout
    assert board.stdout.count(f"{name}-0") >= 3  # three ranked rows (+ the best line)
    assert "best: " in board.stdout


def test_python_worker_example(service: LocalService) -> None:
    name = unique_name("digits-py")
    created = run(
        str(EXAMPLES / "boto3_tune.py"), "--endpoint", service.url, "--name", name,
        "--jobs", "2", "--parallel", "1",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    worked = run(str(EXAMPLES / "python_worker.py"), "--endpoint", service.url, "--name", name)
    assert worked.returncode == 0, worked.stderr
    assert worked.stdout.count("validation:accuracy=") == 2
    board = run(str(EXAMPLES / "boto3_tune.py"), "--endpoint", service.url, "--name", name,
                "--no-create")  # fmt: skip
    assert f"{name}: Completed" in board.stdout


def test_amtune_demo_runs_end_to_end() -> None:
    result = run("-m", "amtune", "demo", "--jobs", "8", "--workers", "4", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Bayesian search, 8 training jobs, 4 workers" in result.stdout
    assert "Completed; training jobs" in result.stdout
    assert "[demo] best training job:" in result.stdout
    assert "learning_rate = " in result.stdout
    assert "run `amtune demo --keep` to keep" in result.stdout
