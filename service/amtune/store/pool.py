"""The query behind a pool worker's claim: a team's tuning jobs that may hand out work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import ACTIVE


@dataclass(frozen=True)
class PoolCandidate:
    name: str
    created_at: float
    max_parallel: int
    #: Training jobs held by a worker now (a retry waiting for a claim is not running).
    running: int
    #: The stored request, read only when asked for (it is the row's largest column).
    request: dict[str, Any]


def candidates(session: Session, account_id: str, *, with_request: bool) -> Sequence[PoolCandidate]:
    """The account's tuning jobs in progress with their running training jobs, in no order."""
    running = (
        select(func.count())
        .where(
            TrainingJobRow.tuning_job_id == TuningJobRow.id,
            TrainingJobRow.status.in_(ACTIVE),
            TrainingJobRow.worker_id.is_not(None),
        )
        .scalar_subquery()
    )
    request = TuningJobRow.request if with_request else literal(None)
    rows = session.execute(
        select(
            TuningJobRow.name,
            TuningJobRow.created_at,
            TuningJobRow.max_parallel,
            running,
            request,
        ).where(TuningJobRow.account_id == account_id, TuningJobRow.status == "InProgress")
    ).all()
    return [PoolCandidate(row[0], row[1], row[2], int(row[3]), row[4] or {}) for row in rows]
