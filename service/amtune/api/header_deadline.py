"""uvicorn's HTTP protocol with a deadline on request headers, against slow-header clients.

uvicorn bounds an idle kept-alive connection (``timeout_keep_alive``) but not a connection
that is sending its request line and headers, nor one that connects and sends nothing: a client
trickling a header byte now and then holds its connection for as long as it likes, and enough
of them fill ``limit_concurrency``, after which every request, ``/healthz`` included, is
answered 503. Here a connection must have sent a request's complete headers within
``header_timeout_seconds`` of opening, or of the first byte of each later request on it;
otherwise it is answered 408 and closed, as nginx's ``client_header_timeout`` does. Request
bodies have their own deadline (``api/limits.py``), once the application sees the request.

``amtune serve`` passes this class as uvicorn's ``http`` protocol, by import path so that
several worker processes load it too; the deadline comes from the settings' environment.
"""

from __future__ import annotations

import asyncio
import functools

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from amtune.settings import Settings

_LATE = b"The request headers did not arrive in time."
_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    + f"content-length: {len(_LATE)}\r\nconnection: close\r\n\r\n".encode()
    + _LATE
)


@functools.cache
def header_timeout() -> float:
    return Settings().header_timeout_seconds


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose connections must complete each request's headers in time."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(header_timeout(), self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_TIMED_OUT)  # else a response is being written: just close
        self.transport.close()
