"""Hostile bodies are refused at the door, on both faces, with an AWS code and a message.

A body too large to buffer, or JSON nested deep enough to exhaust the parser's recursion, must
be a client error with a code a JSON client parses, never a 500
or a stored half-request. Limits (``amtune.api.limits``): bodies over 1 MiB get 413, nesting
over 64 levels 400, both ``SerializationException``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from amtune.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_depth_exceeds
from amtune.settings import Settings
from amtune.store.migrate import upgrade
from tests.conftest import LiveServer, new_account_id

AWS = {"Content-Type": "application/x-amz-json-1.1"}
REST = {"Content-Type": "application/json"}
# One request per face, each naming a real operation so only the body can be at fault.
FACES = {
    "aws": ("/", {**AWS, "X-Amz-Target": "SageMaker.CreateHyperParameterTuningJob"}),
    "rest": ("/v1/tuning-jobs", REST),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('bad') / 'amtune.db'}"
    upgrade(url)
    with LiveServer(Settings(database_url=url, account_id=new_account_id())) as live:
        yield live


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def assert_aws_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["__type"] == code
    assert body["message"] and body["Message"] == body["message"]
    assert response.headers["x-amzn-ErrorType"] == code


def nothing_stored(http: httpx.Client) -> bool:
    listed = http.post(
        "/",
        content=b"{}",
        headers={**AWS, "X-Amz-Target": "SageMaker.ListHyperParameterTuningJobs"},
    )
    return bool(listed.json() == {"HyperParameterTuningJobSummaries": []})


@pytest.mark.parametrize("face", FACES)
def test_a_body_over_1_mib_is_refused_with_413(http: httpx.Client, face: str) -> None:
    path, headers = FACES[face]
    oversized = json.dumps({"HyperParameterTuningJobName": "x" * MAX_BODY_BYTES}).encode()
    assert_aws_error(
        http.post(path, content=oversized, headers=headers), 413, "SerializationException"
    )
    assert nothing_stored(http)


@pytest.mark.parametrize("face", FACES)
def test_a_chunked_body_over_1_mib_is_refused_while_reading(http: httpx.Client, face: str) -> None:
    """No Content-Length to judge by: the limit holds while the chunks arrive."""
    path, headers = FACES[face]

    def chunks() -> Iterator[bytes]:
        yield b'{"HyperParameterTuningJobName": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = http.post(path, content=chunks(), headers=headers)
    assert_aws_error(response, 413, "SerializationException")
    assert nothing_stored(http)


@pytest.mark.parametrize("face", FACES)
def test_json_nested_10000_deep_is_refused_with_400(http: httpx.Client, face: str) -> None:
    path, headers = FACES[face]
    deep = b'{"Tags": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    assert_aws_error(http.post(path, content=deep, headers=headers), 400, "SerializationException")
    assert nothing_stored(http)


def test_bodies_within_the_limits_reach_the_operation(http: httpx.Client) -> None:
    """Exactly 1 MiB, and nesting at the limit, are judged by the operation, not the door."""
    worker = b'{"WorkerId": "w"}'
    padded = worker + b" " * (MAX_BODY_BYTES - len(worker))
    claim = http.post("/v1/tuning-jobs/nothing-here/claims", content=padded, headers=REST)
    assert_aws_error(claim, 404, "ResourceNotFound")
    inner = MAX_JSON_DEPTH - 1  # inside the top-level object: 64 levels in all
    nested = b"[" * inner + b"]" * inner
    body = b'{"HyperParameterTuningJobName": "nothing-here", "x": ' + nested + b"}"
    headers = {**AWS, "X-Amz-Target": "SageMaker.DescribeHyperParameterTuningJob"}
    assert_aws_error(http.post("/", content=body, headers=headers), 400, "ResourceNotFound")


def test_the_depth_scan_ignores_brackets_inside_strings() -> None:
    quoted = json.dumps({"Value": "[" * 500 + '\\"{' * 100}).encode()
    assert not json_depth_exceeds(quoted)
    assert json_depth_exceeds(b"[" * (MAX_JSON_DEPTH + 1))
    assert not json_depth_exceeds(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"[]" * 100)


def test_every_protocol_error_has_an_aws_code_and_message(http: httpx.Client) -> None:
    cases = [
        http.post(
            "/", content=b"{not json", headers={**AWS, "X-Amz-Target": "SageMaker.ListTrainingJobs"}
        ),
        http.post("/", content=b"{}", headers=AWS),
        http.post("/v1/tuning-jobs/x/claims", content=b"{not json", headers=REST),
        http.post("/v1/tuning-jobs/x/claims", content=b'{"WorkerId": 5}', headers=REST),
        http.post("/v1/tuning-jobs", content=b"[1]", headers=REST),
        http.get("/v1/tuning-jobs", params={"MaxResults": "abc"}),
        http.post("/v1/training-jobs/nope/metrics", json={"Metrics": [{"MetricName": "m"}]}),
    ]
    for response in cases:
        assert 400 <= response.status_code < 500, response.text
        body = response.json()
        assert body.get("__type") and body.get("message"), response.text
        assert response.headers.get("x-amzn-ErrorType") == body["__type"]


def test_unknown_routes_and_methods_answer_with_an_aws_code(http: httpx.Client) -> None:
    for response in (http.get("/v2/nothing"), http.delete("/v1/training-jobs")):
        assert 400 <= response.status_code < 500
        assert response.json().get("__type"), response.text


@pytest.mark.parametrize("face", FACES)
def test_a_body_that_is_not_utf8_is_refused_with_an_aws_code(http: httpx.Client, face: str) -> None:
    path, headers = FACES[face]
    response = http.post(
        path, content=b'{"HyperParameterTuningJobName": "\xff\xfe"}', headers=headers
    )
    assert_aws_error(response, 400, "SerializationException")
