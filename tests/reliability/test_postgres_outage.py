"""PostgreSQL restarted under load: the service says so, fails fast, and heals by itself.

Dead pooled connections after a database restart must neither hang nor crash clients, nor
need the service restarted. While the database is down, ``/readyz`` is 503
and every request is answered 503 ``ServiceUnavailable`` with ``Retry-After`` (the clients'
timeout bounds the wait: a hang fails the test). Once PostgreSQL is back the same server process
serves again, and nothing acknowledged before the outage is lost.
"""

from __future__ import annotations

import json

import httpx
import pytest

from amtune.settings import Settings
from amtune.store.migrate import upgrade
from tests.conftest import LiveServer, new_account_id
from tests.reliability.acked import assert_nothing_lost, run_workers, stop_workers
from tests.reliability.private_postgres import PrivatePostgres
from tests.reliability.support import create_tuning_job, wait_for

pytestmark = pytest.mark.slow
# The bound on any one request during the outage: far above connect_timeout (5 s).
REQUEST_TIMEOUT = 20.0


def assert_retryable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["__type"] == "ServiceUnavailable"
    assert response.json()["message"]
    assert response.headers["x-amzn-ErrorType"] == "ServiceUnavailable"


def test_postgres_restart_under_load(private_postgres: PrivatePostgres) -> None:
    url = private_postgres.url("amtune")
    upgrade(url)
    account = new_account_id()
    settings = Settings(
        database_url=url, account_id=account, lease_seconds=60, sweep_interval_seconds=0.2
    )
    with (
        LiveServer(settings) as live,
        httpx.Client(base_url=live.url, timeout=REQUEST_TIMEOUT) as http,
    ):
        create_tuning_job(live.url, "outage", max_jobs=10_000, max_parallel=8)
        held = http.post("/v1/tuning-jobs/outage/claims", json={"WorkerId": "probe"})
        assert held.status_code == 200
        probe_job, probe_token = held.json()["TrainingJobName"], held.json()["LeaseToken"]
        acks, stop, workers = run_workers([live.url], "outage", 4)
        wait_for("writes before the outage", lambda: len(acks.metrics) >= 20)

        calm = acks.outages
        private_postgres.stop()
        wait_for("readyz to go 503", lambda: http.get("/readyz").status_code == 503)
        assert http.get("/healthz").status_code == 200  # alive: nobody should restart it
        # Every kind of request: claim, report, complete, and the AWS face.
        assert_retryable(http.post("/v1/tuning-jobs/outage/claims", json={"WorkerId": "x"}))
        metric = {"MetricName": "loss", "Value": 1.0}
        assert_retryable(
            http.post(
                f"/v1/training-jobs/{probe_job}/metrics",
                json={"LeaseToken": probe_token, "Metrics": [metric]},
            )
        )
        done = {"LeaseToken": probe_token}
        assert_retryable(http.post(f"/v1/training-jobs/{probe_job}/complete", json=done))
        assert_retryable(http.get("/v1/tuning-jobs/outage"))
        assert_retryable(
            http.post(
                "/",
                content=json.dumps({"HyperParameterTuningJobName": "outage"}),
                headers={
                    "X-Amz-Target": "SageMaker.DescribeHyperParameterTuningJob",
                    "Content-Type": "application/x-amz-json-1.1",
                },
            )
        )

        private_postgres.start()
        wait_for("readyz to recover", lambda: http.get("/readyz").status_code == 200, 60)
        # The same process serves again: the held job and the workers carry on.
        assert http.post(f"/v1/training-jobs/{probe_job}/complete", json=done).status_code == 200
        resumed = len(acks.metrics)
        wait_for("writes after the outage", lambda: len(acks.metrics) >= resumed + 20)
        stop_workers(stop, workers)
        assert acks.outages > calm, "the workers never noticed the outage"
        assert_nothing_lost(url, live.url, account, "outage", acks)
