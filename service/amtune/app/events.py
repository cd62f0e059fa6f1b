"""Application events: one log line and one counter per thing that happened to a job.

A rule decides inside a transaction, and a transaction may roll back and run again, or a fast
path may decide and then find its guard failed and write nothing. So an event is first held
in a list that belongs to the running :meth:`Context.run` call, dropped when the attempt fails
or the caller discards it, and only written out (logged and counted) once the transaction
committed. Outside any ``Context.run`` an event is written at once.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from amtune.observe import metrics

log = logging.getLogger("amtune.events")


@dataclass(frozen=True)
class Event:
    kind: str
    message: str
    fields: dict[str, Any]


_PENDING: ContextVar[list[Event] | None] = ContextVar("amtune_events", default=None)


def record(kind: str, message: str, **fields: Any) -> None:
    event = Event(kind, message, fields)
    pending = _PENDING.get()
    if pending is None:
        _emit(event)
    else:
        pending.append(event)


def mark() -> int:
    """Where the pending list stands now, for :func:`discard_since`."""
    pending = _PENDING.get()
    return len(pending) if pending is not None else 0


def discard_since(position: int) -> None:
    """Forget what was recorded after ``position``: it was decided but not written."""
    pending = _PENDING.get()
    if pending is not None:
        del pending[position:]


def hold() -> tuple[list[Event], Token[list[Event] | None]]:
    """Start holding events (in a list the caller clears when an attempt fails); plain
    functions rather than a context manager, as this runs around every transaction."""
    pending: list[Event] = []
    return pending, _PENDING.set(pending)


def release(token: Token[list[Event] | None]) -> None:
    _PENDING.reset(token)


def committed(pending: list[Event]) -> None:
    """The held events' transaction committed: hand them to an enclosing hold, or write them."""
    outer = _PENDING.get()
    for event in pending:
        if outer is not None:
            outer.append(event)
        else:
            _emit(event)


def _emit(event: Event) -> None:
    _count(event)
    if log.isEnabledFor(logging.INFO):
        log.info(event.message, extra={"fields": {"event": event.kind, **event.fields}})


def _count(event: Event) -> None:
    kind = event.kind
    if kind == "training_job.lease_lapsed":
        metrics.LEASES_LAPSED.inc()
    elif kind == "training_job.retried":
        metrics.RETRIES.inc()
    elif kind == "training_job.stopped_early":
        metrics.EARLY_STOPS.inc()
    elif kind.startswith("training_job.") and "status" in event.fields:
        metrics.TRAINING_JOB_ENDINGS.labels(event.fields["status"]).inc()
    elif kind == "tuning_job.ended":
        metrics.TUNING_JOB_ENDINGS.labels(event.fields["status"]).inc()


# --- the events, named once ---------------------------------------------------------------
def tuning_job_created(account_id: str, name: str, strategy: str) -> None:
    record(
        "tuning_job.created",
        f"tuning job {name} created ({strategy})",
        tuning_job=name,
        account_id=account_id,
        strategy=strategy,
    )


def tuning_job_stopping(account_id: str, name: str) -> None:
    record(
        "tuning_job.stopping",
        f"tuning job {name} is stopping",
        tuning_job=name,
        account_id=account_id,
    )


def tuning_job_ended(account_id: str, name: str, status: str, reason: str) -> None:
    record(
        "tuning_job.ended",
        f"tuning job {name} {status}: {reason}",
        tuning_job=name,
        account_id=account_id,
        status=status,
        reason=reason,
    )


def training_job_claimed(account_id: str, name: str, tuning_job: str, worker_id: str) -> None:
    record(
        "training_job.claimed",
        f"training job {name} claimed by worker {worker_id}",
        training_job=name,
        tuning_job=tuning_job,
        account_id=account_id,
        worker_id=worker_id,
    )


def training_job_ended(account_id: str, name: str, status: str, reason: str | None) -> None:
    kind = {"Completed": "completed", "Failed": "failed", "Stopped": "stopped"}[status]
    record(
        f"training_job.{kind}",
        f"training job {name} {status}" + (f": {reason}" if reason else ""),
        training_job=name,
        account_id=account_id,
        status=status,
        reason=reason,
    )


def training_job_retried(account_id: str, name: str, attempt: int, reason: str) -> None:
    record(
        "training_job.retried",
        f"training job {name} starts attempt {attempt} after: {reason}",
        training_job=name,
        account_id=account_id,
        attempt=attempt,
        reason=reason,
    )


def training_job_lease_lapsed(account_id: str, name: str, worker_id: str | None) -> None:
    record(
        "training_job.lease_lapsed",
        f"training job {name}: worker {worker_id} stopped sending heartbeats",
        training_job=name,
        account_id=account_id,
        worker_id=worker_id,
    )


def training_job_stopped_early(account_id: str, name: str, reason: str) -> None:
    """For the early-stopping rules: the tuner (not a user) told this job to stop."""
    record(
        "training_job.stopped_early",
        f"training job {name} stopped early: {reason}",
        training_job=name,
        account_id=account_id,
        reason=reason,
    )
