"""Keeping one claimed training job alive: heartbeats and batched metrics, in the background.

Both the Python worker API and the ``amtune worker`` agent hold a claimed training job the same
way, so it lives here once. A daemon thread heartbeats at the interval the claim gave and flushes
queued metrics as a batch (every ``flush_interval`` seconds, sooner when ``max_batch`` are
waiting), so training code never blocks on the network. When the service is unreachable the
batch is kept and resent; when the service says ``StopRequested`` the ``on_stop`` callback runs
once; a 409 (or 404) means the lease is gone: the session stops talking and ``on_lease_lost``
runs once. It never raises into training code.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from amtune.sdk.errors import (
    EndpointConnectionError,
    LeaseLost,
    NotFound,
    WorkerProtocolError,
)
from amtune.sdk.protocol import Claim, Metric, WorkerProtocol
from amtune.sdk.transport import NO_RETRY, Cancelled, RetryPolicy

log = logging.getLogger("amtune.sdk")

T = TypeVar("T")
#: Metrics waiting beyond this are dropped oldest-first (the last value of each is kept apart).
MAX_BUFFERED = 10_000


class JobSession:
    def __init__(
        self,
        protocol: WorkerProtocol,
        claim: Claim,
        *,
        flush_interval: float = 1.0,
        max_batch: int = 200,
        on_stop: Callable[[], None] | None = None,
        on_lease_lost: Callable[[], None] | None = None,
    ) -> None:
        self.protocol = protocol
        self.claim = claim
        self.name = claim.training_job_name
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.heartbeat_interval = max(0.2, claim.heartbeat_interval_seconds)
        self._on_stop = on_stop
        self._on_lease_lost = on_lease_lost
        self._cond = threading.Condition()
        self._buffer: list[Metric] = []
        self._first_buffered_at: float | None = None
        self._closing = False
        self._stop_requested = threading.Event()
        self._lease_lost = threading.Event()
        self.last_values: dict[str, Metric] = {}
        self.sent_metrics = 0
        self._thread = threading.Thread(target=self._run, name=f"amtune-{self.name}", daemon=True)
        self._outage_since: float | None = None

    # -- state --------------------------------------------------------------------------------

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    @property
    def lease_lost(self) -> bool:
        return self._lease_lost.is_set()

    def start(self) -> None:
        self._thread.start()

    def add_metric(self, metric: Metric) -> None:
        """Queue a value (non-finite values are refused: the service would reject the batch)."""
        if not math.isfinite(metric.value):
            raise ValueError(f"metric {metric.name!r} value must be finite, got {metric.value!r}")
        with self._cond:
            self.last_values[metric.name] = metric
            if self.lease_lost:
                return
            self._buffer.append(metric)
            if len(self._buffer) > MAX_BUFFERED:
                del self._buffer[: len(self._buffer) - MAX_BUFFERED]
            if self._first_buffered_at is None:
                # The loop may be asleep until the next heartbeat: wake it to set a flush time.
                self._first_buffered_at = time.monotonic()
                self._cond.notify()
            elif len(self._buffer) >= self.max_batch:
                self._cond.notify()

    def final_metrics(self) -> list[Metric]:
        with self._cond:
            return list(self.last_values.values())

    def close(self, flush_timeout: float = 10.0) -> None:
        """Stop the background thread, then try (for at most ``flush_timeout``) to send the rest."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join()
        if self.lease_lost:
            return
        deadline = time.monotonic() + flush_timeout
        policy = RetryPolicy(max_attempts=None, base_delay=0.2, max_delay=2.0)
        while self._take_batch(force=True):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("%s: %d metric values not sent", self.name, len(self._buffer))
                return
            batch_policy = RetryPolicy(
                max_attempts=None,
                base_delay=policy.base_delay,
                max_delay=policy.max_delay,
                deadline_seconds=remaining,
            )
            if not self._flush(batch_policy):
                return

    # -- background loop ----------------------------------------------------------------------

    def _run(self) -> None:
        next_heartbeat = time.monotonic() + self.heartbeat_interval
        backoff = 0.5
        while True:
            with self._cond:
                while not self._closing:
                    now = time.monotonic()
                    due = [next_heartbeat]
                    if self._first_buffered_at is not None:
                        due.append(self._first_buffered_at + self.flush_interval)
                    if len(self._buffer) >= self.max_batch or now >= min(due):
                        break
                    self._cond.wait(min(due) - now)
                if self._closing or self.lease_lost:
                    return
            now = time.monotonic()
            ok = True
            if self._take_batch(force=False):
                ok = self._flush(NO_RETRY)
            if ok and now >= next_heartbeat:
                ok = self._heartbeat()
                if ok:
                    next_heartbeat = time.monotonic() + self.heartbeat_interval
            if self.lease_lost:
                return
            if ok:
                backoff = 0.5
                self._outage_over()
            else:
                # The service is unreachable: retry soon, backing off, never later than a beat.
                wait = min(backoff, self.heartbeat_interval)
                backoff = min(backoff * 2, 15.0)
                next_heartbeat = min(next_heartbeat, time.monotonic() + wait)
                with self._cond:
                    if self._first_buffered_at is not None:
                        self._first_buffered_at = time.monotonic() + wait - self.flush_interval
                    if not self._closing:
                        self._cond.wait(wait)

    def _take_batch(self, *, force: bool) -> bool:
        with self._cond:
            if not self._buffer:
                return False
            if force or len(self._buffer) >= self.max_batch:
                return True
            started = self._first_buffered_at
            return started is not None and time.monotonic() - started >= self.flush_interval

    def _flush(self, retry: RetryPolicy) -> bool:
        with self._cond:
            batch = self._buffer[: self.max_batch]
        result = self._guard(
            lambda: self.protocol.put_metrics(
                self.name, batch, lease_token=self.claim.lease_token, retry=retry
            )
        )
        if result is None:
            return False
        with self._cond:
            del self._buffer[: len(batch)]
            self._first_buffered_at = time.monotonic() if self._buffer else None
            self.sent_metrics += len(batch)
        if result:
            self._mark_stop()
        return True

    def _heartbeat(self) -> bool:
        result = self._guard(
            lambda: self.protocol.heartbeat(
                self.name, lease_token=self.claim.lease_token, retry=NO_RETRY
            )
        )
        if result is None:
            return False
        if result:
            self._mark_stop()
        return True

    def _guard(self, call: Callable[[], T]) -> T | None:
        """Run one protocol call; None when it did not get through (caller retries later)."""
        try:
            return call()
        except (LeaseLost, NotFound) as exc:
            self._mark_lease_lost(exc)
        except WorkerProtocolError as exc:
            if exc.status >= 500:
                self._outage(str(exc))
            else:  # a 400 on a batch: the service refused it; do not resend forever
                log.warning("%s: service refused a request: %s", self.name, exc)
                with self._cond:
                    self._buffer.clear()
                    self._first_buffered_at = None
                return None
        except (EndpointConnectionError, Cancelled) as exc:
            self._outage(str(exc))
        return None

    def _outage(self, why: str) -> None:
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            log.warning("%s: service unreachable (%s); retrying", self.name, why)

    def _outage_over(self) -> None:
        if self._outage_since is not None:
            log.warning("%s: service reachable again", self.name)
            self._outage_since = None

    def _mark_stop(self) -> None:
        if not self._stop_requested.is_set():
            self._stop_requested.set()
            if self._on_stop is not None:
                self._on_stop()

    def _mark_lease_lost(self, exc: Exception) -> None:
        if not self._lease_lost.is_set():
            self._lease_lost.set()
            log.warning("%s: lease lost, dropping the job (%s)", self.name, exc)
            with self._cond:
                self._buffer.clear()
                self._first_buffered_at = None
            if self._on_lease_lost is not None:
                self._on_lease_lost()
