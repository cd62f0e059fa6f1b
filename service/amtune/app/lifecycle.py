"""The state machine of tuning and training jobs: every status change happens here.

Each function runs inside the caller's transaction, with the tuning-job row locked, so two
replicas (or a reaper and a worker) never both move the same job.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from amtune.app import completion, events, leases
from amtune.app.domain import (
    ACTIVE_TRAINING,
    ALL_FAILED_REASON,
    ENDED_TRAINING,
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


def start_training_job(job: TrainingJobRow, worker_id: str, now: float, lease: float) -> str:
    """Hand the job to ``worker_id``; returns the lease token only that worker is told."""
    token, token_hash = leases.new_token()
    job.worker_id = worker_id
    job.lease_token_hash = token_hash
    job.lease_expires_at = now + lease
    job.started_at = job.started_at or now
    add_transition(job, "Training", now, "Training job is running on worker " + worker_id)
    return token


def request_training_stop(job: TrainingJobRow, now: float, message: str = "Stop requested") -> None:
    """Tell one training job to stop; one no worker holds stops at once.

    ``message`` says who asked (the user, or an early-stopping rule) in the job's Stopping
    transition, which DescribeTrainingJob shows."""
    if job.status not in ACTIVE_TRAINING or job.stop_requested:
        return
    job.stop_requested = True
    if job.worker_id is None:
        end_training_job(job, TrainingStatus.STOPPED, now, message="Stopped before it started")
        return
    job.status = TrainingStatus.STOPPING
    add_transition(job, "Stopping", now, message)


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
    if status == TrainingStatus.FAILED:
        # AMT's ObjectiveStatus Failed: a job that failed was not evaluated, whatever it
        # reported before; so its objective is never shown, counted or the best.
        job.objective_value = None
    job.failure_reason = reason
    job.retryable = retryable if status == TrainingStatus.FAILED else None
    job.lease_expires_at = None
    job.ended_at = now
    add_transition(job, str(status), now, message or (reason or ""))
    events.training_job_ended(job.account_id, job.name, str(status), reason or message or None)


def fail_or_retry(
    session: Session,
    job: TrainingJobRow,
    tuning: TuningJobRow | None,
    now: float,
    reason: str,
    retryable: bool,
) -> None:
    """A failed attempt: retried in place (RetryStrategy) while attempts remain, else Failed.

    A job told to stop ends Stopped however it ends: the stop is what the user asked for.
    A retry starts training again, so the metric points of the failed attempt are dropped:
    the new attempt's steps start again from the beginning of its learning curve.
    """
    if job.stop_requested:
        end_training_job(job, TrainingStatus.STOPPED, now, message=reason)
        return
    retries = tuning.max_retry_attempts if tuning is not None else 0
    live = tuning is not None and tuning.status == TuningStatus.IN_PROGRESS
    if retryable and live and job.attempt <= retries:
        job.attempt += 1
        _restart(session, job, now, f"Attempt {job.attempt - 1} failed: {reason}")
        events.training_job_retried(job.account_id, job.name, job.attempt, reason)
        return
    end_training_job(job, TrainingStatus.FAILED, now, reason=reason, retryable=retryable)


def release(
    session: Session, job: TrainingJobRow, tuning: TuningJobRow | None, now: float, worker_id: str
) -> None:
    """A worker that is shut down gives its training job back.

    That is no fault of the training job, so it is treated as AWS treats an internal failure:
    the same training job, with the same hyperparameters, waits for the next claim, without
    counting against the budget (no new job number) or the RetryStrategy (the attempt number
    stays). A job told to stop, or of a tuning job no longer in progress, ends Stopped instead.
    """
    live = tuning is not None and tuning.status == TuningStatus.IN_PROGRESS
    if job.stop_requested or not live:
        end_training_job(job, TrainingStatus.STOPPED, now, message="Stopped: its worker shut down")
        return
    _restart(session, job, now, f"Worker {worker_id} shut down and gave the training job back")


def _restart(session: Session, job: TrainingJobRow, now: float, message: str) -> None:
    """The job waits for the next claim, as new: no worker, no lease, no objective, and none of
    its metric points, since the next run's steps start again from its learning curve's
    beginning."""
    job.worker_id = None
    job.lease_token_hash = None
    job.lease_expires_at = None
    job.objective_value = None
    repository.delete_metrics(session, job.id)
    job.metric_count = 0
    job.status = TrainingStatus.IN_PROGRESS
    add_transition(job, "Restarting", now, message)


def expire_leases(session: Session, tuning: TuningJobRow, now: float) -> int:
    lapsed = repository.active_training_jobs(session, tuning.id, lapsed_before=now, for_update=True)
    for job in lapsed:
        events.training_job_lease_lapsed(job.account_id, job.name, job.worker_id)
        fail_or_retry(session, job, tuning, now, LEASE_EXPIRED, retryable=True)
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
    if tuning.status == TuningStatus.IN_PROGRESS and tuning.completion_criteria:
        verdict = completion.judge(
            tuning.completion_criteria, tuning.objective_type, completion_facts(session, tuning)
        )
        if verdict.complete:
            for job in repository.active_training_jobs(session, tuning.id):
                request_training_stop(job, now)
            if verdict.converged:
                tuning.converged_at = now
            reason = "converged" if verdict.converged else "TuningJobCompletionCriteria met"
            _finish(tuning, TuningStatus.COMPLETED, now, reason)
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


def completion_facts(session: Session, tuning: TuningJobRow) -> completion.Facts:
    """What the completion criteria read, from the tuning job's training jobs."""
    rows = repository.completion_rows(session, tuning.id)
    ended = sorted(
        (ended_at, seq, value)
        for seq, status, value, ended_at, _ in rows
        if status in ENDED_TRAINING and value is not None and ended_at is not None
    )
    return completion.Facts(
        objectives=[value for _, _, value in ended],
        expected_improvements=[expected for *_, expected in rows],
    )


def first_jobs_all_failed(tuning: TuningJobRow, progress: Progress) -> bool:
    """AMT fails the tuning job when its first training jobs all end without an objective."""
    return not progress.any_succeeded and progress.failed_or_completed >= min(
        FIRST_FAILURES_LIMIT, tuning.max_jobs
    )


def runs_on_plainly(tuning: TuningJobRow, now: float) -> bool:
    """In progress with budget and time left and no completion criteria (which any ending may
    meet): a successful ending cannot move it on."""
    return (
        tuning.status == TuningStatus.IN_PROGRESS
        and not tuning.completion_criteria
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
