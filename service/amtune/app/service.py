"""The application layer's one entry point: every face calls these methods and nothing else.

Each method is one use case; each runs its own transaction(s) and returns a plain dict in
the AMT response shape (or raises an :class:`~amtune.app.errors.AmtuneError`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from amtune.app import claims, reports, tags, training_jobs, tuning_jobs
from amtune.app.claims import Claim, Wait
from amtune.app.context import Caller, Context
from amtune.app.reports import MetricPoint
from amtune.app.sweeper import Sweeper, sweep
from amtune.settings import Settings
from amtune.store.database import Database

__all__ = ["Caller", "Claim", "MetricPoint", "Tuner", "Wait"]


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
        self.db = db or Database(settings.database_url, pool_size=connections)
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
        return self.db.ping()

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

    def stop_training_job(self, caller: Caller, name: Any) -> None:
        training_jobs.stop(self.ctx, caller, name)

    def list_tags(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        return tags.list_tags(self.ctx, caller, request)

    # --- the worker protocol ------------------------------------------------------------
    def claim(self, caller: Caller, tuning_job_name: str, worker_id: str) -> Claim | Wait:
        return claims.claim(self.ctx, caller, tuning_job_name, worker_id)

    def heartbeat(self, caller: Caller, name: str, worker_id: str | None = None) -> dict[str, Any]:
        return reports.heartbeat(self.ctx, caller, name, worker_id)

    def report_metrics(
        self,
        caller: Caller,
        name: str,
        metrics: Sequence[MetricPoint],
        worker_id: str | None = None,
    ) -> dict[str, Any]:
        return reports.report_metrics(self.ctx, caller, name, metrics, worker_id)

    def complete(
        self,
        caller: Caller,
        name: str,
        final_metrics: Sequence[MetricPoint] = (),
        worker_id: str | None = None,
    ) -> dict[str, Any]:
        return reports.complete(self.ctx, caller, name, final_metrics, worker_id)

    def fail(
        self,
        caller: Caller,
        name: str,
        reason: str,
        retryable: bool = False,
        worker_id: str | None = None,
    ) -> dict[str, Any]:
        return reports.fail(self.ctx, caller, name, reason, retryable, worker_id)
