"""What a worker says about its training job: heartbeats, metrics, completion, failure.

Every call carries the lease token its claim handed out and is checked against the job's
lease (:func:`amtune.app.leases.held`): once a lease has lapsed, or the job was handed to
another worker on a retry, the old worker hears 409, never a 500, and nothing it sends changes
the job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from amtune.app import early_stopping, events, leases, lifecycle
from amtune.app.context import Caller, Context
from amtune.app.domain import TrainingStatus
from amtune.app.errors import Conflict
from amtune.app.training_jobs import load as load_training_job
from amtune.app.validation.names import validate_training_job_name
from amtune.app.validation.shapes import raise_if_any, violation
from amtune.store import guarded_writes, repository
from amtune.store.guarded_writes import Held
from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import Lock

T = TypeVar("T")

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
            raise_if_any(
                [
                    violation(
                        step,
                        f"{path}.{index}.member.step",
                        f"Member must not be below the last step ({before}) reported for "
                        f"metric '{name}': steps of a metric never go back",
                    )
                ]
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


def heartbeat(ctx: Context, caller: Caller, name: str, lease_token: str) -> dict[str, Any]:
    validate_training_job_name(name, NAME_FIELD)
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
    ctx: Context, caller: Caller, name: str, lease_token: str, metrics: Sequence[MetricPoint]
) -> dict[str, Any]:
    """Store a report's points and judge the job by its early-stopping rule, if it has one.

    The steps of each metric must not go back (:func:`check_steps`): within the report here,
    against the stored points in the fast path's statement, which writes nothing when one
    does; the slow path then finds which point it was and names it.
    """
    validate_training_job_name(name, NAME_FIELD)
    token_hash = leases.token_digest(lease_token)
    parsed = _stamped(metrics, ctx.now())
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
    lease_token: str,
    final_metrics: Sequence[MetricPoint] = (),
) -> dict[str, Any]:
    validate_training_job_name(name, NAME_FIELD)
    token_hash = leases.token_digest(lease_token)
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
    lease_token: str,
    reason: str,
    retryable: bool = False,
) -> dict[str, Any]:
    """``reason`` arrives parsed: non-empty text (``api.schemas.FailRequest``)."""
    validate_training_job_name(name, NAME_FIELD)
    token_hash = leases.token_digest(lease_token)
    reason = reason[-MAX_FAILURE_REASON:]

    def end(session: Session, job: TrainingJobRow, tuning: TuningJobRow | None, now: float) -> None:
        lifecycle.fail_or_retry(session, job, tuning, now, classified(reason, retryable), retryable)

    return _ended(ctx, caller, name, token_hash, end)


def release(ctx: Context, caller: Caller, name: str, lease_token: str) -> dict[str, Any]:
    """The worker holding the job gives it back (see :func:`lifecycle.release`)."""
    validate_training_job_name(name, NAME_FIELD)
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
