"""HTTP with retries, shared by the boto3-style client and the worker protocol.

Retries cover what can succeed on a second try and nothing else: connection failures and 5xx
answers (500/502/503/504). A 4xx is an answer, never retried. Backoff is exponential with full
jitter so that many workers coming back after an outage do not knock on the same millisecond;
a ``Retry-After`` header on a 5xx is honoured. Waiting is done on an optional ``threading.Event``
so a worker shutting down does not sit out a long backoff.

Request signing is a hook: pass any ``httpx.Auth`` (SigV4 per team comes later).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from amtune.sdk.errors import EndpointConnectionError

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
USER_AGENT = "amtune-sdk/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying. ``max_attempts=None`` means until ``deadline_seconds`` (if any)."""

    max_attempts: int | None = 3
    base_delay: float = 0.25
    max_delay: float = 20.0
    deadline_seconds: float | None = None

    def delay(self, retry_number: int) -> float:
        """Full-jitter exponential backoff for the ``retry_number``-th retry (1-based)."""
        cap = min(self.max_delay, self.base_delay * (2 ** min(retry_number - 1, 30)))
        return random.uniform(cap / 2, cap)


#: The boto3 "standard" mode budget: three attempts in all.
DEFAULT_RETRY = RetryPolicy()
#: For workers: the service being down is a wait, not a failure.
PERSISTENT_RETRY = RetryPolicy(max_attempts=None, base_delay=0.5, max_delay=15.0)
#: One attempt: the caller has its own loop (heartbeats, metric flushes).
NO_RETRY = RetryPolicy(max_attempts=1)


class Cancelled(Exception):
    """The cancel event was set while waiting to retry."""


@dataclass
class HttpResult:
    response: httpx.Response
    retries: int


def checked_endpoint(endpoint_url: str) -> str:
    """The endpoint as given, or ValueError at once for one no request could ever reach.

    Without a scheme (``127.0.0.1:8000``) every request fails as a connection error, which the
    workers would otherwise wait out for ever.
    """
    parsed = urlsplit(endpoint_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        hint = f" (did you mean http://{endpoint_url}?)" if "://" not in endpoint_url else ""
        raise ValueError(f"endpoint {endpoint_url!r} is not an http:// or https:// URL{hint}")
    return endpoint_url


class HttpTransport:
    """One ``httpx.Client`` (thread-safe, pooled) bound to an endpoint."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        auth: httpx.Auth | None = None,
        timeout: float = 60.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint_url = checked_endpoint(endpoint_url).rstrip("/")
        base_headers = {"User-Agent": USER_AGENT}
        base_headers.update(headers or {})
        self._client = httpx.Client(
            base_url=self.endpoint_url,
            auth=auth,
            timeout=timeout,
            headers=base_headers,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
        on_retry: Callable[[int, float, str], None] | None = None,
    ) -> HttpResult:
        """Send, retrying connection errors and 5xx; the last 5xx is returned, not raised.

        Raises :class:`EndpointConnectionError` when every attempt failed to connect and
        :class:`Cancelled` when ``cancel`` was set during a backoff.
        """
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            failure: str
            retry_after: float | None = None
            response: httpx.Response | None
            try:
                response = self._client.request(method, path, content=content, headers=headers)
            except httpx.TransportError as exc:
                response = None
                failure = f"{type(exc).__name__}: {exc}"
                last_exc: BaseException = exc
            else:
                if response.status_code not in RETRYABLE_STATUS:
                    return HttpResult(response, attempt - 1)
                failure = f"HTTP {response.status_code}"
                retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            if not self._may_retry(retry, attempt, started):
                if response is not None:
                    return HttpResult(response, attempt - 1)
                raise EndpointConnectionError(self.endpoint_url + path, last_exc)
            delay = retry.delay(attempt)
            if retry_after is not None:
                delay = max(delay, min(retry_after, retry.max_delay))
            if retry.deadline_seconds is not None:
                remaining = retry.deadline_seconds - (time.monotonic() - started)
                delay = max(0.0, min(delay, remaining))
            if on_retry is not None:
                on_retry(attempt, delay, failure)
            if cancel is not None:
                if cancel.wait(delay):
                    raise Cancelled(failure)
            else:
                time.sleep(delay)

    @staticmethod
    def _may_retry(retry: RetryPolicy, attempt: int, started: float) -> bool:
        if retry.max_attempts is not None and attempt >= retry.max_attempts:
            return False
        return not (
            retry.deadline_seconds is not None
            and time.monotonic() - started >= retry.deadline_seconds
        )


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
