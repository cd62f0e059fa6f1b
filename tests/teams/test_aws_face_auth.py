"""The AWS JSON face verifies SigV4 as AWS does: boto3 and the AWS CLI, right and wrong."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import botocore.auth
import httpx
import pytest
from botocore.exceptions import ClientError

from amtune.app.teams import NewKey
from amtune.sdk import sigv4_canonical as canonical
from amtune.sdk.sigv4 import SigV4Auth
from tests.conftest import LiveServer
from tests.service.clients import hermetic_aws_env, run_aws
from tests.teams.signing import aws_error, bearer, boto3_for, unsigned_boto3

UNRECOGNIZED = "The security token included in the request is invalid."


def list_jobs(client: Any) -> list[str]:
    summaries = client.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    return [s["HyperParameterTuningJobName"] for s in summaries]


def refusal(client: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        client.list_hyper_parameter_tuning_jobs()
    return aws_error(caught.value)


def test_boto3_signed_with_a_team_key_is_that_team(server: LiveServer, team_a: NewKey) -> None:
    sm = boto3_for(server.url, team_a)
    assert isinstance(list_jobs(sm), list)
    missing = sm.exceptions.ResourceNotFound
    with pytest.raises(missing) as caught:
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="nothing-here")
    assert "nothing-here" in str(caught.value)


def test_session_token_is_signed_along(server: LiveServer, team_a: NewKey) -> None:
    sm = boto3_for(server.url, team_a, token="FwoGZXIvYXdzEXAMPLETOKEN//+=")
    assert isinstance(list_jobs(sm), list)


def test_wrong_secret_is_invalid_signature(server: LiveServer, team_a: NewKey) -> None:
    code, message, status = refusal(boto3_for(server.url, team_a, secret="W" * 40))
    assert (code, status) == ("InvalidSignatureException", 400)
    assert message.startswith("The request signature we calculated does not match")
    # The expected canonical request is shown (as AWS does), the secret never is.
    assert "The Canonical String for this request should have been" in message
    assert team_a.secret_access_key not in message


def test_unknown_key_is_unrecognized_client(server: LiveServer) -> None:
    code, message, status = refusal(boto3_for(server.url, None))
    assert (code, message, status) == ("UnrecognizedClientException", UNRECOGNIZED, 400)


def test_no_signature_is_missing_authentication_token(server: LiveServer) -> None:
    code, message, status = refusal(unsigned_boto3(server.url))
    assert (code, status) == ("MissingAuthenticationTokenException", 400)
    assert message == "Request is missing Authentication Token"


@pytest.mark.parametrize("minutes", [-6, 6])
def test_clock_skew_over_five_minutes_is_refused(
    server: LiveServer, team_a: NewKey, monkeypatch: pytest.MonkeyPatch, minutes: int
) -> None:
    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda: real() + dt.timedelta(minutes=minutes)
    )
    code, message, status = refusal(boto3_for(server.url, team_a))
    assert (code, status) == ("InvalidSignatureException", 400)
    expected = "Signature expired: " if minutes < 0 else "Signature not yet current: "
    assert message.startswith(expected), message


def test_clock_skew_within_five_minutes_is_accepted(
    server: LiveServer, team_a: NewKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda: real() - dt.timedelta(minutes=4)
    )
    assert isinstance(list_jobs(boto3_for(server.url, team_a)), list)


def test_another_region_in_the_scope_is_refused(server: LiveServer, team_a: NewKey) -> None:
    code, message, _ = refusal(boto3_for(server.url, team_a, region="eu-west-1"))
    assert code == "InvalidSignatureException"
    assert "Credential should be scoped to a valid region, not 'eu-west-1'" in message


def _raw(server: LiveServer, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        server.url + "/",
        content=b"{}",
        headers={
            "X-Amz-Target": "SageMaker.ListHyperParameterTuningJobs",
            "Content-Type": "application/x-amz-json-1.1",
            **headers,
        },
    )


def test_the_aws_face_takes_no_bearer_form(server: LiveServer, team_a: NewKey) -> None:
    response = _raw(server, bearer(team_a))
    assert response.status_code == 400
    assert response.json()["__type"] == "IncompleteSignatureException"


def _signed_list(server: LiveServer, key: NewKey) -> dict[str, str]:
    """The headers of a signed ListHyperParameterTuningJobs with an empty body."""
    request = httpx.Request(
        "POST",
        server.url + "/",
        content=b"{}",
        headers={
            "X-Amz-Target": "SageMaker.ListHyperParameterTuningJobs",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(key.access_key_id, key.secret_access_key).sign(request)
    return dict(request.headers)


def test_a_tampered_body_breaks_the_signature(server: LiveServer, team_a: NewKey) -> None:
    headers = {k: v for k, v in _signed_list(server, team_a).items() if k != "content-length"}
    ok = httpx.post(server.url + "/", content=b"{}", headers=headers)
    assert ok.status_code == 200, ok.text
    tampered = httpx.post(server.url + "/", content=b'{"MaxResults": 1}', headers=headers)
    assert tampered.status_code == 400
    assert tampered.json()["__type"] == "InvalidSignatureException"


def test_an_unsigned_security_token_is_refused(server: LiveServer, team_a: NewKey) -> None:
    headers = {**_signed_list(server, team_a), "X-Amz-Security-Token": "added-after-signing"}
    response = httpx.post(server.url + "/", content=b"{}", headers=headers)
    assert response.status_code == 400
    assert response.json()["__type"] == "InvalidSignatureException"


def test_missing_date_is_an_incomplete_signature(server: LiveServer, team_a: NewKey) -> None:
    scope = f"{dt.datetime.now(dt.UTC):%Y%m%d}/us-east-1/sagemaker/aws4_request"
    response = _raw(
        server,
        {
            "Authorization": f"AWS4-HMAC-SHA256 Credential={team_a.access_key_id}/{scope}, "
            f"SignedHeaders=host, Signature={'0' * 64}"
        },
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "IncompleteSignatureException"
    assert "'X-Amz-Date' or a 'Date' header" in response.json()["message"]


def test_aws_cli_signs_and_is_verified(server: LiveServer, team_a: NewKey, tmp_path: Path) -> None:
    args = ["list-hyper-parameter-tuning-jobs", "--endpoint-url", server.url]
    env = hermetic_aws_env(
        tmp_path / "home",
        AWS_ACCESS_KEY_ID=team_a.access_key_id,
        AWS_SECRET_ACCESS_KEY=team_a.secret_access_key,
        AWS_SESSION_TOKEN="FwoGZXIvYXdzEXAMPLETOKEN",
    )
    listed = run_aws(args, env, tmp_path).json()
    assert "HyperParameterTuningJobSummaries" in listed

    env["AWS_SECRET_ACCESS_KEY"] = "Z" * 40
    wrong = run_aws(args, env, tmp_path)
    assert wrong.returncode != 0
    assert "(InvalidSignatureException)" in wrong.stderr

    env["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE"
    unknown = run_aws(args, env, tmp_path)
    assert unknown.returncode != 0
    assert (
        "(UnrecognizedClientException) when calling the ListHyperParameterTuningJobs "
        f"operation: {UNRECOGNIZED}" in unknown.stderr
    )


def test_healthz_and_readyz_stay_open(server: LiveServer) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server.url + "/readyz").json() == {"status": "ready"}


def test_the_error_body_is_what_botocore_parses(server: LiveServer) -> None:
    response = _raw(server, {})
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert json.loads(response.text)["__type"] == "MissingAuthenticationTokenException"


def _signed_covering(
    server: LiveServer, key: NewKey, target: str, covered: tuple[str, ...]
) -> dict[str, str]:
    """Headers of a request to ``target`` whose valid signature covers only ``covered``."""
    moment = dt.datetime.now(dt.UTC)
    amz_date = moment.strftime(canonical.AMZ_DATE)
    headers = {
        "host": server.url.removeprefix("http://"),
        "x-amz-date": amz_date,
        "x-amz-target": target,
        "content-type": "application/x-amz-json-1.1",
    }
    body = json.dumps({"HyperParameterTuningJobName": "replayed"}).encode()
    form = canonical.canonical_request(
        "POST", "/", "", list(headers.items()), covered, hashlib.sha256(body).hexdigest()
    )
    scope = canonical.credential_scope(amz_date[:8], "us-east-1", "sagemaker")
    secret_key = canonical.signing_key(
        key.secret_access_key, amz_date[:8], "us-east-1", "sagemaker"
    )
    signature = canonical.signature(secret_key, canonical.string_to_sign(amz_date, scope, form))
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={key.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(covered)}, Signature={signature}"
    )
    return headers


@pytest.mark.parametrize(
    ("covered", "named"),
    [
        (("content-type", "host", "x-amz-date"), "'X-Amz-Target'"),
        (("host", "x-amz-date", "x-amz-target"), "'Content-Type'"),
    ],
)
def test_the_operation_and_content_type_must_be_signed(
    server: LiveServer, team_a: NewKey, covered: tuple[str, ...], named: str
) -> None:
    """A signature that leaves out X-Amz-Target could be replayed as any other operation
    within its five minutes (a captured Describe sent again as a Stop): refused, naming it."""
    for target in ("DescribeHyperParameterTuningJob", "StopHyperParameterTuningJob"):
        headers = _signed_covering(server, team_a, f"SageMaker.{target}", covered)
        body = json.dumps({"HyperParameterTuningJobName": "replayed"}).encode()
        response = httpx.post(server.url + "/", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["__type"] == "InvalidSignatureException"
        assert named in response.json()["message"]
    fully = ("content-type", "host", "x-amz-date", "x-amz-target")
    headers = _signed_covering(server, team_a, "SageMaker.DescribeHyperParameterTuningJob", fully)
    body = json.dumps({"HyperParameterTuningJobName": "replayed"}).encode()
    answered = httpx.post(server.url + "/", content=body, headers=headers)
    assert answered.json()["__type"] == "ResourceNotFound"  # authenticated; no such job
