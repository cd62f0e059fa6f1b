"""What a worker says about its training job: heartbeats, metrics, completion, failure.

Every call is checked against the job's lease: once a lease has lapsed (or the job was
handed to another worker on a retry) the old worker hears 409, never a 500, and nothing it
sends changes the job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from amtune.app import lifecycle
from amtune.app.context import Caller, Context
from amtune.app.domain import ACTIVE_TRAINING, TrainingStatus
from amtune.app.errors import Conflict
from amtune.app.training_jobs import load as load_training_job
from amtune.app.validation.names import validate_training_job_name
from amtune.store import repository
from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import Lock

MAX_FAILURE_REASON = 1024
NAME_FIELD = "trainingJobName"


@dataclass(frozen=True)
class MetricPoint:
    """One reported value, parsed by the transport (``api.schemas.Metric``).

    The name is a 1-255 character identifier, the value and timestamp finite numbers (the
    timestamp epoch seconds, None for now), the step a 32-bit natural number or None."""

    name: str
    value: float
    timestamp: float | None = None
    step: int | None = None


Point = tuple[str, float, float, int | None]


def _stamped(metrics: Sequence[MetricPoint], now: float) -> list[Point]:
    return [(m.name, m.value, now if m.timestamp is None else m.timestamp, m.step) for m in metrics]


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
    validate_training_job_name(name, NAME_FIELD)

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
    ctx: Context,
    caller: Caller,
    name: str,
    metrics: Sequence[MetricPoint],
    worker_id: str | None = None,
) -> dict[str, Any]:
    validate_training_job_name(name, NAME_FIELD)
    parsed = _stamped(metrics, ctx.now())

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
    final_metrics: Sequence[MetricPoint] = (),
    worker_id: str | None = None,
) -> dict[str, Any]:
    validate_training_job_name(name, NAME_FIELD)
    given = _stamped(final_metrics, ctx.now())

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
        finish(job, latest, now)
        if not repository.end_if_unchanged(session, job, seen):
            return None
        return {"TrainingJobStatus": job.status}

    def end(session: Session, job: TrainingJobRow, _: TuningJobRow | None, now: float) -> None:
        finish(job, final(session, job), now)

    return ctx.run(fast, one_statement=True) or _ended(ctx, caller, name, worker_id, end)


def fail(
    ctx: Context,
    caller: Caller,
    name: str,
    reason: str,
    retryable: bool = False,
    worker_id: str | None = None,
) -> dict[str, Any]:
    """``reason`` arrives parsed: non-empty text (``api.schemas.FailRequest``)."""
    validate_training_job_name(name, NAME_FIELD)
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
