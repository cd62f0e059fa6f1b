"""AWS Signature Version 4 as an ``httpx.Auth``: what boto3 puts on every request.

The client signs when it is given an access key id and secret (as boto3 always does), so that a
service that verifies signatures sees the same ``Authorization`` header from both clients. Any
other ``httpx.Auth`` can be passed instead (``client(..., auth=...)``): that is the hook.

The algorithm is the public one: a canonical request (method, path, query, the signed headers,
the SHA-256 of the body), a string to sign with the timestamp and credential scope
``<date>/<region>/<service>/aws4_request``, and an HMAC-SHA256 key derived from the secret
through date, region, service and ``aws4_request``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Generator
from urllib.parse import quote

import httpx

ALGORITHM = "AWS4-HMAC-SHA256"
#: Headers signed besides every ``x-amz-*`` one (boto3 signs the same set for JSON services).
SIGNED_BASE = ("content-type", "host")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class SigV4Auth(httpx.Auth):
    requires_request_body = True

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        *,
        region: str = "us-east-1",
        service: str = "sagemaker",
        session_token: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.region = region
        self.service = service
        self.session_token = session_token
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        now = self._clock().astimezone(dt.UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        date = amz_date[:8]
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            request.headers.pop(name, None)
        request.headers["X-Amz-Date"] = amz_date
        if self.session_token:
            request.headers["X-Amz-Security-Token"] = self.session_token
        if "host" not in request.headers:
            request.headers["Host"] = request.url.netloc.decode()

        names = sorted(
            {
                name.lower()
                for name in request.headers
                if name.lower() in SIGNED_BASE or name.lower().startswith("x-amz-")
            }
        )
        canonical_headers = "".join(
            f"{name}:{' '.join(request.headers[name].split())}\n" for name in names
        )
        signed_headers = ";".join(names)
        canonical_request = "\n".join(
            [
                request.method.upper(),
                quote(request.url.path or "/", safe="/~"),
                _canonical_query(request.url),
                canonical_headers,
                signed_headers,
                hashlib.sha256(request.content).hexdigest(),
            ]
        )
        scope = f"{date}/{self.region}/{self.service}/aws4_request"
        string_to_sign = "\n".join(
            [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
        )
        key = _hmac(("AWS4" + self.secret_access_key).encode(), date)
        for part in (self.region, self.service, "aws4_request"):
            key = _hmac(key, part)
        signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        request.headers["Authorization"] = (
            f"{ALGORITHM} Credential={self.access_key_id}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        )


def _canonical_query(url: httpx.URL) -> str:
    pairs = sorted(
        (quote(key, safe="-_.~"), quote(value, safe="-_.~"))
        for key, value in url.params.multi_items()
    )
    return "&".join(f"{key}={value}" for key, value in pairs)
