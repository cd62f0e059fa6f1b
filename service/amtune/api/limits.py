"""Request limits, enforced before anything else reads, authenticates or parses a request.

Why here and not in the routes: a body is read into memory, checked against a signature and
handed to a JSON parser before any rule of ours runs. A 1 GiB body would be buffered whole, a
client trickling a body one byte at a time would hold its request open for as long as it
likes, and JSON nested 10,000 levels deep exceeds Python's recursion limit inside the parser.
This ASGI middleware, the outermost, stops all of them at the door, on both faces and every
method, with the AWS code a JSON client expects:

* a body on a method that takes none (GET, HEAD, OPTIONS, DELETE) -> HTTP 400,
  ``SerializationException``, judged from the headers before a byte of it is read;
* a body over ``max_body_bytes`` (1 MiB, judged by ``Content-Length`` before reading, or
  counted while reading a chunked body, never buffered past the limit) -> HTTP 413,
  ``SerializationException``;
* a body that has not fully arrived ``body_timeout`` seconds after the request's headers ->
  HTTP 408, ``RequestTimeout``;
* more than ``max_pending_bodies`` bodies being received at once -> HTTP 503,
  ``ServiceUnavailable`` with ``Retry-After`` (requests without a body, such as ``/healthz``,
  never wait for one, so they keep answering while slow clients hold the rest);
* JSON nested deeper than :data:`MAX_JSON_DEPTH` -> HTTP 400, ``SerializationException``;
* a body that is not UTF-8 (JSON must be, RFC 8259) -> HTTP 400, ``SerializationException``:
  FastAPI would otherwise answer ``{"detail": ...}``, which no AWS client can read.

Every refusal asks the client to close the connection: the unread rest of a body is not worth
reading. The largest legitimate request, a CreateHyperParameterTuningJob with every field, is a
few tens of KiB and nests about eight levels, so none of the limits is near real use.

It is a plain ASGI middleware (not ``BaseHTTPMiddleware``): it adds one buffered read and, for
bodies with many brackets, one regex scan, and nothing else to the hot worker path.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from amtune.api.errors import AWS_JSON, error_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1 << 20
MAX_JSON_DEPTH = 64
BODY_TIMEOUT_SECONDS = 30.0
MAX_PENDING_BODIES = 256
CODE = "SerializationException"
BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
RETRY_AFTER_BUSY = "1"

# A JSON string (escapes included) or one bracket: scanning these skips brackets inside strings.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``body`` opens more than ``limit`` arrays/objects at once.

    Malformed JSON is not judged here (the parser behind reports it); only nesting that could
    exhaust the parser's recursion is.
    """
    opening = body.count(b"[") + body.count(b"{")
    if opening <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


class _TooLarge(Exception):
    pass


class RequestLimits:
    """ASGI middleware: refuse bodies that are unwanted, oversized, slow or nested too deeply."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_json_depth: int = MAX_JSON_DEPTH,
        body_timeout: float = BODY_TIMEOUT_SECONDS,
        max_pending_bodies: int = MAX_PENDING_BODIES,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.body_timeout = body_timeout
        self.max_pending_bodies = max_pending_bodies
        self.pending_bodies = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        media_type = AWS_JSON if scope.get("path") == "/" else "application/json"
        declared, chunked = _announced_body(scope)
        if not chunked and not declared:
            # Nothing to read (uvicorn answers a body it was not told about as a new request).
            await self.app(scope, receive, send)
            return
        if scope.get("method") in BODILESS_METHODS:
            message = f"A {scope.get('method')} request takes no body."
            await _refuse(scope, receive, send, 400, CODE, message, media_type)
            return
        if declared is not None and declared > self.max_body_bytes:
            await _refuse(scope, receive, send, 413, CODE, self._too_large(), media_type)
            return
        if self.pending_bodies >= self.max_pending_bodies:
            message = "Too many requests are sending their bodies; retry shortly."
            await _refuse(scope, receive, send, 503, "ServiceUnavailable", message, media_type)
            return
        self.pending_bodies += 1
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await self._read(receive)
        except _TooLarge:
            await _refuse(scope, receive, send, 413, CODE, self._too_large(), media_type)
            return
        except TimeoutError:
            message = f"The request body did not arrive within {self.body_timeout:g} seconds."
            await _refuse(scope, receive, send, 408, "RequestTimeout", message, media_type)
            return
        finally:
            self.pending_bodies -= 1
        if not _is_utf8(body):
            message = "The request body is not valid UTF-8 JSON."
            await _refuse(scope, receive, send, 400, CODE, message, media_type)
            return
        if json_depth_exceeds(body, self.max_json_depth):
            message = f"The request body nests JSON deeper than {self.max_json_depth} levels."
            await _refuse(scope, receive, send, 400, CODE, message, media_type)
            return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_body_bytes} bytes."

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away; whatever arrived is all there is.
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    code: str,
    message: str,
    media_type: str,
) -> None:
    response = error_response(code, message, status, media_type=media_type)
    if status == 503:
        response.headers["Retry-After"] = RETRY_AFTER_BUSY
    # The unread rest of the body is not worth reading: ask the client to close.
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


def _is_utf8(body: bytes) -> bool:
    if body.isascii():
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _announced_body(scope: Scope) -> tuple[int | None, bool]:
    """What the headers say of the body: its declared length, and whether it comes chunked.

    An unreadable ``Content-Length`` never reaches here (the HTTP server refuses it)."""
    declared: int | None = None
    chunked = False
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = None
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return declared, chunked
