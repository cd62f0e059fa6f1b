"""Request limits, checked before any route parses a body: size and JSON nesting depth.

Why here and not in the routes: a body is read into memory and handed to ``json.loads`` (the AWS
face) or pydantic (the REST face) before any rule of ours runs. A 1 GiB body would be buffered
whole, and JSON nested 10,000 levels deep exceeds Python's recursion limit inside the parser,
which FastAPI reports as a 500. This ASGI middleware stops both at the door, on both faces, with
the AWS code a JSON client expects:

* a body over :data:`MAX_BODY_BYTES` (1 MiB, judged by ``Content-Length`` before reading, or
  while reading a chunked body) -> HTTP 413, ``SerializationException``;
* JSON nested deeper than :data:`MAX_JSON_DEPTH` -> HTTP 400, ``SerializationException``;
* a body that is not UTF-8 (JSON must be, RFC 8259) -> HTTP 400, ``SerializationException``:
  FastAPI would otherwise answer ``{"detail": ...}``, which no AWS client can read.

The largest legitimate request, a CreateHyperParameterTuningJob with every field, is a few tens
of KiB and nests about eight levels, so neither limit is near real use.

It is a plain ASGI middleware (not ``BaseHTTPMiddleware``): it adds one buffered read and, for
bodies with many brackets, one regex scan, and nothing else to the hot worker path.
"""

from __future__ import annotations

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
CODE = "SerializationException"

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
    """ASGI middleware: refuse oversized or too deeply nested request bodies, AWS-style."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_json_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        media_type = AWS_JSON if scope.get("path") == "/" else "application/json"
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._refuse(scope, receive, send, 413, self._too_large(), media_type)
            return
        try:
            body = await self._read(receive)
        except _TooLarge:
            await self._refuse(scope, receive, send, 413, self._too_large(), media_type)
            return
        if not _is_utf8(body):
            message = "The request body is not valid UTF-8 JSON."
            await self._refuse(scope, receive, send, 400, message, media_type)
            return
        if json_depth_exceeds(body, self.max_json_depth):
            message = f"The request body nests JSON deeper than {self.max_json_depth} levels."
            await self._refuse(scope, receive, send, 400, message, media_type)
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
        return f"The request body is larger than {self.max_body_bytes} bytes (1 MiB)."

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

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, message: str, media_type: str
    ) -> None:
        response = error_response(CODE, message, status, media_type=media_type)
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


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
