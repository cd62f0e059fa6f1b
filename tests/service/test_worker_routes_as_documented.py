"""The worker routes the service serves answer exactly as the routes its OpenAPI document
declares: clients and generated SDKs read the document, the service answers from
``api.worker_routes``. Both apps run on one Tuner (one database, one fake clock) and each gets
its own tuning job, so the same script of requests must give the same statuses and bodies,
the generated training-job names aside."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from amtune.api.app import create_app
from amtune.app.service import Tuner
from amtune.settings import Settings
from tests.app.requests import sdk_style_request

OBJECTIVE = "validation:accuracy"
HUGE = "9" * 5000
Step = tuple[str, str, bytes | None]  # path (with {TJ} and {JOB}), what to send


def create(tuner: Tuner, name: str) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    request["HyperParameterTuningJobConfig"].update(
        Strategy="Random",
        RandomSeed=7,
        ResourceLimits={"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 1},
    )
    tuner.create_tuning_job(tuner.default_caller(), request)


SCRIPT: list[tuple[str, bytes | None]] = [
    ("/v1/tuning-jobs/{TJ}/claims", b"{}"),
    ("/v1/tuning-jobs/{TJ}/claims", b'{"WorkerId": 5}'),
    ("/v1/tuning-jobs/{TJ}/claims", b'{"WorkerId": "w\\u0000"}'),
    ("/v1/tuning-jobs/{TJ}/claims", b'{"WorkerId": '),
    ("/v1/tuning-jobs/{TJ}/claims", None),
    ("/v1/tuning-jobs/nosuchjob/claims", b'{"WorkerId": "w"}'),
    ("/v1/tuning-jobs/{TJ}/claims", b'{"WorkerId": "w"}'),
    ("/v1/tuning-jobs/{TJ}/claims", b'{"WorkerId": "w"}'),
    ("/v1/training-jobs/{JOB}/heartbeat", None),
    ("/v1/training-jobs/{JOB}/heartbeat", b"null"),
    ("/v1/training-jobs/{JOB}/heartbeat", b'{"LeaseToken": "{TOKEN}", "WorkerId": "other"}'),
    ("/v1/training-jobs/{JOB}/heartbeat", b'{"LeaseToken": "{TOKEN}", "Extra": 1}'),
    ("/v1/training-jobs/{JOB}/heartbeat", b'{"LeaseToken": 5}'),
    ("/v1/training-jobs/{JOB}/heartbeat", b'{"LeaseToken": "t\\u0000"}'),
    ("/v1/training-jobs/{JOB}/heartbeat", b'{"LeaseToken": "not-the-token"}'),
    ("/v1/training-jobs/no%00job/heartbeat", b'{"LeaseToken": "{TOKEN}"}'),
    ("/v1/training-jobs/{JOB}/metrics", b'{"Metrics": [{"MetricName": "m", "Value": 1}]}'),
    (
        "/v1/training-jobs/{JOB}/metrics",
        b'{"LeaseToken": "{TOKEN}", "Metrics": [{"MetricName": "m", "Value": "1.5"}]}',
    ),
    (
        "/v1/training-jobs/{JOB}/metrics",
        b'{"LeaseToken": "{TOKEN}", "Metrics": [{"MetricName": "m", "Value": true}]}',
    ),
    (
        "/v1/training-jobs/{JOB}/metrics",
        b'{"LeaseToken": "{TOKEN}", "Metrics": [{"MetricName": "m", "Value": NaN}]}',
    ),
    (
        "/v1/training-jobs/{JOB}/metrics",
        b'{"LeaseToken": "{TOKEN}", "Metrics": [{"MetricName": "m", "Value": %s}]}',
    ),
    (
        "/v1/training-jobs/{JOB}/metrics",
        b'{"LeaseToken": "{TOKEN}", "Metrics": [{"MetricName": "m\\u0001", "Value": 1}]}',
    ),
    (
        "/v1/training-jobs/{JOB}/metrics",
        b'{"LeaseToken": "{TOKEN}", "Metrics": [{"MetricName": "%s", "Value": 1}]}',
    ),
    (
        "/v1/training-jobs/{JOB}/metrics",
        b'{"LeaseToken": "{TOKEN}", "Metrics": [{"MetricName": "a", "Value": 0.5}]}',
    ),
    (
        "/v1/training-jobs/{JOB}/fail",
        b'{"LeaseToken": "{TOKEN}", "FailureReason": "x", "Retryable": "yes"}',
    ),
    ("/v1/training-jobs/{JOB}/fail", b'{"LeaseToken": "{TOKEN}", "FailureReason": "\\u0000"}'),
    (
        "/v1/training-jobs/{JOB}/complete",
        b'{"LeaseToken": "{TOKEN}", "FinalMetricDataList": [{"MetricName": 1}]}',
    ),
    ("/v1/training-jobs/{JOB}/complete", None),
    (
        "/v1/training-jobs/{JOB}/complete",
        b'{"LeaseToken": "{TOKEN}", "FinalMetricDataList": '
        b'[{"MetricName": "validation:accuracy", "Value": 0.9}]}',
    ),
    ("/v1/tuning-jobs/{TJ}/claims", b'{"WorkerId": "w"}'),
    ("/v1/training-jobs/{JOB}/release", None),
    ("/v1/training-jobs/{JOB}/release", b'{"LeaseToken": "{TOKEN}"}'),
    ("/v1/training-jobs/{JOB}/release", b'{"LeaseToken": "{TOKEN}"}'),
    ("/v1/tuning-jobs/{TJ}/claims", b'{"WorkerId": "w"}'),
    (
        "/v1/training-jobs/{JOB}/fail",
        b'{"LeaseToken": "{TOKEN}", "FailureReason": "line one\\nline two", "Retryable": true}',
    ),
    ("/v1/claims", b"{}"),
    ("/v1/claims", b'{"WorkerId": 5}'),
    ("/v1/claims", b'{"WorkerId": "w\\u0000"}'),
    ("/v1/claims", b'{"WorkerId": "w", "Images": "not-a-list"}'),
    ("/v1/claims", b'{"WorkerId": "w", "Images": ["no-such-image:latest"]}'),
]


def run_script(client: TestClient, tuning_job: str) -> list[tuple[int, str, str | None]]:
    answers = []
    job, token = "nojob", "notoken"
    for template, raw in SCRIPT:
        path = template.replace("{TJ}", tuning_job).replace("{JOB}", job)
        body = raw
        if raw is not None:
            body = raw.replace(b"%s", HUGE.encode() if b"Value" in raw else OBJECTIVE.encode())
            body = body.replace(b"{TOKEN}", token.encode())
        headers = {"Content-Type": "application/json"}
        response = client.post(path, content=body, headers=headers)
        if response.status_code == 200 and path.endswith("/claims"):
            job, token = response.json()["TrainingJobName"], response.json()["LeaseToken"]
        text = re.sub(rf"{tuning_job}-(\d\d\d)-[0-9a-f]{{8}}", r"TJ-\1", response.text)
        text = text.replace(tuning_job, "TJ").replace(token, "TOKEN")
        answers.append((response.status_code, text, response.headers.get("Retry-After")))
    return answers


def test_the_served_worker_routes_answer_as_the_documented_ones(
    settings: Settings, tuner: Tuner
) -> None:
    served = TestClient(create_app(settings, tuner=tuner))
    documented = TestClient(create_app(settings, tuner=tuner, explicit_worker_routes=False))
    create(tuner, "served")
    create(tuner, "documented")
    by_served = run_script(served, "served")
    by_documented = run_script(documented, "documented")
    for step, (a, b) in enumerate(zip(by_served, by_documented, strict=True)):
        assert a == b, (SCRIPT[step][0], a, b)
    statuses = [status for status, _, _ in by_served]
    # The script means something: it claims, is refused, reports, ends.
    assert statuses.count(200) >= 7 and statuses.count(400) >= 20, statuses
    assert 404 in statuses and 409 in statuses and 204 in statuses


def test_every_documented_operation_is_served(settings: Settings, tuner: Tuner) -> None:
    app = create_app(settings, tuner=tuner)
    client = TestClient(app)
    send: dict[str, Callable[..., Any]] = {
        "get": client.get,
        "post": client.post,
        "delete": client.delete,
    }
    operations = 0
    for path, methods in app.openapi()["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "missing", path)
        for method in methods:
            headers = {"X-Amz-Target": "SageMaker.ListHyperParameterTuningJobs"}
            response = send[method](concrete, headers=headers)
            assert response.headers.get("x-amzn-ErrorType") != "UnknownOperationException", (
                method,
                path,
                response.text,
            )
            operations += 1
    assert operations >= 16
