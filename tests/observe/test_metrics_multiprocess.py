"""Several server processes with PROMETHEUS_MULTIPROC_DIR: /metrics sums every process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from amtune.store.migrate import upgrade
from tests.service.processes import free_port


def test_metrics_sum_the_requests_of_every_worker_process(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'amtune.db'}"
    upgrade(database)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "AMTUNE_DATABASE_URL": database,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "--factory", "amtune.api.app:create_app",
            "--workers", "2", "--port", str(port), "--log-level", "warning",
        ],
        env=env,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        for _ in range(30):  # a new connection each: the processes share them out
            assert httpx.get(f"{url}/v1/tuning-jobs").status_code == 200
        text = httpx.get(f"{url}/metrics").text
    finally:
        server.terminate()
        server.wait(timeout=30)
    answered = {
        sample.labels["operation"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "amtune_requests_total" and sample.labels["face"] == "rest"
    }
    assert answered == {"GET /v1/tuning-jobs": 30}
    assert len(list(metrics_dir.glob("counter_*.db"))) == 2  # one file per process
