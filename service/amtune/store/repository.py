"""Queries. The application layer decides; these functions only fetch and lock rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from amtune.store.models import MetricRow, TrainingJobRow, TuningJobRow

ACTIVE = ("InProgress", "Stopping")


def tuning_job(
    session: Session, account_id: str, name: str, *, for_update: bool = False
) -> TuningJobRow | None:
    query = select(TuningJobRow).where(
        TuningJobRow.account_id == account_id, TuningJobRow.name_key == name.lower()
    )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def tuning_job_by_id(session: Session, row_id: int, *, for_update: bool = False) -> TuningJobRow:
    query = select(TuningJobRow).where(TuningJobRow.id == row_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one()


def count_tuning_jobs_in_status(session: Session, account_id: str, statuses: Sequence[str]) -> int:
    query = select(func.count()).where(
        TuningJobRow.account_id == account_id, TuningJobRow.status.in_(statuses)
    )
    return session.scalar(query) or 0


def training_job(
    session: Session, account_id: str, name: str, *, for_update: bool = False
) -> TrainingJobRow | None:
    query = select(TrainingJobRow).where(
        TrainingJobRow.account_id == account_id, TrainingJobRow.name == name
    )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def history(
    session: Session, tuning_job_id: int
) -> list[tuple[str | None, str, dict[str, Any], float | None]]:
    """(definition, status, tuned hyperparameters, objective) of every job, in creation order.

    Only the columns a strategy needs: a claim on a big tuning job must not decode every
    job's definition and transitions.
    """
    query = (
        select(
            TrainingJobRow.definition_name,
            TrainingJobRow.status,
            TrainingJobRow.tuned_hyperparameters,
            TrainingJobRow.objective_value,
        )
        .where(TrainingJobRow.tuning_job_id == tuning_job_id)
        .order_by(TrainingJobRow.seq)
    )
    return [(d, s, dict(t), o) for d, s, t, o in session.execute(query)]


def active_training_jobs(
    session: Session,
    tuning_job_id: int,
    *,
    lapsed_before: float | None = None,
    for_update: bool = False,
) -> Sequence[TrainingJobRow]:
    """Jobs in progress; with ``lapsed_before``, only those whose lease ended before then.

    Locked rows are re-checked against the condition after the lock is granted (PostgreSQL
    READ COMMITTED), so a heartbeat that just extended a lease keeps its job.
    """
    query = select(TrainingJobRow).where(
        TrainingJobRow.tuning_job_id == tuning_job_id, TrainingJobRow.status.in_(ACTIVE)
    )
    if lapsed_before is not None:
        query = query.where(
            TrainingJobRow.lease_expires_at.is_not(None),
            TrainingJobRow.lease_expires_at < lapsed_before,
        )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query.order_by(TrainingJobRow.seq)).all()


def outcomes(session: Session, tuning_job_id: int) -> tuple[int, int, int]:
    """(in progress, ended Failed or Completed, ended with an objective) counts."""
    ended = TrainingJobRow.status.not_in(ACTIVE)
    query = select(
        func.count().filter(TrainingJobRow.status.in_(ACTIVE)),
        func.count().filter(TrainingJobRow.status.in_(("Failed", "Completed"))),
        func.count().filter(ended, TrainingJobRow.objective_value.is_not(None)),
    ).where(TrainingJobRow.tuning_job_id == tuning_job_id)
    active, failed_or_completed, succeeded = session.execute(query).one()
    return int(active), int(failed_or_completed), int(succeeded)


def tuning_jobs_needing_attention(session: Session, now: float) -> Sequence[int]:
    """Ids of live tuning jobs with a lapsed lease or a runtime limit to check."""
    lapsed = select(TrainingJobRow.tuning_job_id).where(
        TrainingJobRow.status.in_(ACTIVE),
        TrainingJobRow.lease_expires_at.is_not(None),
        TrainingJobRow.lease_expires_at < now,
    )
    timed = select(TuningJobRow.id).where(
        TuningJobRow.status.in_(ACTIVE),
        TuningJobRow.max_runtime_seconds.is_not(None),
        TuningJobRow.created_at + TuningJobRow.max_runtime_seconds <= now,
    )
    ids = {row for row in session.scalars(lapsed) if row is not None}
    ids.update(session.scalars(timed))
    return sorted(ids)


def counter_rows(
    session: Session, tuning_job_ids: Iterable[int]
) -> list[tuple[int, str, bool | None, bool, int]]:
    """(tuning_job_id, status, retryable, has_objective, count) groups."""
    ids = list(tuning_job_ids)
    if not ids:
        return []
    has_objective = TrainingJobRow.objective_value.is_not(None)
    query = (
        select(
            TrainingJobRow.tuning_job_id,
            TrainingJobRow.status,
            TrainingJobRow.retryable,
            has_objective,
            func.count(),
        )
        .where(TrainingJobRow.tuning_job_id.in_(ids))
        .group_by(
            TrainingJobRow.tuning_job_id,
            TrainingJobRow.status,
            TrainingJobRow.retryable,
            has_objective,
        )
    )
    return [(int(a or 0), str(b), c, bool(d), int(e)) for a, b, c, d, e in session.execute(query)]


def best_training_job(
    session: Session, tuning_job_id: int, objective_type: str | None
) -> TrainingJobRow | None:
    value = TrainingJobRow.objective_value
    order = value.desc() if objective_type == "Maximize" else value.asc()
    query = (
        select(TrainingJobRow)
        .where(
            TrainingJobRow.tuning_job_id == tuning_job_id,
            value.is_not(None),
            TrainingJobRow.status.not_in(ACTIVE),
        )
        .order_by(order, TrainingJobRow.seq)
        .limit(1)
    )
    return session.scalars(query).first()


def last_metric_values(session: Session, training_job_id: int) -> dict[str, tuple[float, float]]:
    """The latest (value, timestamp) of each metric a training job reported."""
    latest = (
        select(func.max(MetricRow.id))
        .where(MetricRow.training_job_id == training_job_id)
        .group_by(MetricRow.metric_name)
    )
    query = select(MetricRow.metric_name, MetricRow.value, MetricRow.timestamp).where(
        MetricRow.id.in_(latest)
    )
    return {name: (value, ts) for name, value, ts in session.execute(query)}


def page(
    session: Session,
    query: Select[Any],
    sort_column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[int],
    *,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> list[Any]:
    """Keyset paging on (sort value, id): stable while rows are inserted between pages."""
    if after is not None:
        value, row_id = after
        condition: ColumnElement[bool]
        if descending:
            condition = or_(sort_column < value, and_(sort_column == value, id_column < row_id))
        else:
            condition = or_(sort_column > value, and_(sort_column == value, id_column > row_id))
        query = query.where(condition)
    if descending:
        query = query.order_by(sort_column.desc(), id_column.desc())
    else:
        query = query.order_by(sort_column.asc(), id_column.asc())
    return list(session.scalars(query.limit(limit + 1)))
