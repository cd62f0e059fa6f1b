"""The application layer's one entry point: every face calls these methods and nothing else.

Each method is one use case; each runs its own transaction(s) and returns a plain dict in
the AMT response shape (or raises an :class:`~amtune.app.errors.AmtuneError`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from amtune.app import (
    claims,
    metric_statistics,
    pool,
    reports,
    tags,
    training_jobs,
    tuning_jobs,
)
from amtune.app.claims import Claim, Wait
from amtune.app.context import Caller, Context
from amtune.app.pool import PoolClaim
from amtune.app.sweeper import Sweeper, sweep
from amtune.app.telemetry import JobCounts
from amtune.settings import Settings
from amtune.store.database import Database, Timeouts

__all__ = ["Caller", "Claim", "PoolClaim", "Tuner", "Wait"]

#: /readyz answers within this, however the database behaves (a load balancer's probe times
#: out after a few seconds and would otherwise count a hung database as a slow success).
READY_WITHIN = 1.5


class Readiness:
    """One probe of the database at a time, waited for at most a given time.

    A probe that does not return in time answers "not ready" and stays in flight; later
    checks wait for that same probe instead of starting more, so a frozen database costs one
    thread, not one per check.
    """

    def __init__(self, probe: Callable[[], bool]) -> None:
        self._probe = probe
        self._lock = threading.Lock()
        self._running: threading.Event | None = None
        self._result = False

    def check(self, timeout: float) -> bool:
        with self._lock:
            done = self._running
            if done is None:
                done = self._running = threading.Event()
                threading.Thread(target=self._run, args=(done,), daemon=True).start()
        if not done.wait(timeout):
            return False
        with self._lock:
            if self._running is done:
                self._running = None
            return self._result

    def _run(self, done: threading.Event) -> None:
        try:
            result = self._probe()
        except Exception:
            result = False
        with self._lock:
            self._result = result
        done.set()


class Tuner:
    def __init__(
        self,
        settings: Settings,
        *,
        db: Database | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        # Each of the two request thread pools (worker routes, other routes) and the sweeper
        # keep a connection: a pool that overflowed opened and closed one every second.
        connections = 2 * settings.request_threads + 1
        timeouts = Timeouts(
            statement=settings.db_statement_timeout_seconds,
            lock=settings.db_lock_timeout_seconds,
            checkout=settings.db_pool_timeout_seconds,
        )
        self.db = db or Database(settings.database_url, pool_size=connections, timeouts=timeouts)
        self._readiness = Readiness(self.db.ping)
        self.ctx = Context(db=self.db, settings=settings, clock=clock)
        self._sweeper: Sweeper | None = None

    def default_caller(self) -> Caller:
        return Caller(account_id=self.settings.account_id)

    # --- lifecycle of the process -------------------------------------------------------
    def start_background(self) -> None:
        self._sweeper = Sweeper(self.ctx)
        self._sweeper.start()

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.stop()
        self.db.dispose()

    def ready(self) -> bool:
        """Whether the database answers a query within :data:`READY_WITHIN` seconds."""
        return self._readiness.check(READY_WITHIN)

    def sweep(self) -> int:
        return sweep(self.ctx)

    # --- the AMT operations -------------------------------------------------------------
    def create_tuning_job(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        return tuning_jobs.create(self.ctx, caller, request)

    def describe_tuning_job(self, caller: Caller, name: Any) -> dict[str, Any]:
        return tuning_jobs.describe(self.ctx, caller, name)

    def list_tuning_jobs(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        return tuning_jobs.list_jobs(self.ctx, caller, request)

    def stop_tuning_job(self, caller: Caller, name: Any) -> None:
        tuning_jobs.stop(self.ctx, caller, name)

    def delete_tuning_job(self, caller: Caller, name: Any) -> None:
        tuning_jobs.delete(self.ctx, caller, name)

    def list_training_jobs_for_tuning_job(
        self, caller: Caller, request: dict[str, Any]
    ) -> dict[str, Any]:
        return training_jobs.list_for_tuning_job(self.ctx, caller, request)

    def describe_training_job(self, caller: Caller, name: Any) -> dict[str, Any]:
        return training_jobs.describe(self.ctx, caller, name)

    def list_training_jobs(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        return training_jobs.list_jobs(self.ctx, caller, request)

    def list_training_job_metrics(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        return training_jobs.list_metrics(self.ctx, caller, request)

    def stop_training_job(self, caller: Caller, name: Any) -> None:
        training_jobs.stop(self.ctx, caller, name)

    def get_metric_statistics(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        """CloudWatch's GetMetricStatistics over training-job metrics (TrainingJobAnalytics)."""
        return metric_statistics.get_metric_statistics(self.ctx, caller, request)

    def list_tags(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        return tags.list_tags(self.ctx, caller, request)

    # --- the worker protocol ------------------------------------------------------------
    def claim(self, caller: Caller, tuning_job_name: str, worker_id: Any) -> Claim | Wait:
        return claims.claim(self.ctx, caller, tuning_job_name, worker_id)

    def claim_any(self, caller: Caller, worker_id: Any, images: Any = None) -> PoolClaim | Wait:
        return pool.claim_any(self.ctx, caller, worker_id, images)

    def release(self, caller: Caller, name: str, lease_token: Any) -> dict[str, Any]:
        return reports.release(self.ctx, caller, name, lease_token)

    def heartbeat(self, caller: Caller, name: str, lease_token: Any) -> dict[str, Any]:
        return reports.heartbeat(self.ctx, caller, name, lease_token)

    def report_metrics(
        self, caller: Caller, name: str, lease_token: Any, metrics: Any
    ) -> dict[str, Any]:
        return reports.report_metrics(self.ctx, caller, name, lease_token, metrics)

    def complete(
        self, caller: Caller, name: str, lease_token: Any, final_metrics: Any = None
    ) -> dict[str, Any]:
        return reports.complete(self.ctx, caller, name, lease_token, final_metrics)

    def fail(
        self, caller: Caller, name: str, lease_token: Any, reason: Any, retryable: Any = False
    ) -> dict[str, Any]:
        return reports.fail(self.ctx, caller, name, lease_token, reason, retryable)

    # --- operators ----------------------------------------------------------------------
    def job_counts(self) -> JobCounts:
        """A Prometheus collector of jobs by status, read from the database at each scrape."""
        return JobCounts(self.ctx)
