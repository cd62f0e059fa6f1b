"""Queries of the web console: the columns its plots need, in as few round trips as it can.

Each reads only the columns it uses (never a job's definition or transitions) so that a
tuning job of 10,000 training jobs is one indexed scan of narrow rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amtune.store.models import MetricRow, TrainingJobRow, TuningJobRow


def objective_bounds(
    session: Session, account_id: str, tuning_job_names: Sequence[str]
) -> dict[str, tuple[str | None, float, float]]:
    """Objective type, lowest and highest final objective of each named tuning job."""
    if not tuning_job_names:
        return {}
    rows = session.execute(
        select(
            TuningJobRow.name,
            TuningJobRow.objective_type,
            func.min(TrainingJobRow.objective_value),
            func.max(TrainingJobRow.objective_value),
        )
        .join(TrainingJobRow, TrainingJobRow.tuning_job_id == TuningJobRow.id)
        .where(
            TuningJobRow.account_id == account_id,
            TuningJobRow.name.in_(list(tuning_job_names)),
            TrainingJobRow.objective_value.is_not(None),
            TrainingJobRow.ended_at.is_not(None),
        )
        .group_by(TuningJobRow.name, TuningJobRow.objective_type)
    )
    return {
        name: (kind, low, high)
        for name, kind, low, high in rows
        if low is not None and high is not None
    }


def training_job_points(session: Session, tuning_job_id: int) -> Sequence[Any]:
    """Every training job of a tuning job, narrow (no hyperparameters), in creation order
    (on the connection, as :func:`objective_history`)."""
    return (
        session.connection()
        .execute(
            select(
                TrainingJobRow.id,
                TrainingJobRow.seq,
                TrainingJobRow.name,
                TrainingJobRow.status,
                TrainingJobRow.objective_value,
                TrainingJobRow.created_at,
                TrainingJobRow.started_at,
                TrainingJobRow.ended_at,
                TrainingJobRow.worker_id,
                TrainingJobRow.stop_requested,
            )
            .where(TrainingJobRow.tuning_job_id == tuning_job_id)
            .order_by(TrainingJobRow.seq)
        )
        .all()
    )


def objective_history(session: Session, tuning_job_id: int) -> Sequence[Any]:
    """(status, name, objective, end time) of every training job of a tuning job, in
    creation order: what the objective-over-time plot and the job counts need, in one scan.
    (The objective is in no index: reports change it, and indexing it would cost the worker
    path its in-place row updates.) Run on the connection, not the ORM session: rows of
    plain columns need none of the ORM's loading, which costs a quarter more at 10,000."""
    return (
        session.connection()
        .execute(
            select(
                TrainingJobRow.status,
                TrainingJobRow.name,
                TrainingJobRow.objective_value,
                TrainingJobRow.ended_at,
            )
            .where(TrainingJobRow.tuning_job_id == tuning_job_id)
            .order_by(TrainingJobRow.seq)
        )
        .all()
    )


def hyperparameters_of(session: Session, training_job_ids: Sequence[int]) -> dict[int, Any]:
    """The tuned hyperparameters of the given jobs: decoding them is the costly part of a big
    job's read, so only the jobs a plot shows are read."""
    if not training_job_ids:
        return {}
    rows = session.execute(
        select(TrainingJobRow.id, TrainingJobRow.tuned_hyperparameters).where(
            TrainingJobRow.id.in_(list(training_job_ids))
        )
    )
    return {job_id: hyperparameters for job_id, hyperparameters in rows}


_CURVE_COLUMNS = (
    TrainingJobRow.id,
    TrainingJobRow.name,
    TrainingJobRow.status,
    TrainingJobRow.stop_requested,
)


def best_jobs(
    session: Session, tuning_job_id: int, objective_type: str | None, limit: int
) -> Sequence[Any]:
    """The ``limit`` best ended, not failed, training jobs of a tuning job; on equal objectives
    the lower training-job number first, as Describe's BestTrainingJob breaks the tie."""
    column = TrainingJobRow.objective_value
    return session.execute(
        select(*_CURVE_COLUMNS)
        .where(
            TrainingJobRow.tuning_job_id == tuning_job_id,
            column.is_not(None),
            TrainingJobRow.ended_at.is_not(None),
            TrainingJobRow.status != "Failed",
        )
        .order_by(
            column.desc() if objective_type == "Maximize" else column.asc(), TrainingJobRow.seq
        )
        .limit(limit)
    ).all()


def latest_jobs(session: Session, tuning_job_id: int, limit: int) -> Sequence[Any]:
    return session.execute(
        select(*_CURVE_COLUMNS)
        .where(TrainingJobRow.tuning_job_id == tuning_job_id)
        .order_by(TrainingJobRow.seq.desc())
        .limit(limit)
    ).all()


def metric_points(
    session: Session, training_job_ids: Sequence[int], metric_name: str | None
) -> Sequence[Any]:
    """(job id, metric, step, timestamp, value) of the given jobs, in report order."""
    if not training_job_ids:
        return []
    query = select(
        MetricRow.training_job_id,
        MetricRow.metric_name,
        MetricRow.step,
        MetricRow.timestamp,
        MetricRow.value,
    ).where(MetricRow.training_job_id.in_(list(training_job_ids)))
    if metric_name is not None:
        query = query.where(MetricRow.metric_name == metric_name)
    return session.execute(query.order_by(MetricRow.training_job_id, MetricRow.id)).all()


def metric_names(session: Session, training_job_ids: Sequence[int]) -> list[str]:
    if not training_job_ids:
        return []
    rows = session.scalars(
        select(MetricRow.metric_name)
        .where(MetricRow.training_job_id.in_(list(training_job_ids)))
        .distinct()
    )
    return sorted(rows)
