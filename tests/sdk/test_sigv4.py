"""Our SigV4 signature equals botocore's for the same request, key and moment."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from botocore.auth import SigV4Auth as BotocoreSigV4
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import amtune.sdk
from amtune.app.sigv4 import HttpRequest, parse_authorization, verify_signature
from amtune.sdk.sigv4 import SigV4Auth


def botocore_headers(body: bytes, token: str | None) -> dict[str, str]:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:53467/",
        data=body,
        headers={
            "X-Amz-Target": "SageMaker.DescribeHyperParameterTuningJob",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    BotocoreSigV4(Credentials("AKIDEXAMPLE", "secret", token), "sagemaker", "eu-west-1").add_auth(
        request
    )
    return dict(request.headers.items())


@pytest.mark.parametrize("token", [None, "session-token"])
def test_signature_matches_botocore(token: str | None) -> None:
    body = json.dumps({"HyperParameterTuningJobName": "tj-1"}).encode()
    expected = botocore_headers(body, token)
    moment = dt.datetime.strptime(expected["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    seen: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    signer = SigV4Auth(
        "AKIDEXAMPLE", "secret", region="eu-west-1", session_token=token, clock=lambda: moment
    )
    sm = amtune.sdk.client(
        "http://127.0.0.1:53467", auth=signer, transport=httpx.MockTransport(capture)
    )
    sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tj-1")
    assert seen[0].content == body
    assert seen[0].headers["Authorization"] == expected["Authorization"]
    if token:
        assert seen[0].headers["X-Amz-Security-Token"] == token


def test_credentials_turn_signing_on_like_boto3() -> None:
    seen: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(capture)
    amtune.sdk.client("http://h", transport=transport).stop_training_job(TrainingJobName="t")
    amtune.sdk.client(
        "http://h",
        transport=transport,
        region_name="us-west-2",
        aws_access_key_id="AKID",
        aws_secret_access_key="s",
    ).stop_training_job(TrainingJobName="t")
    assert "Authorization" not in seen[0].headers
    assert (
        seen[1].headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKID/")
        and "/us-west-2/sagemaker/aws4_request" in seen[1].headers["Authorization"]
    )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/tuning-jobs/a b/claims", None),
        ("/v1/training-jobs/caf\u00e9~x", None),
        ("/v1/tuning-jobs", {"NameContains": "a b+c/d=e&f", "SortOrder": "Descending"}),
        ("/v1/tuning-jobs", {"b": "2", "a": "", "A": "\u00fc", "_": "~*'()!"}),
    ],
)
def test_awkward_paths_and_queries_sign_as_botocore_does(
    path: str, params: dict[str, str] | None
) -> None:
    """The SDK and the server share one canonicalisation: the SDK's signature of an awkward
    REST request is botocore's, byte for byte, and the server verifies it."""
    ours = httpx.Request("GET", "http://127.0.0.1:8123" + path, params=params)
    # botocore is given the path as it goes on the wire (percent-encoded) and the query as
    # parameters, as its serializers hand them to its signer.
    wire_path = ours.url.raw_path.decode().split("?", 1)[0]
    request = AWSRequest(method="GET", url="http://127.0.0.1:8123" + wire_path, params=params)
    BotocoreSigV4(Credentials("AKIDEXAMPLE", "secret"), "sagemaker", "us-east-1").add_auth(request)
    expected = dict(request.headers.items())
    moment = dt.datetime.strptime(expected["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)

    SigV4Auth("AKIDEXAMPLE", "secret", clock=lambda: moment).sign(ours)
    assert ours.headers["Authorization"] == expected["Authorization"]

    received = HttpRequest(
        "GET",
        ours.url.raw_path.decode().split("?", 1)[0],
        ours.url.query.decode(),
        list(ours.headers.multi_items()),
        b"",
    )
    auth = parse_authorization(ours.headers["Authorization"])
    verify_signature(received, auth, expected["X-Amz-Date"], "secret")
