"""What a worker says about its training job: heartbeats, metrics, completion, failure.

Every call is checked against the job's lease: once a lease has lapsed (or the job was
handed to another worker on a retry) the old worker hears 409, never a 500, and nothing it
sends changes the job.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from amtune.app import events, lifecycle
from amtune.app.context import Caller, Context
from amtune.app.domain import ACTIVE_TRAINING, TrainingStatus
from amtune.app.errors import Conflict, ValidationError
from amtune.app.training_jobs import load as load_training_job
from amtune.store import repository
from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import Lock

MAX_METRICS_PER_REQUEST = 1000
MAX_FAILURE_REASON = 1024


def _field_error(value: Any, path: str, constraint: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _field_error(value, path, "Member must be a number")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise _field_error(value, path, "Member must be a finite number (not NaN or Infinity)")
    return number


def parse_metrics(items: Any, path: str, now: float) -> list[tuple[str, float, float, int | None]]:
    """Validate a list of {MetricName, Value, Timestamp?, Step?} and normalise it."""
    if not isinstance(items, list):
        raise _field_error(items, path, "Member must be a list")
    if len(items) > MAX_METRICS_PER_REQUEST:
        raise _field_error(
            len(items),
            path,
            f"Member must have length less than or equal to {MAX_METRICS_PER_REQUEST}",
        )
    parsed = []
    for index, item in enumerate(items, start=1):
        where = f"{path}.{index}.member"
        if not isinstance(item, dict):
            raise _field_error(item, where, "Member must be an object")
        name = item.get("MetricName")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise _field_error(
                name, f"{where}.metricName", "Member must be a string of 1 to 255 characters"
            )
        value = _number(item.get("Value"), f"{where}.value")
        stamp = item.get("Timestamp")
        timestamp = now if stamp is None else _number(stamp, f"{where}.timestamp")
        step = item.get("Step")
        if step is not None and (
            isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < 2**31
        ):
            raise _field_error(step, f"{where}.step", "Member must be an integer from 0 to 2^31-1")
        parsed.append((name, value, timestamp, step))
    return parsed


# The error classes SageMaker puts in front of a FailureReason.
FAILURE_CLASSES = ("AlgorithmError:", "ClientError:", "RetryableError:", "CapacityError:")


def classified(reason: str, retryable: bool) -> str:
    """Keep a worker's own error class; otherwise say which kind of failure it was."""
    if not reason.startswith(FAILURE_CLASSES):
        reason = ("RetryableError: " if retryable else "ClientError: ") + reason
    return reason[:MAX_FAILURE_REASON]


def _on_held_job(
    ctx: Context,
    caller: Caller,
    name: str,
    worker_id: str | None,
    fast: Callable[[Session], dict[str, Any] | None],
    act: Callable[[Session, TrainingJobRow], dict[str, Any]],
) -> dict[str, Any]:
    """Heartbeats and metrics touch one training job: they lock only its row.

    Every worker of a tuning job reports often, so taking the tuning job's lock here would
    queue them all behind each other. ``fast`` does the whole report in a statement or two
    while the job is plainly held (see :func:`repository.update_if_held`), in autocommit
    on PostgreSQL where it is one statement, and returns None
    otherwise; only then does ``act`` run on the slow path, which settles the tuning job
    first (lease lapsed, stopped, re-issued) and answers 409 when the job is gone.
    """
    result = ctx.run(fast, one_statement=True)
    if result is not None:
        return result
    return _committed(
        ctx,
        lambda session: act(session, _locked_active_job(ctx, session, caller, name, worker_id)[0]),
    )


def _held(job: TrainingJobRow, worker_id: str | None, now: float) -> bool:
    """A worker plainly holds the job: the condition ``repository.update_if_held`` checks."""
    return (
        job.status in ACTIVE_TRAINING
        and job.worker_id is not None
        and worker_id in (None, job.worker_id)
        and job.lease_expires_at is not None
        and job.lease_expires_at >= now
    )


def _locked_active_job(
    ctx: Context, session: Session, caller: Caller, name: str, worker_id: str | None
) -> tuple[TrainingJobRow, TuningJobRow | None]:
    job = load_training_job(ctx, session, caller, name)
    tuning = None
    if job.tuning_job_id is not None:
        tuning = repository.tuning_job_by_id(session, job.tuning_job_id, lock=Lock.UPDATE)
        session.refresh(job)
        lifecycle.expire_leases(session, tuning, ctx.now())
    owner_changed = worker_id is not None and job.worker_id not in (None, worker_id)
    if job.status not in ACTIVE_TRAINING or job.worker_id is None or owner_changed:
        raise _Gone(
            Conflict(
                f"Training job {name} is no longer held by this worker (status {job.status}); "
                "drop it and claim the next one.",
                code="TrainingJobNotInProgress",
            )
        )
    return job, tuning


def heartbeat(
    ctx: Context, caller: Caller, name: str, worker_id: str | None = None
) -> dict[str, Any]:
    def fast(session: Session) -> dict[str, Any] | None:
        now = ctx.now()
        lease = now + ctx.settings.lease_seconds
        held = repository.update_if_held(
            session,
            caller.account_id,
            name,
            worker_id=worker_id,
            now=now,
            values={"lease_expires_at": lease},
        )
        return None if held is None else {"StopRequested": held[1], "LeaseExpiresAt": lease}

    def beat(_session: Session, job: TrainingJobRow) -> dict[str, Any]:
        job.lease_expires_at = ctx.now() + ctx.settings.lease_seconds
        return {"StopRequested": job.stop_requested, "LeaseExpiresAt": job.lease_expires_at}

    return _on_held_job(ctx, caller, name, worker_id, fast, beat)


def report_metrics(
    ctx: Context, caller: Caller, name: str, metrics: Any, worker_id: str | None = None
) -> dict[str, Any]:
    parsed = parse_metrics(metrics, "metrics", ctx.now())

    def fast(session: Session) -> dict[str, Any] | None:
        now = ctx.now()
        # A report is a sign of life too: it extends the lease.
        held = repository.report_if_held(
            session,
            caller.account_id,
            name,
            worker_id=worker_id,
            now=now,
            lease_until=now + ctx.settings.lease_seconds,
            metrics=parsed,
        )
        return None if held is None else {"StopRequested": held[1]}

    def record(session: Session, job: TrainingJobRow) -> dict[str, Any]:
        now = ctx.now()
        repository.add_metrics(session, [repository.metric_row(job.id, *m) for m in parsed])
        for metric, value, _timestamp, _step in parsed:
            if metric == job.objective_metric:
                job.objective_value = value
        job.lease_expires_at = now + ctx.settings.lease_seconds
        job.last_modified_at = now
        return {"StopRequested": job.stop_requested}

    return _on_held_job(ctx, caller, name, worker_id, fast, record)


def complete(
    ctx: Context,
    caller: Caller,
    name: str,
    final_metrics: Any = None,
    worker_id: str | None = None,
) -> dict[str, Any]:
    given = parse_metrics(final_metrics or [], "finalMetricDataList", ctx.now())

    def final(session: Session, job: TrainingJobRow) -> dict[str, tuple[float, float]]:
        latest = repository.last_metric_values(session, job.id)
        for metric, value, timestamp, _step in given:
            latest[metric] = (value, timestamp)
        return latest

    def finish(job: TrainingJobRow, latest: dict[str, tuple[float, float]], now: float) -> None:
        job.final_metrics = [
            {"MetricName": metric, "Value": value, "Timestamp": timestamp}
            for metric, (value, timestamp) in sorted(latest.items())
        ]
        if job.objective_metric in latest:
            job.objective_value = latest[job.objective_metric][0]
        status = TrainingStatus.STOPPED if job.stop_requested else TrainingStatus.COMPLETED
        lifecycle.end_training_job(job, status, now, message="Training job ended")

    def fast(session: Session) -> dict[str, Any] | None:
        """A job that succeeds while its tuning job plainly runs on moves nothing else.

        So it is read unlocked, its ending decided here on detached copies, and written by
        one statement that succeeds only if the job was not touched meanwhile and its tuning
        job is still in progress (share-locked on PostgreSQL, so completions never queue
        behind claims): on PostgreSQL three autocommit round trips, no transaction. Anything
        else (no objective, which counts toward AMT's first-failures rule; a stop; the last
        of the budget; a lapsed lease; a report or stop in between) returns None, nothing
        written, for the locked path.
        """
        now = ctx.now()
        found = repository.job_and_tuning_unlocked(session, caller.account_id, name)
        if found is None:
            return None
        job, tuning = found
        if not lifecycle.runs_on_plainly(tuning, now):
            return None
        if not _held(job, worker_id, now) or job.stop_requested:
            return None
        latest = final(session, job)
        if job.objective_metric not in latest:
            return None
        seen = repository.guard_of(job)
        decided = events.mark()
        finish(job, latest, now)
        if not repository.end_if_unchanged(session, job, seen):
            events.discard_since(decided)  # nothing written: the locked path decides again
            return None
        return {"TrainingJobStatus": job.status}

    def end(session: Session, job: TrainingJobRow, _: TuningJobRow | None, now: float) -> None:
        finish(job, final(session, job), now)

    return ctx.run(fast, one_statement=True) or _ended(ctx, caller, name, worker_id, end)


def fail(
    ctx: Context,
    caller: Caller,
    name: str,
    reason: Any,
    retryable: Any = False,
    worker_id: str | None = None,
) -> dict[str, Any]:
    if not isinstance(reason, str) or not reason:
        raise _field_error(reason, "failureReason", "Member must be a non-empty string")
    if not isinstance(retryable, bool):
        raise _field_error(retryable, "retryable", "Member must be a boolean")
    reason = reason[-MAX_FAILURE_REASON:]

    def end(
        _session: Session, job: TrainingJobRow, tuning: TuningJobRow | None, now: float
    ) -> None:
        lifecycle.fail_or_retry(job, tuning, now, classified(reason, retryable), retryable)

    return _ended(ctx, caller, name, worker_id, end)


Ending = Callable[[Session, TrainingJobRow, TuningJobRow | None, float], None]


def _ended(
    ctx: Context, caller: Caller, name: str, worker_id: str | None, end: Ending
) -> dict[str, Any]:
    """End a held training job one way or another, then let its tuning job move on."""

    def work(session: Session) -> dict[str, Any]:
        job, tuning = _locked_active_job(ctx, session, caller, name, worker_id)
        now = ctx.now()
        end(session, job, tuning, now)
        session.flush()
        if tuning is not None:
            lifecycle.settle(session, tuning, now)
        return {"TrainingJobStatus": job.status}

    return _committed(ctx, work)


class _Gone(Exception):
    """Carries the 409 out of the transaction after the lease expiry it found is committed."""

    def __init__(self, conflict: Conflict) -> None:
        super().__init__(conflict.message)
        self.conflict = conflict


def _committed(ctx: Context, work: Callable[[Session], dict[str, Any]]) -> dict[str, Any]:
    def guarded(session: Session) -> dict[str, Any] | Conflict:
        # _Gone is raised before the work changes anything but the leases it expired,
        # and those expiries are worth committing.
        try:
            return work(session)
        except _Gone as gone:
            return gone.conflict

    result = ctx.run(guarded)
    if isinstance(result, Conflict):
        raise result
    return result
