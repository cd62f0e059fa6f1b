"""Every bad-input case of the catalogue, sent over the wire as any AWS client would.

botocore checks almost nothing before sending, and other clients check less, so these go as
raw AWS JSON 1.1 requests: each must get HTTP 400 with the right ``__type`` in the body and the
``x-amzn-ErrorType`` header, a message naming the field, and must store nothing.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.app.test_validation_catalogue import CREATE_CASES
from tests.conftest import LiveServer

TARGET = "SageMaker."


_clients: dict[str, httpx.Client] = {}


def call(server: LiveServer, operation: str, body: Any) -> httpx.Response:
    # One keep-alive client per server: a new client costs far more than the request.
    client = _clients.setdefault(server.url, httpx.Client(base_url=server.url))
    return client.post(
        "/",
        content=body if isinstance(body, bytes) else json.dumps(body),
        headers={
            "X-Amz-Target": TARGET + operation,
            "Content-Type": "application/x-amz-json-1.1",
        },
        timeout=30,
    )


def test_every_catalogue_case_is_refused_and_nothing_is_stored(live_server: LiveServer) -> None:
    wrong = []
    for case in CREATE_CASES:
        request = case.base()
        case.mutate(request)
        response = call(live_server, "CreateHyperParameterTuningJob", request)
        body = response.json()
        problems = []
        if response.status_code != 400:
            problems.append(f"status {response.status_code}")
        if body.get("__type") != "ValidationException":
            problems.append(f"code {body.get('__type')}")
        if response.headers.get("x-amzn-ErrorType") != body.get("__type"):
            problems.append("x-amzn-ErrorType header differs from __type")
        if case.path not in body.get("message", ""):
            problems.append(f"message does not name {case.path}: {body.get('message')}")
        if problems:
            wrong.append(f"row {case.row} ({case.what}): {'; '.join(problems)}")
    assert wrong == []
    listed = call(live_server, "ListHyperParameterTuningJobs", {}).json()
    assert listed == {"HyperParameterTuningJobSummaries": []}


def test_protocol_errors_have_aws_codes(live_server: LiveServer) -> None:
    unknown = call(live_server, "LaunchRockets", {})
    assert (unknown.status_code, unknown.json()["__type"]) == (400, "UnknownOperationException")
    garbage = call(live_server, "ListTrainingJobs", b"{not json")
    assert (garbage.status_code, garbage.json()["__type"]) == (400, "SerializationException")
    not_object = call(live_server, "ListTrainingJobs", b"[1, 2]")
    assert not_object.json()["__type"] == "SerializationException"
    too_many = call(live_server, "ListTrainingJobs", {"MaxResults": 1000})
    assert too_many.json() == {
        "__type": "ValidationException",
        "message": too_many.json()["message"],
        "Message": too_many.json()["message"],
    }
    assert "'maxResults'" in too_many.json()["message"]


def test_missing_things_answer_as_aws_does(live_server: LiveServer) -> None:
    tuning = call(
        live_server, "DescribeHyperParameterTuningJob", {"HyperParameterTuningJobName": "nope"}
    )
    assert tuning.json()["__type"] == "ResourceNotFound"
    assert tuning.json()["message"].startswith("Amazon SageMaker can't find a tuning job")
    for operation in ("StopHyperParameterTuningJob", "DeleteHyperParameterTuningJob"):
        answer = call(live_server, operation, {"HyperParameterTuningJobName": "nope"})
        assert answer.json()["__type"] == "ResourceNotFound", operation
    listing = call(
        live_server,
        "ListTrainingJobsForHyperParameterTuningJob",
        {"HyperParameterTuningJobName": "nope"},
    )
    assert listing.json()["__type"] == "ResourceNotFound"
    for operation in ("DescribeTrainingJob", "StopTrainingJob"):
        answer = call(live_server, operation, {"TrainingJobName": "nope"})
        assert answer.json()["__type"] == "ValidationException", operation
        assert answer.json()["message"].startswith("Requested resource not found")
    nameless = call(live_server, "DescribeHyperParameterTuningJob", {})
    assert nameless.json()["__type"] == "ValidationException"
    assert "hyperParameterTuningJobName" in nameless.json()["message"]


def test_model_enums_and_metric_regexes_are_refused_over_the_wire(
    live_server: LiveServer,
) -> None:
    from tests.app.requests import sdk_style_request

    fake_instance = sdk_style_request()
    fake_instance["TrainingJobDefinition"]["HyperParameterTuningResourceConfig"]["InstanceType"] = (
        "ml.fake.huge"
    )
    no_group = sdk_style_request()
    no_group["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"][0]["Regex"] = (
        "accuracy=[0-9.]+"
    )
    for request, path in (
        (fake_instance, "trainingJobDefinition.hyperParameterTuningResourceConfig.instanceType"),
        (
            no_group,
            "trainingJobDefinition.algorithmSpecification.metricDefinitions.1.member.regex",
        ),
    ):
        response = call(live_server, "CreateHyperParameterTuningJob", request)
        assert response.status_code == 400
        assert response.json()["__type"] == "ValidationException"
        assert f"'{path}'" in response.json()["message"]
    listed = call(live_server, "ListHyperParameterTuningJobs", {}).json()
    assert listed == {"HyperParameterTuningJobSummaries": []}
