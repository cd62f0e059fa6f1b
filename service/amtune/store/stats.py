"""Whole-service counts for operators: jobs by status, over every account."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amtune.store.models import TrainingJobRow, TuningJobRow


def training_jobs_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(TrainingJobRow.status, func.count()).group_by(TrainingJobRow.status)
    )
    return {status: count for status, count in rows}


def tuning_jobs_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(TuningJobRow.status, func.count()).group_by(TuningJobRow.status))
    return {status: count for status, count in rows}
