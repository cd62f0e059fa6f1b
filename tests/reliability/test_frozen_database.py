"""A frozen PostgreSQL (stopped, not down) gives fast 503s, and /readyz answers in time.

A frozen server still has its kernel acknowledge every packet, so the connections look alive
and no server-side timeout runs: without a deadline of the service's own, every request and
``/readyz`` would wait for as long as the freeze lasts. Here every process of a private cluster
is stopped with SIGSTOP while the service is warm (pooled connections open), and continued
after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from amtune.settings import Settings
from amtune.store.migrate import upgrade
from tests.conftest import LiveServer, new_account_id
from tests.reliability.private_postgres import PrivatePostgres
from tests.reliability.support import create_tuning_job, wait_for

pytestmark = pytest.mark.slow


def cluster_pids(data: Path) -> list[int]:
    """The postmaster and every process it started (backends, checkpointer, ...)."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(entry.name))
    return [postmaster, *children]


def signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_frozen_database_answers_503_fast(private_postgres: PrivatePostgres) -> None:
    url = private_postgres.url("amtune")
    upgrade(url)
    settings = Settings(
        database_url=url,
        account_id=new_account_id(),
        db_statement_timeout_seconds=1.0,
        db_lock_timeout_seconds=1.0,
        db_pool_timeout_seconds=1.0,
    )
    with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        create_tuning_job(live.url, "frozen", max_jobs=100, max_parallel=4)
        for _ in range(3):  # warm pooled connections on both pools
            assert http.get("/v1/tuning-jobs/frozen").status_code == 200
        claimed = http.post("/v1/tuning-jobs/frozen/claims", json={"WorkerId": "w"})
        assert claimed.status_code == 200
        job, token = claimed.json()["TrainingJobName"], claimed.json()["LeaseToken"]

        frozen = cluster_pids(private_postgres.data)
        signal_all(frozen, signal.SIGSTOP)
        try:
            ready, took = timed(lambda: http.get("/readyz"))
            assert ready.status_code == 503 and took < 2.0, took
            for call in (
                lambda: http.get("/v1/tuning-jobs/frozen"),
                lambda: http.post(f"/v1/training-jobs/{job}/heartbeat", json={"LeaseToken": token}),
                lambda: http.post("/v1/tuning-jobs/frozen/claims", json={"WorkerId": "w2"}),
            ):
                answer, took = timed(call)
                assert answer.status_code == 503, answer.text
                assert answer.json()["__type"] == "ServiceUnavailable"
                assert answer.headers["Retry-After"].isdigit()
                assert took < 6.0, took
            again, took = timed(lambda: http.get("/readyz"))
            assert again.status_code == 503 and took < 2.0, took
        finally:
            signal_all(frozen, signal.SIGCONT)

        wait_for("readyz to recover", lambda: http.get("/readyz").status_code == 200, 30)
        wait_for(
            "requests to be served again",
            lambda: http.get("/v1/tuning-jobs/frozen").status_code == 200,
            30,
        )
