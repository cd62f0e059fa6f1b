"""A lease is owned by the worker that holds its token, and a job stores a bounded number of
metric points: on the wire of the worker protocol, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from amtune.api.app import create_app
from amtune.app.service import Tuner
from amtune.settings import Settings
from amtune.store.database import Database
from tests.app.requests import sdk_style_request
from tests.conftest import FakeClock

OBJECTIVE = "validation:accuracy"


@pytest.fixture
def rest(tuner: Tuner) -> Iterator[TestClient]:
    """The whole service (REST face included) over the test's tuner and its hand-moved clock."""
    with TestClient(create_app(tuner.settings, tuner=tuner)) as client:
        yield client


def create(client: TestClient, name: str, *, retries: int = 0) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = "Random"
    config["ResourceLimits"] = {"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1}
    if retries:
        request["TrainingJobDefinition"]["RetryStrategy"] = {"MaximumRetryAttempts": retries}
    assert client.post("/v1/tuning-jobs", json=request).status_code == 201


def claim(client: TestClient, tuning_job: str, worker: str) -> dict[str, Any]:
    answer = client.post(f"/v1/tuning-jobs/{tuning_job}/claims", json={"WorkerId": worker})
    assert answer.status_code == 200, answer.text
    job: dict[str, Any] = answer.json()
    return job


METRICS = {"Metrics": [{"MetricName": OBJECTIVE, "Value": 0.5}]}
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "heartbeat": ("heartbeat", {}),
    "metrics": ("metrics", METRICS),
    "complete": ("complete", {"FinalMetricDataList": METRICS["Metrics"]}),
    "fail": ("fail", {"FailureReason": "late", "Retryable": True}),
}


def call(client: TestClient, job: str, kind: str, **extra: Any) -> httpx.Response:
    action, body = CALLS[kind]
    # Starlette types TestClient against httpx2, which is not installed, so its methods return
    # Any to mypy; at run time they return httpx responses.
    response: httpx.Response = client.post(
        f"/v1/training-jobs/{job}/{action}", json={**body, **extra}
    )
    return response


@pytest.mark.parametrize("kind", sorted(CALLS))
def test_a_stale_worker_is_refused_whatever_it_leaves_out(
    rest: TestClient, clock: FakeClock, kind: str
) -> None:
    """Worker A's lease lapses and the job is handed again to worker B (RetryStrategy): A's
    late call answers 409 with or without a WorkerId, even naming B, and changes nothing; a
    call without the token is a 400 naming the field; B carries on as the job's holder."""
    name = f"stale-{kind}"
    create(rest, name, retries=1)
    first = claim(rest, name, "a")
    clock.advance(61)
    second = claim(rest, name, "b")
    job = second["TrainingJobName"]
    assert job == first["TrainingJobName"]
    assert second["LeaseToken"] != first["LeaseToken"]

    for extra in ({}, {"WorkerId": "a"}, {"WorkerId": "b"}):
        late = call(rest, job, kind, LeaseToken=first["LeaseToken"], **extra)
        assert late.status_code == 409, (extra, late.text)
        assert late.json()["__type"] == "TrainingJobNotInProgress"
    unproven = call(rest, job, kind, WorkerId="b")
    assert unproven.status_code == 400
    assert unproven.json()["__type"] == "ValidationException"
    assert "leaseToken" in unproven.json()["message"]

    described = rest.get(f"/v1/training-jobs/{job}").json()
    assert described["TrainingJobStatus"] == "InProgress"
    assert "FinalMetricDataList" not in described
    answer = call(rest, job, kind, LeaseToken=second["LeaseToken"])
    assert answer.status_code == 200, answer.text
    if kind == "complete":
        assert answer.json() == {"TrainingJobStatus": "Completed"}
    if kind == "fail":
        # B's failure is the job's second attempt failing: retries are spent, it ends Failed.
        assert answer.json() == {"TrainingJobStatus": "Failed"}


def test_a_token_of_another_job_holds_nothing(rest: TestClient) -> None:
    create(rest, "own-a")
    create(rest, "own-b")
    a, b = claim(rest, "own-a", "w"), claim(rest, "own-b", "w")
    crossed = call(rest, a["TrainingJobName"], "complete", LeaseToken=b["LeaseToken"])
    assert crossed.status_code == 409
    own = call(rest, a["TrainingJobName"], "complete", LeaseToken=a["LeaseToken"])
    assert own.json() == {"TrainingJobStatus": "Completed"}


def test_only_a_digest_of_the_token_is_stored(tuner: Tuner, rest: TestClient) -> None:
    create(rest, "digest")
    token = claim(rest, "digest", "w")["LeaseToken"]
    assert len(token) >= 40  # 32 random bytes, URL-safe base64
    with tuner.db.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT lease_token_hash FROM training_jobs WHERE tuning_job_name = 'digest'")
        ).scalar_one()
    assert stored != token and token not in stored and len(stored) == 64


@pytest.fixture
def capped(
    settings: Settings, shared_databases: dict[str, Database], clock: FakeClock
) -> Iterator[TestClient]:
    """A service whose training jobs may store 5 metric points each."""
    db = shared_databases.get(settings.database_url)
    if db is None:
        db = shared_databases[settings.database_url] = Database(settings.database_url)
    tuner = Tuner(settings.model_copy(update={"max_metric_points_per_job": 5}), db=db, clock=clock)
    with TestClient(create_app(tuner.settings, tuner=tuner)) as client:
        yield client


def points(n: int, start: float = 0.0) -> list[dict[str, Any]]:
    return [{"MetricName": OBJECTIVE, "Value": start + i / 100} for i in range(n)]


def test_metric_points_stop_at_the_cap_with_a_clear_error(capped: TestClient) -> None:
    """Reports fill a job up to the cap; one that would pass it is refused whole, stores
    nothing, and says why; smaller reports that still fit go on being stored."""
    create(capped, "capped")
    job = claim(capped, "capped", "w")
    name, token = job["TrainingJobName"], job["LeaseToken"]

    def report(n: int, start: float) -> httpx.Response:
        body = {"LeaseToken": token, "Metrics": points(n, start)}
        response: httpx.Response = capped.post(f"/v1/training-jobs/{name}/metrics", json=body)
        return response

    assert report(3, 0.1).status_code == 200
    refused = report(3, 0.5)
    assert refused.status_code == 400
    assert refused.json()["__type"] == "ResourceLimitExceeded"
    assert "limit of 5" in refused.json()["message"]
    assert report(2, 0.3).status_code == 200
    assert report(1, 0.9).json()["__type"] == "ResourceLimitExceeded"
    # The refused points never arrived: the last stored value is the last accepted report's.
    done = capped.post(f"/v1/training-jobs/{name}/complete", json={"LeaseToken": token})
    assert done.json() == {"TrainingJobStatus": "Completed"}
    final = capped.get(f"/v1/training-jobs/{name}").json()["FinalMetricDataList"]
    assert [m["Value"] for m in final] == [0.31]


def test_a_heartbeat_is_not_a_metric_point(capped: TestClient) -> None:
    create(capped, "beats")
    job = claim(capped, "beats", "w")
    name, token = job["TrainingJobName"], job["LeaseToken"]
    body = {"LeaseToken": token, "Metrics": points(5)}
    assert capped.post(f"/v1/training-jobs/{name}/metrics", json=body).status_code == 200
    for _ in range(2):
        beat = capped.post(f"/v1/training-jobs/{name}/heartbeat", json={"LeaseToken": token})
        assert beat.status_code == 200 and beat.json()["StopRequested"] is False
