"""The REST face and the worker protocol: SigV4 as botocore and our SDK sign it, the bearer
form, and revocation that takes effect on the very next request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

import amtune.sdk
from amtune.api.app import create_app
from amtune.app.context import Context
from amtune.app.teams import NewKey, create_key, revoke_key
from amtune.sdk import SigV4Auth, WorkerProtocol
from amtune.sdk.errors import ClientError as SdkClientError
from amtune.settings import Settings
from tests.app.requests import random_request
from tests.conftest import LiveServer
from tests.teams.conftest import new_team
from tests.teams.signing import BearerAuth, bearer, boto3_for, botocore_signed

OBJECTIVE = "validation:accuracy"


def sdk_client(server: LiveServer, key: NewKey) -> Any:
    return amtune.sdk.client(
        server.url,
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        max_attempts=1,
    )


def test_botocore_signed_rest_requests_are_verified(server: LiveServer, team_a: NewKey) -> None:
    boto3_for(server.url, team_a).create_hyper_parameter_tuning_job(**random_request("signed"))
    created = botocore_signed(server.url, "GET", "/v1/tuning-jobs/signed", team_a)
    assert created.status_code == 200, created.text
    assert created.json()["HyperParameterTuningJobName"] == "signed"
    # Several query parameters, sorted and encoded as botocore does it.
    params = {
        "NameContains": "sig",
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "CreationTimeAfter": "1577836800.5",
        "MaxResults": "5",
    }
    listed = botocore_signed(server.url, "GET", "/v1/tuning-jobs", team_a, params=params)
    assert listed.status_code == 200, listed.text
    names = [
        s["HyperParameterTuningJobName"] for s in listed.json()["HyperParameterTuningJobSummaries"]
    ]
    assert names == ["signed"]
    wrong = botocore_signed(server.url, "GET", "/v1/tuning-jobs", team_a, secret="Q" * 40)
    assert wrong.status_code == 403
    assert wrong.json()["__type"] == "InvalidSignatureException"


def test_a_signed_path_cannot_be_replayed_on_another(server: LiveServer, team_a: NewKey) -> None:
    request = httpx.Request("GET", server.url + "/v1/tuning-jobs/signed")
    SigV4Auth(team_a.access_key_id, team_a.secret_access_key).sign(request)
    moved = httpx.get(server.url + "/v1/tuning-jobs/other", headers=dict(request.headers))
    assert moved.status_code == 403
    assert moved.json()["__type"] == "InvalidSignatureException"
    requery = httpx.get(
        server.url + "/v1/tuning-jobs", params={"MaxResults": "1"}, headers=dict(request.headers)
    )
    assert requery.json()["__type"] == "InvalidSignatureException"


def test_the_bearer_form(server: LiveServer, team_a: NewKey) -> None:
    ok = httpx.get(server.url + "/v1/tuning-jobs", headers=bearer(team_a))
    assert ok.status_code == 200, ok.text
    wrong = httpx.get(server.url + "/v1/tuning-jobs", headers=bearer(team_a, secret="x" * 40))
    assert (wrong.status_code, wrong.json()["__type"]) == (403, "InvalidSignatureException")
    unknown = httpx.get(
        server.url + "/v1/tuning-jobs",
        headers={"Authorization": "Bearer AKIAIOSFODNN7EXAMPLE:" + "y" * 40},
    )
    assert (unknown.status_code, unknown.json()["__type"]) == (403, "UnrecognizedClientException")
    malformed = httpx.get(
        server.url + "/v1/tuning-jobs", headers={"Authorization": "Bearer no-colon"}
    )
    assert (malformed.status_code, malformed.json()["__type"]) == (
        403,
        "IncompleteSignatureException",
    )


def test_rest_without_credentials_is_403(server: LiveServer) -> None:
    for method, path in (
        ("GET", "/v1/tuning-jobs"),
        ("GET", "/v1/training-jobs"),
        ("POST", "/v1/tuning-jobs/x/claims"),
        ("POST", "/v1/training-jobs/x/heartbeat"),
        ("POST", "/v1/claims"),
        ("POST", "/v1/training-jobs/x/release"),
    ):
        body = {"WorkerId": "w"} if method == "POST" else None
        response = httpx.request(method, server.url + path, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["__type"] == "MissingAuthenticationTokenException"


def test_the_sdk_client_signs(server: LiveServer, team_a: NewKey) -> None:
    sm = sdk_client(server, team_a)
    sm.create_hyper_parameter_tuning_job(**random_request("from-sdk"))
    assert (
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="from-sdk")[
            "HyperParameterTuningJobStatus"
        ]
        == "InProgress"
    )
    bad = amtune.sdk.client(
        server.url,
        aws_access_key_id=team_a.access_key_id,
        aws_secret_access_key="n" * 40,
        max_attempts=1,
    )
    with pytest.raises(SdkClientError) as caught:
        bad.list_training_jobs()
    assert caught.value.code == "InvalidSignatureException"


@pytest.mark.parametrize("scheme", ["sigv4", "bearer"])
def test_the_worker_protocol_signed(server: LiveServer, team_a: NewKey, scheme: str) -> None:
    name = f"worked-{scheme}"
    boto3_for(server.url, team_a).create_hyper_parameter_tuning_job(
        **random_request(name, max_jobs=1, parallel=1)
    )
    auth: httpx.Auth = (
        SigV4Auth(team_a.access_key_id, team_a.secret_access_key)
        if scheme == "sigv4"
        else BearerAuth(team_a)
    )
    protocol = WorkerProtocol(server.url, auth=auth)
    claim = protocol.claim(name, "w-1")
    assert isinstance(claim, amtune.sdk.Claim)
    job = claim.training_job_name
    token = claim.lease_token
    assert protocol.heartbeat(job, lease_token=token) is False
    protocol.put_metrics(job, [amtune.sdk.Metric(OBJECTIVE, 0.5)], lease_token=token)
    protocol.complete(job, lease_token=token)
    described = boto3_for(server.url, team_a).describe_training_job(TrainingJobName=job)
    assert described["TrainingJobStatus"] == "Completed"
    assert described["TrainingJobArn"].split(":")[4] == team_a.account_id


def test_a_revoked_key_stops_at_once_and_others_keep_working(
    server: LiveServer, admin: Context
) -> None:
    first = new_team(admin)
    second = create_key(admin, first.account_id)
    assert second.account_id == first.account_id
    assert second.access_key_id != first.access_key_id
    sm = boto3_for(server.url, first)
    sm.list_training_jobs()
    assert httpx.get(server.url + "/v1/training-jobs", headers=bearer(first)).status_code == 200

    revoked = revoke_key(admin, first.access_key_id)
    assert revoked["Status"] == "Inactive"

    with pytest.raises(ClientError) as caught:
        sm.list_training_jobs()
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    gone = httpx.get(server.url + "/v1/training-jobs", headers=bearer(first))
    assert (gone.status_code, gone.json()["__type"]) == (403, "UnrecognizedClientException")
    boto3_for(server.url, second).list_training_jobs()


def test_the_bearer_form_needs_tls_off_loopback(teams_settings: Settings, team_a: NewKey) -> None:
    """The bearer form carries the secret itself: a service listening beyond loopback takes it
    only over TLS, and says why; SigV4, which never sends the secret, works either way."""
    exposed = create_app(teams_settings.model_copy(update={"host": "0.0.0.0"}))
    with TestClient(exposed, base_url="http://amtune.example") as plain:
        refused = plain.get("/v1/tuning-jobs", headers=bearer(team_a))
        assert refused.status_code == 403
        assert refused.json()["__type"] == "IncompleteSignatureException"
        assert "TLS" in refused.json()["message"]
        signer = SigV4Auth(team_a.access_key_id, team_a.secret_access_key)
        assert plain.get("/v1/tuning-jobs", auth=signer).status_code == 200
    with TestClient(exposed, base_url="https://amtune.example") as tls:
        assert tls.get("/v1/tuning-jobs", headers=bearer(team_a)).status_code == 200
