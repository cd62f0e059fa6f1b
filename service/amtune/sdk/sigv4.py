"""AWS Signature Version 4 as an ``httpx.Auth``: what boto3 puts on every request.

The client signs when it is given an access key id and secret (as boto3 always does), so that a
service that verifies signatures sees the same ``Authorization`` header from both clients. Any
other ``httpx.Auth`` can be passed instead (``client(..., auth=...)``): that is the hook.

The canonical request, string to sign and signing key come from
:mod:`amtune.sdk.sigv4_canonical`, the module the server verifies with, so the two cannot drift.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Generator

import httpx

from amtune.sdk import sigv4_canonical as canonical

#: Headers signed besides every ``x-amz-*`` one (boto3 signs the same set for JSON services).
SIGNED_BASE = ("content-type", "host")


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
        amz_date = now.strftime(canonical.AMZ_DATE)
        date = amz_date[:8]
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            request.headers.pop(name, None)
        request.headers["X-Amz-Date"] = amz_date
        if self.session_token:
            request.headers["X-Amz-Security-Token"] = self.session_token
        if "host" not in request.headers:
            request.headers["Host"] = request.url.netloc.decode()

        headers = [(name.lower(), value) for name, value in request.headers.multi_items()]
        names = sorted(
            {name for name, _ in headers if name in SIGNED_BASE or name.startswith("x-amz-")}
        )
        raw_path = request.url.raw_path.decode("ascii").split("?", 1)[0] or "/"
        form = canonical.canonical_request(
            request.method,
            raw_path,
            request.url.query.decode("ascii"),
            headers,
            names,
            hashlib.sha256(request.content).hexdigest(),
        )
        scope = canonical.credential_scope(date, self.region, self.service)
        to_sign = canonical.string_to_sign(amz_date, scope, form)
        key = canonical.signing_key(self.secret_access_key, date, self.region, self.service)
        request.headers["Authorization"] = (
            f"{canonical.ALGORITHM} Credential={self.access_key_id}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={canonical.signature(key, to_sign)}"
        )
