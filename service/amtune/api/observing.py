"""Every request, observed: a request id, its metrics, and one log line.

An ASGI middleware, outermost, so it times the whole answer (limits, authentication, the
application layer, rendering). It labels a request by face and by operation: the AWS
operation named by ``X-Amz-Target``, or the route template that matched (``GET
/v1/tuning-jobs/{TuningJobName}``), never the raw path, so the series stay bounded. The request
id it draws is the one sent back as ``x-amzn-RequestId`` and written on every log line the
request causes.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from amtune.api.aws_json import OPERATIONS, TARGET_PREFIX
from amtune.api.limits import ASGIApp, Message, Receive, Scope, Send
from amtune.observe import metrics
from amtune.observe.context import CURRENT, RequestInfo

log = logging.getLogger("amtune.requests")


def _face(method: str, path: str) -> str:
    if path == "/" and method == "POST":
        return "aws"
    if path.startswith("/v1/"):
        return "rest"
    if path.startswith("/console"):
        return "console"
    return "other"


def _aws_operation(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == b"x-amz-target":
            name = value.decode("latin-1").removeprefix(TARGET_PREFIX)
            return name if name in OPERATIONS else "unknown"
    return "unknown"


@functools.cache
def _counted(face: str, operation: str, status: int) -> Any:
    """The labelled child, looked up once per label set (``labels()`` takes a lock)."""
    return metrics.REQUESTS.labels(face, operation, str(status))


@functools.cache
def _timed(face: str, operation: str) -> Any:
    return metrics.REQUEST_SECONDS.labels(face, operation)


class Observing:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        info = RequestInfo(face=_face(method, path), method=method, path=path, scope=scope)
        if info.face == "aws":
            info.aws_operation = _aws_operation(scope)
        token = CURRENT.set(info)
        status = 500
        header = (b"x-amzn-requestid", info.request_id.encode())

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: list[Any] = list(message.get("headers", []))
                if not any(k.lower() == b"x-amzn-requestid" for k, _ in headers):
                    headers.append(header)
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            operation = info.operation
            _counted(info.face, operation, status).inc()
            _timed(info.face, operation).observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                fields: dict[str, Any] = {
                    "event": "request",
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                }
                log.info("%s %s %d", method, path, status, extra={"fields": fields})
            CURRENT.reset(token)
