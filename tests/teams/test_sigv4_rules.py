"""The server's SigV4 verification agrees with botocore's signer on awkward requests."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth as BotocoreSigV4
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from amtune.app.sigv4 import (
    HttpRequest,
    IncompleteSignature,
    InvalidSignature,
    check_clock,
    check_scope,
    parse_authorization,
    request_time,
    verify_signature,
)

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def signed_by_botocore(
    method: str,
    path: str,
    params: dict[str, str] | None = None,
    body: bytes = b"",
    token: str | None = None,
) -> HttpRequest:
    request = AWSRequest(
        method=method, url="http://127.0.0.1:8123" + path, params=params, data=body
    )
    BotocoreSigV4(Credentials(KEY_ID, SECRET, token), "sagemaker", "us-east-1").add_auth(request)
    prepared = request.prepare()
    url = urlsplit(prepared.url)
    headers = [(k.lower(), v) for k, v in prepared.headers.items()]
    headers.append(("host", url.netloc))
    return HttpRequest(method, url.path, url.query, headers, prepared.body or b"")


def verify(request: HttpRequest, secret: str = SECRET) -> None:
    auth = parse_authorization(request.header("authorization") or "")
    header, signed_at, _ = request_time(request)
    check_scope(auth, signed_at, region="us-east-1", service="sagemaker", date_header=header)
    verify_signature(request, auth, signed_at, secret)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/", None),
        ("/v1/tuning-jobs/resnet-sweep", None),
        ("/v1/tuning-jobs/a b/claims", None),
        ("/v1/training-jobs/caf\u00e9~x", None),
        ("/v1/tuning-jobs/x/./y/../claims", None),
        ("/v1//tuning-jobs/", None),
        ("/v1/tuning-jobs", {"NameContains": "a b+c/d=e&f", "SortOrder": "Descending"}),
        ("/v1/tuning-jobs", {"b": "2", "a": "", "A": "\u00fc", "_": "~*'()!"}),
    ],
)
def test_botocore_signatures_verify(path: str, params: dict[str, str] | None) -> None:
    verify(signed_by_botocore("GET", path, params))


def test_body_and_session_token_are_covered() -> None:
    request = signed_by_botocore("POST", "/", body=b'{"a": 1}', token="tok")
    verify(request)
    tampered = HttpRequest(
        request.method, request.raw_path, request.query_string, request.headers, b'{"a": 2}'
    )
    with pytest.raises(InvalidSignature):
        verify(tampered)


def test_a_wrong_secret_fails_without_revealing_the_expected_signature() -> None:
    request = signed_by_botocore("GET", "/v1/tuning-jobs")
    with pytest.raises(InvalidSignature) as caught:
        verify(request, secret="x" * 40)
    auth = parse_authorization(request.header("authorization") or "")
    assert auth.signature not in caught.value.message
    assert "GET\n/v1/tuning-jobs\n" in caught.value.message


def test_a_declared_payload_hash_must_be_the_real_one() -> None:
    request = signed_by_botocore("POST", "/", body=b"{}")
    lying = HttpRequest(
        request.method,
        request.raw_path,
        request.query_string,
        [*request.headers, ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
        request.body,
    )
    with pytest.raises(InvalidSignature, match="x-amz-content-sha256"):
        verify(lying)


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + "0" * 64, "'Credential'"),
        (
            f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20261128/us-east-1/sagemaker/aws4_request",
            "'Signature'",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20261128/us-east-1, SignedHeaders=host, "
            f"Signature={'0' * 64}",
            "5 slash-delimited",
        ),
        ("AWS4-HMAC-SHA1 Credential=x", "algorithm"),
    ],
)
def test_malformed_authorization_is_incomplete(header: str, fragment: str) -> None:
    with pytest.raises(IncompleteSignature, match=fragment):
        parse_authorization(header)


def test_scope_must_name_this_service_day_and_host() -> None:
    def scope(credential: str, signed: str = "host;x-amz-date") -> None:
        auth = parse_authorization(
            f"AWS4-HMAC-SHA256 Credential={KEY_ID}/{credential}, SignedHeaders={signed}, "
            f"Signature={'a' * 64}"
        )
        check_scope(
            auth,
            "20261128T010203Z",
            region="us-east-1",
            service="sagemaker",
            date_header="x-amz-date",
        )

    scope("20261128/us-east-1/sagemaker/aws4_request")
    with pytest.raises(InvalidSignature, match="correct service"):
        scope("20261128/us-east-1/s3/aws4_request")
    with pytest.raises(InvalidSignature, match="does not match YYYYMMDD"):
        scope("20261127/us-east-1/sagemaker/aws4_request")
    with pytest.raises(InvalidSignature, match="terminator"):
        scope("20261128/us-east-1/sagemaker/aws4_other")
    with pytest.raises(InvalidSignature, match="'Host'"):
        scope("20261128/us-east-1/sagemaker/aws4_request", signed="x-amz-date")
    with pytest.raises(InvalidSignature, match="'x-amz-date'"):
        scope("20261128/us-east-1/sagemaker/aws4_request", signed="host")


def test_five_minutes_of_skew_either_way_and_no_more() -> None:
    now = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.UTC)
    five = dt.timedelta(minutes=5)
    check_clock(now - five, now)
    check_clock(now + five, now)
    with pytest.raises(InvalidSignature) as old:
        check_clock(now - five - dt.timedelta(seconds=1), now)
    assert old.value.message == (
        "Signature expired: 20261128T115459Z is now earlier than 20261128T115500Z "
        "(20261128T120000Z - 5 min.)"
    )
    with pytest.raises(InvalidSignature, match=r"^Signature not yet current: "):
        check_clock(now + five + dt.timedelta(seconds=1), now)
