"""What a worker says about its training job: heartbeats, metrics, completion, failure.

Every call carries the lease token its claim handed out and is checked against the job's
lease (:func:`amtune.app.leases.held`): once a lease has lapsed, or the job was handed to
another worker on a retry, the old worker hears 409, never a 500, and nothing it sends changes
the job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from amtune.app import early_stopping, events, leases, lifecycle
from amtune.app.context import Caller, Context
from amtune.app.domain import TrainingStatus
from amtune.app.errors import Conflict, ValidationError
from amtune.app.training_jobs import load as load_training_job
from amtune.store import guarded_writes, repository
from amtune.store.guarded_writes import Held
from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import Lock

T = TypeVar("T")

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


def check_steps(
    metrics: Sequence[tuple[str, float, float, int | None]],
    path: str,
    stored: Mapping[str, int] | None = None,
) -> None:
    """A metric's steps never go back: within the report, nor below its ``stored`` last step.

    Learning curves are read in the order points were stored; early stopping and Hyperband
    compare jobs step by step, so a point out of order would be judged at the wrong step.
    """
    last = dict(stored or {})
    for index, (name, _value, _timestamp, step) in enumerate(metrics, start=1):
        if step is None:
            continue
        before = last.get(name)
        if before is not None and step < before:
            raise _field_error(
                step,
                f"{path}.{index}.member.step",
                f"Member must not be below the last step ({before}) reported for metric "
                f"'{name}': steps of a metric never go back",
            )
        last[name] = step


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
    token_hash: str,
    fast: Callable[[Session], T | None],
    act: Callable[[Session, TrainingJobRow], T],
) -> T:
    """Heartbeats and metrics touch one training job: they lock only its row.

    Every worker of a tuning job reports often, so taking the tuning job's lock here would
    queue them all behind each other. ``fast`` does the whole report in a statement or two
    while the job is plainly held (see :func:`guarded_writes.update_if_held`), in autocommit
    on PostgreSQL where it is one statement, and returns None otherwise; only then does
    ``act`` run on the slow path, which settles the tuning job first (lease lapsed, stopped,
    re-issued) and answers 409 when the job is gone.
    """
    result = ctx.run(fast, one_statement=True)
    if result is not None:
        return result
    return _committed(
        ctx,
        lambda session: act(session, _locked_held_job(ctx, session, caller, name, token_hash)[0]),
    )


def _locked_held_job(
    ctx: Context, session: Session, caller: Caller, name: str, token_hash: str
) -> tuple[TrainingJobRow, TuningJobRow | None]:
    """The job, locked after its tuning job has been settled, if the token still holds it."""
    job = load_training_job(ctx, session, caller, name)
    tuning = None
    now = ctx.now()
    if job.tuning_job_id is not None:
        tuning = repository.tuning_job_by_id(session, job.tuning_job_id, lock=Lock.UPDATE)
        session.refresh(job)
        lifecycle.expire_leases(session, tuning, now)
    if not leases.held(job, token_hash, now):
        raise _Gone(
            Conflict(
                f"Training job {name} is no longer held by this lease (status {job.status}); "
                "drop it and claim the next one.",
                code="TrainingJobNotInProgress",
            )
        )
    return job, tuning


def heartbeat(ctx: Context, caller: Caller, name: str, lease_token: Any) -> dict[str, Any]:
    token_hash = leases.token_digest(lease_token)

    def fast(session: Session) -> dict[str, Any] | None:
        now = ctx.now()
        lease = now + ctx.settings.lease_seconds
        held = guarded_writes.update_if_held(
            session,
            caller.account_id,
            name,
            token_hash=token_hash,
            now=now,
            values={"lease_expires_at": lease},
        )
        if held is None:
            return None
        return {"StopRequested": held.stop_requested, "LeaseExpiresAt": lease}

    def beat(_session: Session, job: TrainingJobRow) -> dict[str, Any]:
        job.lease_expires_at = ctx.now() + ctx.settings.lease_seconds
        return {"StopRequested": job.stop_requested, "LeaseExpiresAt": job.lease_expires_at}

    return _on_held_job(ctx, caller, name, token_hash, fast, beat)


def report_metrics(
    ctx: Context, caller: Caller, name: str, lease_token: Any, metrics: Any
) -> dict[str, Any]:
    """Store a report's points and judge the job by its early-stopping rule, if it has one.

    The steps of each metric must not go back (:func:`check_steps`): within the report here,
    against the stored points in the fast path's statement, which writes nothing when one
    does; the slow path then finds which point it was and names it.
    """
    token_hash = leases.token_digest(lease_token)
    parsed = parse_metrics(metrics, "metrics", ctx.now())
    check_steps(parsed, "metrics")
    max_points = ctx.settings.max_metric_points_per_job

    def fast(session: Session) -> Held | None:
        now = ctx.now()
        # A report is a sign of life too: it extends the lease.
        return guarded_writes.report_if_held(
            session,
            caller.account_id,
            name,
            token_hash=token_hash,
            now=now,
            lease_until=now + ctx.settings.lease_seconds,
            metrics=parsed,
            max_points=max_points,
        )

    def record(session: Session, job: TrainingJobRow) -> Held:
        now = ctx.now()
        leases.check_room(job, len(parsed), max_points)
        stored = repository.last_steps(session, job.id, (m[0] for m in parsed if m[3] is not None))
        check_steps(parsed, "metrics", stored)
        repository.add_metrics(session, [repository.metric_row(job.id, *m) for m in parsed])
        job.metric_count += len(parsed)
        for metric, value, _timestamp, _step in parsed:
            if metric == job.objective_metric:
                job.objective_value = value
        job.lease_expires_at = now + ctx.settings.lease_seconds
        job.last_modified_at = now
        return Held(
            job.id,
            job.stop_requested,
            job.tuning_job_id,
            job.seq,
            job.objective_metric,
            job.stopping_rule,
        )

    held = _on_held_job(ctx, caller, name, token_hash, fast, record)
    return {"StopRequested": early_stopping.judge(ctx, held, parsed)}


def complete(
    ctx: Context,
    caller: Caller,
    name: str,
    lease_token: Any,
    final_metrics: Any = None,
) -> dict[str, Any]:
    token_hash = leases.token_digest(lease_token)
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
        stopped = job.stop_requested and not early_stopping.ends_completed(job)
        status = TrainingStatus.STOPPED if stopped else TrainingStatus.COMPLETED
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
        found = guarded_writes.job_and_tuning_unlocked(session, caller.account_id, name)
        if found is None:
            return None
        job, tuning = found
        if not lifecycle.runs_on_plainly(tuning, now):
            return None
        if not leases.held(job, token_hash, now) or job.stop_requested:
            return None
        latest = final(session, job)
        if job.objective_metric not in latest:
            return None
        seen = guarded_writes.guard_of(job)
        decided = events.mark()
        finish(job, latest, now)
        if not guarded_writes.end_if_unchanged(session, job, seen):
            events.discard_since(decided)  # nothing written: the locked path decides again
            return None
        return {"TrainingJobStatus": job.status}

    def end(session: Session, job: TrainingJobRow, _: TuningJobRow | None, now: float) -> None:
        finish(job, final(session, job), now)

    return ctx.run(fast, one_statement=True) or _ended(ctx, caller, name, token_hash, end)


def fail(
    ctx: Context,
    caller: Caller,
    name: str,
    lease_token: Any,
    reason: Any,
    retryable: Any = False,
) -> dict[str, Any]:
    token_hash = leases.token_digest(lease_token)
    if not isinstance(reason, str) or not reason:
        raise _field_error(reason, "failureReason", "Member must be a non-empty string")
    if not isinstance(retryable, bool):
        raise _field_error(retryable, "retryable", "Member must be a boolean")
    reason = reason[-MAX_FAILURE_REASON:]

    def end(session: Session, job: TrainingJobRow, tuning: TuningJobRow | None, now: float) -> None:
        lifecycle.fail_or_retry(session, job, tuning, now, classified(reason, retryable), retryable)

    return _ended(ctx, caller, name, token_hash, end)


def release(ctx: Context, caller: Caller, name: str, lease_token: Any) -> dict[str, Any]:
    """The worker holding the job gives it back (see :func:`lifecycle.release`)."""
    token_hash = leases.token_digest(lease_token)

    def end(session: Session, job: TrainingJobRow, tuning: TuningJobRow | None, now: float) -> None:
        lifecycle.release(session, job, tuning, now, job.worker_id or "unknown")

    return _ended(ctx, caller, name, token_hash, end)


Ending = Callable[[Session, TrainingJobRow, TuningJobRow | None, float], None]


def _ended(ctx: Context, caller: Caller, name: str, token_hash: str, end: Ending) -> dict[str, Any]:
    """End a held training job one way or another, then let its tuning job move on."""

    def work(session: Session) -> dict[str, Any]:
        job, tuning = _locked_held_job(ctx, session, caller, name, token_hash)
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


def _committed(ctx: Context, work: Callable[[Session], T]) -> T:
    def guarded(session: Session) -> T | Conflict:
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
