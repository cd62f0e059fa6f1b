"""The state machine of tuning and training jobs: every status change happens here.

Each function runs inside the caller's transaction, with the tuning-job row locked, so two
replicas (or a reaper and a worker) never both move the same job.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from amtune.app import events
from amtune.app.domain import (
    ACTIVE_TRAINING,
    ALL_FAILED_REASON,
    FIRST_FAILURES_LIMIT,
    TrainingStatus,
    TuningStatus,
)
from amtune.store import repository
from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import Progress

LEASE_EXPIRED = "RetryableError: the worker stopped sending heartbeats (lease expired)."


def add_transition(job: TrainingJobRow, status: str, now: float, message: str = "") -> None:
    """Append to SecondaryStatusTransitions, closing the previous entry."""
    transitions: list[dict[str, Any]] = [dict(t) for t in job.transitions]
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1]["EndTime"] = now
    entry: dict[str, Any] = {"Status": status, "StartTime": now, "StatusMessage": message}
    if status in ("Completed", "Failed", "Stopped"):
        entry["EndTime"] = now
    transitions.append(entry)
    job.transitions = transitions
    job.secondary_status = status
    job.last_modified_at = now


def start_training_job(job: TrainingJobRow, worker_id: str, now: float, lease: float) -> None:
    job.worker_id = worker_id
    job.lease_expires_at = now + lease
    job.started_at = job.started_at or now
    add_transition(job, "Training", now, "Training job is running on worker " + worker_id)


def request_training_stop(job: TrainingJobRow, now: float) -> None:
    """Tell one training job to stop; one no worker holds stops at once."""
    if job.status not in ACTIVE_TRAINING or job.stop_requested:
        return
    job.stop_requested = True
    if job.worker_id is None:
        end_training_job(job, TrainingStatus.STOPPED, now, message="Stopped before it started")
        return
    job.status = TrainingStatus.STOPPING
    add_transition(job, "Stopping", now, "Stop requested")


def end_training_job(
    job: TrainingJobRow,
    status: TrainingStatus,
    now: float,
    *,
    reason: str | None = None,
    retryable: bool | None = None,
    message: str = "",
) -> None:
    job.status = status
    job.failure_reason = reason
    job.retryable = retryable if status == TrainingStatus.FAILED else None
    job.lease_expires_at = None
    job.ended_at = now
    add_transition(job, str(status), now, message or (reason or ""))
    events.training_job_ended(job.account_id, job.name, str(status), reason or message or None)


def fail_or_retry(
    job: TrainingJobRow, tuning: TuningJobRow | None, now: float, reason: str, retryable: bool
) -> None:
    """A failed attempt: retried in place (RetryStrategy) while attempts remain, else Failed.

    A job told to stop ends Stopped however it ends: the stop is what the user asked for.
    """
    if job.stop_requested:
        end_training_job(job, TrainingStatus.STOPPED, now, message=reason)
        return
    retries = tuning.max_retry_attempts if tuning is not None else 0
    live = tuning is not None and tuning.status == TuningStatus.IN_PROGRESS
    if retryable and live and job.attempt <= retries:
        job.attempt += 1
        job.worker_id = None
        job.lease_expires_at = None
        job.objective_value = None
        job.status = TrainingStatus.IN_PROGRESS
        add_transition(job, "Restarting", now, f"Attempt {job.attempt - 1} failed: {reason}")
        events.training_job_retried(job.account_id, job.name, job.attempt, reason)
        return
    end_training_job(job, TrainingStatus.FAILED, now, reason=reason, retryable=retryable)


def expire_leases(session: Session, tuning: TuningJobRow, now: float) -> int:
    lapsed = repository.active_training_jobs(session, tuning.id, lapsed_before=now, for_update=True)
    for job in lapsed:
        events.training_job_lease_lapsed(job.account_id, job.name, job.worker_id)
        fail_or_retry(job, tuning, now, LEASE_EXPIRED, retryable=True)
    return len(lapsed)


def begin_stopping(session: Session, tuning: TuningJobRow, now: float) -> None:
    tuning.status = TuningStatus.STOPPING
    tuning.last_modified_at = now
    events.tuning_job_stopping(tuning.account_id, tuning.name)
    for job in repository.active_training_jobs(session, tuning.id):
        request_training_stop(job, now)


def settle(session: Session, tuning: TuningJobRow, now: float) -> Progress | None:
    """Move a tuning job on after anything happened to it: leases, limits, endings.

    Returns where its training jobs then stand (None once it has ended). The counts come from
    one statement; lapsed leases and runtime limits, rare, cost a second one.
    """
    if tuning.status not in (TuningStatus.IN_PROGRESS, TuningStatus.STOPPING):
        return None
    progress = repository.progress(session, tuning.id, now)
    changed = False
    if progress.lapsed:
        expire_leases(session, tuning, now)
        changed = True
    if tuning.status == TuningStatus.IN_PROGRESS and _runtime_exceeded(tuning, now):
        begin_stopping(session, tuning, now)
        changed = True
    if changed:
        session.flush()
        progress = repository.progress(session, tuning.id, now)
    if tuning.status == TuningStatus.IN_PROGRESS and first_jobs_all_failed(tuning, progress):
        for job in repository.active_training_jobs(session, tuning.id):
            request_training_stop(job, now)
        tuning.failure_reason = ALL_FAILED_REASON.format(
            n=min(FIRST_FAILURES_LIMIT, tuning.max_jobs)
        )
        _finish(tuning, TuningStatus.FAILED, now, tuning.failure_reason)
        return None
    if progress.active:
        return progress
    if tuning.status == TuningStatus.STOPPING:
        _finish(tuning, TuningStatus.STOPPED, now, "stopped, and no training job runs")
        return None
    if tuning.created_count >= tuning.max_jobs:
        _finish(tuning, TuningStatus.COMPLETED, now, "MaxNumberOfTrainingJobs reached")
        return None
    return progress


def first_jobs_all_failed(tuning: TuningJobRow, progress: Progress) -> bool:
    """AMT fails the tuning job when its first training jobs all end without an objective."""
    return not progress.any_succeeded and progress.failed_or_completed >= min(
        FIRST_FAILURES_LIMIT, tuning.max_jobs
    )


def runs_on_plainly(tuning: TuningJobRow, now: float) -> bool:
    """In progress with budget and time left: a successful ending cannot move it on."""
    return (
        tuning.status == TuningStatus.IN_PROGRESS
        and tuning.created_count < tuning.max_jobs
        and not _runtime_exceeded(tuning, now)
    )


def complete_exhausted(tuning: TuningJobRow, now: float) -> None:
    """The strategy has nothing left to try and nothing runs: the job is done."""
    _finish(tuning, TuningStatus.COMPLETED, now, "the strategy has nothing left to try")


def _finish(tuning: TuningJobRow, status: TuningStatus, now: float, reason: str) -> None:
    tuning.status = status
    tuning.ended_at = now
    tuning.last_modified_at = now
    events.tuning_job_ended(tuning.account_id, tuning.name, str(status), reason)


def _runtime_exceeded(tuning: TuningJobRow, now: float) -> bool:
    limit = tuning.max_runtime_seconds
    return limit is not None and now - tuning.created_at >= limit
