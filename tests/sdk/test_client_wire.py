"""What the client puts on the wire and how it reads answers, with a scripted HTTP transport.

These pin the boto3-compatible behaviour that does not need a service: the AWS JSON 1.1
request, error mapping (botocore's rules), retries only where a retry can help, timestamps,
and the paginator's token handling. The same behaviour against the live service and against
real boto3 is in test_same_as_boto3_live.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import httpx
import pytest

import amtune.sdk
from amtune.sdk import EndpointConnectionError, PaginationError
from amtune.sdk.client import SageMakerClient

URL = "http://amtune.test"


class Script:
    """A transport that answers requests in order and remembers them."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def client(self, **kwargs: Any) -> SageMakerClient:
        return amtune.sdk.client(URL, transport=httpx.MockTransport(self), **kwargs)


def aws(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode() if body is not None else b"",
        headers={"Content-Type": "application/x-amz-json-1.1", **(headers or {})},
    )


def test_request_is_aws_json_and_answer_is_parsed_like_boto3() -> None:
    script = Script(
        aws(
            200,
            {
                "HyperParameterTuningJobName": "tj",
                "CreationTime": 1795821947.549,
                "BestTrainingJob": {"TrainingStartTime": 1795821950, "TunedHyperParameters": {}},
                "TrainingJobDefinition": {"StaticHyperParameters": {"CreationTime": "5"}},
                "FailureReason": None,
            },
            {"x-amzn-RequestId": "req-1"},
        )
    )
    result = script.client().describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tj")

    (request,) = script.requests
    assert request.method == "POST" and request.url.path == "/"
    assert request.headers["X-Amz-Target"] == "SageMaker.DescribeHyperParameterTuningJob"
    assert request.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert json.loads(request.content) == {"HyperParameterTuningJobName": "tj"}
    assert result["CreationTime"] == dt.datetime.fromtimestamp(1795821947.549, dt.UTC)
    assert result["CreationTime"].tzinfo is not None
    assert isinstance(result["BestTrainingJob"]["TrainingStartTime"], dt.datetime)
    # A hyperparameter that happens to be called CreationTime is data, not a timestamp.
    assert result["TrainingJobDefinition"]["StaticHyperParameters"] == {"CreationTime": "5"}
    assert "FailureReason" not in result  # nulls are dropped, as botocore does
    assert result["ResponseMetadata"]["RequestId"] == "req-1"
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_datetimes_in_requests_become_epoch_seconds() -> None:
    script = Script(aws(200, {"HyperParameterTuningJobSummaries": []}))
    script.client().list_hyper_parameter_tuning_jobs(
        CreationTimeAfter=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        LastModifiedTimeBefore=dt.datetime(2020, 1, 1, 0, 0, 0, 500000, tzinfo=dt.UTC),
    )
    body = json.loads(script.requests[0].content)
    assert body == {"CreationTimeAfter": 1577836800, "LastModifiedTimeBefore": 1577836800.5}


@pytest.mark.parametrize(
    ("body", "code", "message", "modeled"),
    [
        ({"__type": "ResourceNotFound", "message": "gone"}, "ResourceNotFound", "gone", True),
        (
            {"__type": "com.amazonaws.sagemaker#ResourceInUse", "Message": "busy"},
            "ResourceInUse",
            "busy",
            True,
        ),
        (
            {"__type": "ValidationException:http://internal", "message": "1 validation error"},
            "ValidationException",
            "1 validation error",
            False,
        ),
    ],
)
def test_errors_map_like_botocore(
    body: dict[str, str], code: str, message: str, modeled: bool
) -> None:
    sm = Script(aws(400, body)).client()
    with pytest.raises(amtune.sdk.ClientError) as caught:
        sm.stop_training_job(TrainingJobName="t")
    err = caught.value
    assert err.response["Error"] == {"Code": code, "Message": message}
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.operation_name == "StopTrainingJob"
    operation = "StopTrainingJob"
    assert (
        str(err) == f"An error occurred ({code}) when calling the {operation} operation: {message}"
    )
    # Code written for boto3 catches it.
    assert isinstance(err, botocore.exceptions.ClientError)
    if modeled:
        assert type(err) is getattr(sm.exceptions, code)
    else:
        assert type(err) is sm.exceptions.ClientError


def test_non_json_server_error_uses_status_and_reason() -> None:
    sm = Script(*(httpx.Response(500, content=b"<html>oops</html>") for _ in range(3))).client()
    with pytest.raises(amtune.sdk.ClientError) as caught:
        sm.list_training_jobs()
    assert caught.value.response["Error"] == {"Code": "500", "Message": "Internal Server Error"}
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 2


def test_5xx_and_connection_errors_are_retried_4xx_is_not() -> None:
    script = Script(
        httpx.ConnectError("refused"),
        aws(503, {"__type": "ServiceUnavailable", "message": "busy"}, {"Retry-After": "0"}),
        aws(200, {"TrainingJobSummaries": []}),
    )
    result = script.client().list_training_jobs()
    assert result["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(script.requests) == 3

    refused = Script(aws(400, {"__type": "ValidationException", "message": "no"}))
    with pytest.raises(amtune.sdk.ClientError):
        refused.client().list_training_jobs()
    assert len(refused.requests) == 1


def test_unreachable_endpoint_raises_endpoint_connection_error() -> None:
    script = Script(*(httpx.ConnectError("refused") for _ in range(2)))
    with pytest.raises(EndpointConnectionError):
        script.client(max_attempts=2).list_training_jobs()
    assert len(script.requests) == 2


def test_auth_hook_signs_every_request() -> None:
    class Stamp(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Any:
            request.headers["Authorization"] = "signed"
            yield request

    script = Script(aws(200, {}))
    script.client(auth=Stamp()).stop_training_job(TrainingJobName="t")
    assert script.requests[0].headers["Authorization"] == "signed"


def pages_of(items: list[str], size: int) -> Callable[[httpx.Request], httpx.Response]:
    """A fake List operation over ``items`` with numeric NextTokens."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        start = int(body.get("NextToken", "0"))
        limit = body.get("MaxResults", size)
        chunk = items[start : start + limit]
        reply: dict[str, Any] = {"TrainingJobSummaries": [{"TrainingJobName": n} for n in chunk]}
        if start + limit < len(items):
            reply["NextToken"] = str(start + limit)
        return aws(200, reply)

    return answer


def test_paginator_pages_truncates_and_resumes() -> None:
    names = [f"job-{i}" for i in range(7)]
    sm = amtune.sdk.client(URL, transport=httpx.MockTransport(pages_of(names, 3)))
    paginator = sm.get_paginator("list_training_jobs")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["TrainingJobSummaries"]) for p in pages] == [3, 3, 1]

    first = paginator.paginate(PaginationConfig={"PageSize": 3, "MaxItems": 4}).build_full_result()
    assert [s["TrainingJobName"] for s in first["TrainingJobSummaries"]] == names[:4]
    rest = paginator.paginate(
        PaginationConfig={"PageSize": 3, "StartingToken": first["NextToken"]}
    ).build_full_result()
    assert [s["TrainingJobName"] for s in rest["TrainingJobSummaries"]] == names[4:]
    assert "NextToken" not in rest
    assert sm.can_paginate("list_training_jobs")
    assert not sm.can_paginate("describe_training_job")


def test_paginator_refuses_a_repeated_token() -> None:
    def same(request: httpx.Request) -> httpx.Response:
        return aws(200, {"TrainingJobSummaries": [{"TrainingJobName": "a"}], "NextToken": "t"})

    sm = amtune.sdk.client(URL, transport=httpx.MockTransport(same))
    with pytest.raises(PaginationError):
        list(sm.get_paginator("list_training_jobs").paginate())


def test_paginator_search_and_client_meta() -> None:
    names = [f"job-{i}" for i in range(5)]
    sm = amtune.sdk.client(
        URL, region_name="eu-west-1", transport=httpx.MockTransport(pages_of(names, 2))
    )
    pages = sm.get_paginator("list_training_jobs").paginate()
    assert list(pages.search("TrainingJobSummaries[].TrainingJobName")) == names
    assert sm.meta.region_name == "eu-west-1" and sm.meta.endpoint_url == URL
