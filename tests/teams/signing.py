"""Clients of a closed (teams) amtune: boto3, the amtune SDK, and raw signed HTTP.

``botocore_signed`` signs with botocore's own SigV4 implementation, so a test that passes
through it proves the server agrees with AWS's reference client, not just with our SDK.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from botocore.auth import SigV4Auth as BotocoreSigV4
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from amtune.app.teams import NewKey

REGION = "us-east-1"


def boto3_for(
    url: str,
    key: NewKey | None,
    *,
    secret: str | None = None,
    token: str | None = None,
    region: str = REGION,
) -> Any:
    import boto3

    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key.access_key_id if key else "AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key=secret or (key.secret_access_key if key else "x" * 40),
        aws_session_token=token,
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def unsigned_boto3(url: str) -> Any:
    import boto3
    from botocore import UNSIGNED

    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name=REGION,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def botocore_signed(
    url: str,
    method: str,
    path: str,
    key: NewKey,
    *,
    params: dict[str, str] | None = None,
    body: Any = None,
    secret: str | None = None,
    token: str | None = None,
) -> httpx.Response:
    """One REST request signed by botocore, sent byte for byte as botocore prepared it."""
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = AWSRequest(method=method, url=url + path, params=params, data=data, headers=headers)
    credentials = Credentials(key.access_key_id, secret or key.secret_access_key, token)
    BotocoreSigV4(credentials, "sagemaker", REGION).add_auth(request)
    prepared = request.prepare()
    with httpx.Client(timeout=30) as client:
        return client.request(
            prepared.method,
            httpx.URL(prepared.url),
            headers=dict(prepared.headers.items()),
            content=prepared.body or b"",
        )


def bearer(key: NewKey, secret: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.access_key_id}:{secret or key.secret_access_key}"}


class BearerAuth(httpx.Auth):
    """The bearer form as an httpx.Auth, for SDK objects that take ``auth=``."""

    def __init__(self, key: NewKey) -> None:
        self.header = bearer(key)["Authorization"]

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = self.header
        yield request


def aws_error(exc: Any) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    error = exc.response["Error"]
    return error["Code"], error["Message"], exc.response["ResponseMetadata"]["HTTPStatusCode"]
