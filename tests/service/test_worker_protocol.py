"""The REST worker protocol as plain HTTP clients see it: codes, headers, bodies."""

from __future__ import annotations

import gc
import json
import threading
import time
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Response

from amtune.api.lean import lean_routes
from amtune.settings import Settings
from tests.app.requests import sdk_style_request
from tests.conftest import LiveServer
from tests.service.protocol import RestWorker

OBJECTIVE = "validation:accuracy"


def create(server: LiveServer, name: str, max_jobs: int = 2, parallel: int = 1) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    request["HyperParameterTuningJobConfig"].update(
        Strategy="Random",
        ResourceLimits={"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": parallel},
    )
    response = httpx.post(server.url + "/v1/tuning-jobs", json=request)
    assert response.status_code == 201, response.text
    assert response.json()["HyperParameterTuningJobArn"].endswith("/" + name)


def test_claim_answers_200_then_204_then_409(live_server: LiveServer) -> None:
    create(live_server, "proto", max_jobs=1)
    worker = RestWorker(live_server.url)
    claimed = worker.claim("proto")
    assert claimed.status_code == 200
    job = claimed.json()
    assert set(job) == {
        "TrainingJobName",
        "TrainingJobArn",
        "HyperParameters",
        "LeaseExpiresAt",
        "HeartbeatIntervalSeconds",
        "LeaseToken",
    }
    assert all(isinstance(v, str) for v in job["HyperParameters"].values())
    assert job["HyperParameters"]["_tuning_objective_metric"] == OBJECTIVE
    # Epoch seconds, about a lease from now: not milliseconds, not a string.
    assert abs(job["LeaseExpiresAt"] - (time.time() + 60)) < 30

    waiting = worker.claim("proto")
    assert waiting.status_code == 204
    assert waiting.headers["Retry-After"].isdigit()

    assert worker.metrics(job["TrainingJobName"], OBJECTIVE, 0.5).json() == {"StopRequested": False}
    assert worker.complete(job["TrainingJobName"]).json() == {"TrainingJobStatus": "Completed"}
    ended = worker.claim("proto")
    assert ended.status_code == 409
    assert ended.json()["__type"] == "TuningJobNotInProgress"
    assert worker.heartbeat(job["TrainingJobName"]).status_code == 409


def test_unknown_jobs_are_404(live_server: LiveServer) -> None:
    worker = RestWorker(live_server.url)
    missing = worker.claim("ghost")
    assert missing.status_code == 404
    assert missing.json()["__type"] == "ResourceNotFound"
    assert worker.heartbeat("ghost-001-00000000").status_code == 404
    assert httpx.get(live_server.url + "/v1/tuning-jobs/ghost").status_code == 404


def test_bad_metric_values_are_refused_by_name(live_server: LiveServer) -> None:
    create(live_server, "nan")
    worker = RestWorker(live_server.url)
    name = worker.claim_job("nan")["TrainingJobName"]
    for raw in ("NaN", "Infinity", "-Infinity", '"abc"', "null", "1e999"):
        token = worker.tokens[name]
        metric = f'{{"MetricName": "{OBJECTIVE}", "Value": {raw}}}'
        body = f'{{"LeaseToken": "{token}", "Metrics": [{metric}]}}'
        response = worker.http.post(
            f"/v1/training-jobs/{name}/metrics",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, raw
        assert response.json()["__type"] == "ValidationException"
        assert "metrics.1.member.value" in response.json()["message"], raw
    # Nothing was stored: the job still has no objective.
    assert worker.complete(name).json() == {"TrainingJobStatus": "Completed"}
    described = httpx.get(f"{live_server.url}/v1/training-jobs/{name}").json()
    assert "FinalMetricDataList" not in described


def test_fail_and_empty_bodies(live_server: LiveServer) -> None:
    create(live_server, "failing", max_jobs=2)
    worker = RestWorker(live_server.url)
    name = worker.claim_job("failing")["TrainingJobName"]
    token = worker.tokens[name]
    assert worker.http.post(f"/v1/training-jobs/{name}/heartbeat").status_code == 400
    missing_reason = worker.http.post(f"/v1/training-jobs/{name}/fail", json={"LeaseToken": token})
    assert missing_reason.status_code == 400
    assert "failureReason" in missing_reason.json()["message"]
    failed = worker.fail(name, "CUDA out of memory", retryable=False)
    assert failed.json() == {"TrainingJobStatus": "Failed"}
    described: dict[str, Any] = httpx.get(f"{live_server.url}/v1/training-jobs/{name}").json()
    assert described["FailureReason"] == "ClientError: CUDA out of memory"
    summary = httpx.get(f"{live_server.url}/v1/tuning-jobs/failing").json()
    assert summary["TrainingJobStatusCounters"]["NonRetryableError"] == 1


def test_rest_list_and_describe_mirror_the_aws_shapes(live_server: LiveServer) -> None:
    create(live_server, "mirror", max_jobs=3, parallel=3)
    worker = RestWorker(live_server.url)
    for value in (0.1, 0.3):
        worker.run_one("mirror", OBJECTIVE, value)
    listed = httpx.get(
        f"{live_server.url}/v1/tuning-jobs/mirror/training-jobs",
        params={"SortBy": "FinalObjectiveMetricValue", "SortOrder": "Descending"},
    ).json()
    values = [
        s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for s in listed["TrainingJobSummaries"]
    ]
    assert values == [0.3, 0.1]
    bad = httpx.get(f"{live_server.url}/v1/tuning-jobs", params={"MaxResults": 0})
    assert bad.status_code == 400 and bad.json()["__type"] == "ValidationException"
    jobs = httpx.get(f"{live_server.url}/v1/tuning-jobs").json()["HyperParameterTuningJobSummaries"]
    assert [j["HyperParameterTuningJobName"] for j in jobs] == ["mirror"]
    assert httpx.post(f"{live_server.url}/v1/tuning-jobs/mirror/stop").json() == {}
    assert httpx.delete(f"{live_server.url}/v1/tuning-jobs/mirror").status_code == 204


def test_health_and_readiness(live_server: LiveServer) -> None:
    assert httpx.get(live_server.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(live_server.url + "/readyz").status_code == 200


def test_readiness_is_false_when_the_database_is_unreachable() -> None:
    from amtune.settings import Settings

    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    with LiveServer(settings) as server:
        assert httpx.get(server.url + "/healthz").status_code == 200
        ready = httpx.get(server.url + "/readyz", timeout=30)
        assert ready.status_code == 503
        answer = httpx.post(
            server.url + "/",
            content=json.dumps({}),
            headers={"X-Amz-Target": "SageMaker.ListTrainingJobs"},
            timeout=30,
        )
        assert answer.status_code == 503
        assert answer.json()["__type"] == "ServiceUnavailable"
        assert answer.headers["Retry-After"].isdigit()


def test_malformed_worker_bodies_are_refused_by_name(live_server: LiveServer) -> None:
    create(live_server, "malformed")
    worker = RestWorker(live_server.url)
    name = worker.claim_job("malformed")["TrainingJobName"]
    json_headers = {"Content-Type": "application/json"}
    cases = [
        (f"/v1/training-jobs/{name}/metrics", '{"Metrics": [', "JSON decode error"),
        ("/v1/tuning-jobs/malformed/claims", "", "at 'body' failed to satisfy constraint"),
        ("/v1/tuning-jobs/malformed/claims", "null", "Field required"),
        ("/v1/tuning-jobs/malformed/claims", '{"WorkerId": "w", "Extra": 1}', "'extra'"),
        (f"/v1/training-jobs/{name}/heartbeat", '{"LeaseToken": ""}', "'leaseToken'"),
        (f"/v1/training-jobs/{name}/heartbeat", '{"WorkerId": "w"}', "'leaseToken'"),
        # keys str.isdigit() accepts but int() does not: a key, not a list position
        (f"/v1/training-jobs/{name}/heartbeat", '{"LeaseToken": "t", "\u00b2": 1}', "at '\u00b2'"),
        (f"/v1/training-jobs/{name}/heartbeat", '{"LeaseToken": "t", "7": 1}', "at '7'"),
        # a key that starts with a dot keeps it: the path is built, not trimmed
        (f"/v1/training-jobs/{name}/heartbeat", '{"LeaseToken": "t", ".x": 1}', "at '.x'"),
    ]
    for path, body, expected in cases:
        response = worker.http.post(path, content=body, headers=json_headers)
        assert response.status_code == 400, (path, body, response.text)
        assert response.json()["__type"] == "ValidationException"
        assert expected in response.json()["message"], (path, body, response.text)
    # None of it touched the job: it still runs and completes normally.
    assert worker.heartbeat(name).status_code == 200


def test_a_worker_route_that_leaves_the_lean_shape_fails_at_start() -> None:
    router = APIRouter()

    @router.post("/v1/things/{Name}/poke", tags=["workers"])
    def poke(Name: str, extra: int) -> Response:  # noqa: N803
        return Response()

    with pytest.raises(TypeError, match="poke"):
        lean_routes(router.routes, "workers")


def test_a_started_service_keeps_its_startup_heap_out_of_full_collections(
    settings: Settings,
) -> None:
    """A full collection over everything imported and built at start stalled each serving
    process for over 100 ms under load; the lifespan freezes that heap instead."""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with LiveServer(settings):
        assert gc.get_freeze_count() > 10_000


def test_the_worker_routes_threads_end_with_the_service(settings: Settings) -> None:
    """Each app owns a thread pool for the worker routes; an app that shut down must not leave
    its threads behind in a process that goes on (an embedding program, a test run)."""

    def lean_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("lean-route")}

    before = lean_threads()
    with LiveServer(settings) as server:
        create(server, "threads")
        assert RestWorker(server.url).claim("threads").status_code == 200
        started = lean_threads() - before
        assert started, "the claim did not run on the worker routes' pool"
    assert not any(t.is_alive() for t in started)
