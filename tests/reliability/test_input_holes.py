"""Input the store cannot take is refused at the door with 400 and the field named, on every
route of both faces and on SQLite and PostgreSQL alike: NUL and control characters, integer
literals too long to hold, and values of the wrong JSON type (never coerced)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.app.requests import sdk_style_request
from tests.conftest import LiveServer

AWS = {"Content-Type": "application/x-amz-json-1.1"}
HUGE = "9" * 5000
TOKENS: dict[str, str] = {}  # training job name -> the LeaseToken of its claim


def create(server: LiveServer, name: str) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    request["HyperParameterTuningJobConfig"].update(
        Strategy="Random",
        ResourceLimits={"MaxNumberOfTrainingJobs": 5, "MaxParallelTrainingJobs": 5},
    )
    response = httpx.post(server.url + "/v1/tuning-jobs", json=request)
    assert response.status_code == 201, response.text


def claimed(server: LiveServer, tuning_job: str) -> str:
    response = httpx.post(
        f"{server.url}/v1/tuning-jobs/{tuning_job}/claims", json={"WorkerId": "w"}
    )
    assert response.status_code == 200, response.text
    name: str = response.json()["TrainingJobName"]
    TOKENS[name] = response.json()["LeaseToken"]
    return name


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["__type"] == "ValidationException", body
    assert f"at '{field}'" in body["message"], body["message"]


def post(server: LiveServer, path: str, raw: str) -> httpx.Response:
    """POST ``raw``; a training job's route gets the job's LeaseToken put first in the object,
    as its worker sends it, so that only the field under test is wrong."""
    parts = path.split("/")
    if path.startswith("/v1/training-jobs/") and raw.startswith("{") and "LeaseToken" not in raw:
        token = json.dumps(TOKENS.get(parts[3], "no-token"))
        raw = '{"LeaseToken": ' + token + ("" if raw == "{}" else ", ") + raw[1:]
    return httpx.post(
        server.url + path, content=raw.encode(), headers={"Content-Type": "application/json"}
    )


def aws(server: LiveServer, operation: str, raw: str) -> httpx.Response:
    headers = {**AWS, "X-Amz-Target": f"SageMaker.{operation}"}
    return httpx.post(server.url + "/", content=raw.encode(), headers=headers)


@pytest.fixture
def job(live_server: LiveServer) -> str:
    create(live_server, "holes")
    return claimed(live_server, "holes")


def test_nul_and_control_characters_are_refused_naming_the_field(
    live_server: LiveServer, job: str
) -> None:
    s = live_server
    refused(post(s, "/v1/tuning-jobs/holes/claims", '{"WorkerId": "w\\u0000"}'), "workerId")
    refused(post(s, "/v1/tuning-jobs/holes/claims", '{"WorkerId": "w\\u0007x"}'), "workerId")
    refused(post(s, f"/v1/training-jobs/{job}/heartbeat", '{"WorkerId": "\\u0000"}'), "workerId")
    bad_token = '{"LeaseToken": "t\\u0000"}'
    refused(post(s, f"/v1/training-jobs/{job}/heartbeat", bad_token), "leaseToken")
    metric = '{"Metrics": [{"MetricName": "loss\\u0000", "Value": 1}]}'
    refused(post(s, f"/v1/training-jobs/{job}/metrics", metric), "metrics.1.member.metricName")
    final = '{"FinalMetricDataList": [{"MetricName": "a\\u001b", "Value": 1}]}'
    refused(
        post(s, f"/v1/training-jobs/{job}/complete", final),
        "finalMetricDataList.1.member.metricName",
    )
    refused(
        post(s, f"/v1/training-jobs/{job}/fail", '{"FailureReason": "a\\u0000b"}'), "failureReason"
    )
    for route, body in (
        ("heartbeat", {}),
        ("metrics", {"Metrics": []}),
        ("complete", {}),
        ("fail", {"FailureReason": "x"}),
    ):
        nul_path = httpx.post(
            f"{s.url}/v1/training-jobs/x%00y/{route}", json={"LeaseToken": "t", **body}
        )
        refused(nul_path, "trainingJobName")
    refused(
        httpx.post(f"{s.url}/v1/tuning-jobs/x%00y/claims", json={"WorkerId": "w"}), "tuningJobName"
    )
    arn = '{"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/a\\u0000b"}'
    refused(aws(s, "ListTags", arn), "resourceArn")
    refused(httpx.get(f"{s.url}/v1/training-jobs/a%00b"), "trainingJobName")
    # Still held, untouched; free text keeps its line breaks.
    reason = '{"FailureReason": "Traceback:\\n\\tline 1", "Retryable": false}'
    ended = post(s, f"/v1/training-jobs/{job}/fail", reason)
    assert ended.status_code == 200, ended.text
    described = httpx.get(f"{s.url}/v1/training-jobs/{job}").json()
    assert described["FailureReason"].endswith("Traceback:\n\tline 1")


def test_integers_too_long_to_hold_are_refused_naming_the_field(
    live_server: LiveServer, job: str
) -> None:
    s = live_server
    value = '{"Metrics": [{"MetricName": "loss", "Value": HUGE}]}'.replace("HUGE", HUGE)
    refused(post(s, f"/v1/training-jobs/{job}/metrics", value), "metrics.1.member.value")
    step = '{"Metrics": [{"MetricName": "loss", "Value": 1, "Step": HUGE}]}'.replace("HUGE", HUGE)
    refused(post(s, f"/v1/training-jobs/{job}/metrics", step), "metrics.1.member.step")
    refused(
        post(s, "/v1/tuning-jobs/holes/claims", '{"WorkerId": HUGE}'.replace("HUGE", HUGE)),
        "workerId",
    )
    refused(
        post(s, f"/v1/training-jobs/{job}/fail", '{"FailureReason": -HUGE}'.replace("HUGE", HUGE)),
        "failureReason",
    )
    request = json.dumps(sdk_style_request()).replace(
        '"MaxNumberOfTrainingJobs": 20', f'"MaxNumberOfTrainingJobs": {HUGE}'
    )
    assert HUGE in request
    field = "hyperParameterTuningJobConfig.resourceLimits.maxNumberOfTrainingJobs"
    refused(post(s, "/v1/tuning-jobs", request), field)
    refused(aws(s, "CreateHyperParameterTuningJob", request), field)
    unknown = request.replace(HUGE, "20").replace(
        '{"HyperParameterTuningJobName"',
        '{"X": HUGE, "HyperParameterTuningJobName"'.replace("HUGE", HUGE),
    )
    refused(post(s, "/v1/tuning-jobs", unknown), "x")
    refused(
        aws(s, "DescribeTrainingJob", '{"TrainingJobName": HUGE}'.replace("HUGE", HUGE)),
        "trainingJobName",
    )
    listed = httpx.get(f"{s.url}/v1/tuning-jobs").json()["HyperParameterTuningJobSummaries"]
    assert [t["HyperParameterTuningJobName"] for t in listed] == ["holes"]


@pytest.mark.parametrize(
    ("route", "raw", "field"),
    [
        (
            "metrics",
            '{"Metrics": [{"MetricName": "loss", "Value": "1.5"}]}',
            "metrics.1.member.value",
        ),
        (
            "metrics",
            '{"Metrics": [{"MetricName": "loss", "Value": true}]}',
            "metrics.1.member.value",
        ),
        (
            "metrics",
            '{"Metrics": [{"MetricName": "loss", "Value": 1, "Step": 1.0}]}',
            "metrics.1.member.step",
        ),
        ("metrics", '{"Metrics": [{"MetricName": 7, "Value": 1}]}', "metrics.1.member.metricName"),
        (
            "metrics",
            '{"Metrics": [{"MetricName": "l", "Value": 1, "Timestamp": "now"}]}',
            "metrics.1.member.timestamp",
        ),
        ("fail", '{"FailureReason": "x", "Retryable": "yes"}', "retryable"),
        ("fail", '{"FailureReason": "x", "Retryable": 1}', "retryable"),
        ("fail", '{"FailureReason": ["x"]}', "failureReason"),
        ("heartbeat", '{"WorkerId": 5}', "workerId"),
        ("complete", '{"WorkerId": true}', "workerId"),
    ],
)
def test_values_of_the_wrong_type_are_refused_not_coerced(
    live_server: LiveServer, job: str, route: str, raw: str, field: str
) -> None:
    refused(post(live_server, f"/v1/training-jobs/{job}/{route}", raw), field)
    # Nothing was recorded: the job is running and has no metrics.
    described = httpx.get(f"{live_server.url}/v1/training-jobs/{job}").json()
    assert described["TrainingJobStatus"] == "InProgress"
    assert "FinalMetricDataList" not in described or described["FinalMetricDataList"] == []
