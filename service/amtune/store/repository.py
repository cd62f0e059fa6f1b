"""Everyday queries: fetch, lock, count and page rows. The application layer decides.

The worker path's one-statement writes, each guarded by a rule of the application layer, are
in :mod:`amtune.store.guarded_writes`.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, defer

from amtune.store.models import MetricRow, TrainingJobRow, TuningJobRow

ACTIVE = ("InProgress", "Stopping")
ENDED_COUNTED = ("Failed", "Completed")


def among(column: Any, statuses: Sequence[str]) -> ColumnElement[bool]:
    """``column IN ('A', 'B')`` with the statuses written into the SQL: the planner can then
    use the partial index on active jobs, and no list parameter is expanded per execution."""
    return cast(ColumnElement[bool], column.in_([literal_column(f"'{s}'") for s in statuses]))


# The tables themselves, for the statements the worker path runs without the ORM.
TRAINING_JOBS = cast(Table, TrainingJobRow.__table__)
TUNING_JOBS = cast(Table, TuningJobRow.__table__)
METRICS = cast(Table, MetricRow.__table__)


class Lock(enum.Enum):
    """Row locks on a tuning job (PostgreSQL; SQLite serialises every writer anyway).

    ``UPDATE`` for anything that may change the tuning job's status; ``CLAIM`` (FOR NO KEY
    UPDATE) serialises claims with each other and with ``UPDATE`` but not with ``KEY_SHARE``,
    which a worker ending a job takes while the tuning job plainly runs on: endings then never
    wait behind claims, yet a Stop (``UPDATE``) waits for them and they for it.
    """

    KEY_SHARE = "key_share"
    CLAIM = "claim"
    UPDATE = "update"


def locked(query: Select[Any], lock: Lock | None) -> Select[Any]:
    if lock is Lock.UPDATE:
        return query.with_for_update()
    if lock is Lock.CLAIM:
        return query.with_for_update(key_share=True)
    if lock is Lock.KEY_SHARE:
        return query.with_for_update(read=True, key_share=True)
    return query


# The queries the worker path reads with are built once, with bound parameters, and reused:
# building a statement cost more CPU than the round trip that runs it.


@functools.cache
def _tuning_job_query(lock: Lock | None, with_request: bool) -> Select[Any]:
    query = select(TuningJobRow).where(
        TuningJobRow.account_id == bindparam("account"),
        TuningJobRow.name_key == bindparam("name_key"),
    )
    if not with_request:
        query = query.options(defer(TuningJobRow.request))
    return locked(query, lock)


def tuning_job(
    session: Session,
    account_id: str,
    name: str,
    *,
    lock: Lock | None = None,
    with_request: bool = True,
) -> TuningJobRow | None:
    """``with_request=False`` leaves the stored request (the biggest column) unread until used."""
    query = _tuning_job_query(lock, with_request)
    params = {"account": account_id, "name_key": name.lower()}
    return session.scalars(query, params).one_or_none()


def tuning_job_by_id(session: Session, row_id: int, *, lock: Lock | None = None) -> TuningJobRow:
    query = select(TuningJobRow).where(TuningJobRow.id == row_id)
    row: TuningJobRow = session.scalars(locked(query, lock)).one()
    return row


def count_tuning_jobs_in_status(session: Session, account_id: str, statuses: Sequence[str]) -> int:
    query = select(func.count()).where(
        TuningJobRow.account_id == account_id, TuningJobRow.status.in_(statuses)
    )
    return session.scalar(query) or 0


@functools.cache
def _training_job_query(for_update: bool) -> Select[Any]:
    query = select(TrainingJobRow).where(
        TrainingJobRow.account_id == bindparam("account"),
        TrainingJobRow.name == bindparam("name"),
    )
    return query.with_for_update() if for_update else query


def training_job(
    session: Session, account_id: str, name: str, *, for_update: bool = False
) -> TrainingJobRow | None:
    params = {"account": account_id, "name": name}
    return session.scalars(_training_job_query(for_update), params).one_or_none()


def history(
    session: Session, tuning_job_id: int
) -> list[tuple[str | None, str, dict[str, Any], float | None, int]]:
    """(definition, status, tuned hyperparameters, objective, seq) of every job, in creation
    order.

    Only the columns a strategy needs: a claim on a big tuning job must not decode every
    job's definition and transitions.
    """
    query = (
        select(
            TrainingJobRow.definition_name,
            TrainingJobRow.status,
            TrainingJobRow.tuned_hyperparameters,
            TrainingJobRow.objective_value,
            TrainingJobRow.seq,
        )
        .where(TrainingJobRow.tuning_job_id == tuning_job_id)
        .order_by(TrainingJobRow.seq)
    )
    return [(d, s, dict(t), o, n) for d, s, t, o, n in session.execute(query)]


def completion_rows(
    session: Session, tuning_job_id: int
) -> list[tuple[int, str, float | None, float | None, float | None]]:
    """(seq, status, objective, ended at, expected improvement) of every job, by number: what
    the completion criteria read (``app/completion.py``)."""
    query = (
        select(
            TrainingJobRow.seq,
            TrainingJobRow.status,
            TrainingJobRow.objective_value,
            TrainingJobRow.ended_at,
            TrainingJobRow.expected_improvement,
        )
        .where(TrainingJobRow.tuning_job_id == tuning_job_id)
        .order_by(TrainingJobRow.seq)
    )
    return [(int(a), str(b), c, d, e) for a, b, c, d, e in session.execute(query)]


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
        TrainingJobRow.tuning_job_id == tuning_job_id, among(TrainingJobRow.status, ACTIVE)
    )
    if lapsed_before is not None:
        query = query.where(
            TrainingJobRow.lease_expires_at.is_not(None),
            TrainingJobRow.lease_expires_at < lapsed_before,
        )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query.order_by(TrainingJobRow.seq)).all()


@dataclass(frozen=True)
class Progress:
    """Where a tuning job's training jobs stand, in one statement whose cost does not grow
    with the jobs that have ended: it counts the active ones (a partial index) and looks at
    the ended ones only until one has succeeded."""

    active: int
    #: Active, handed to no worker and not told to stop: a retry waiting for a claim.
    awaiting_retry: int
    #: Active with a lease that ended before ``now``.
    lapsed: int
    #: Whether any job ended with an objective value.
    any_succeeded: bool
    #: Jobs ended Failed or Completed: exact while none has succeeded, 0 after, which is all
    #: AMT's first-failures rule needs.
    failed_or_completed: int


def _progress_columns(mine: ColumnElement[bool]) -> list[Any]:
    """The five counts of :class:`Progress` for the training jobs ``mine`` selects."""
    job = TRAINING_JOBS.c
    now = bindparam("now", type_=Float)
    active = among(job.status, ACTIVE)

    def count(*conditions: ColumnElement[bool]) -> Any:
        return select(func.count()).where(mine, *conditions).scalar_subquery()

    succeeded = exists().where(mine, ~active, job.objective_value.is_not(None))
    # Counted only while nothing has succeeded, when the first-failures rule can apply and
    # the count is small; otherwise it would read every ended job.
    unsuccessful = case((succeeded, 0), else_=count(among(job.status, ENDED_COUNTED)))
    return [
        count(active),
        count(active, job.worker_id.is_(None), job.stop_requested.is_(False)),
        count(active, job.lease_expires_at.is_not(None), job.lease_expires_at < now),
        succeeded,
        unsuccessful,
    ]


def _progress_of(counts: Sequence[Any]) -> Progress:
    active, awaiting, lapsed, succeeded, unsuccessful = counts
    return Progress(int(active), int(awaiting), int(lapsed), bool(succeeded), int(unsuccessful))


_PROGRESS = select(
    *_progress_columns(TRAINING_JOBS.c.tuning_job_id == bindparam("tuning_job_id", type_=Integer))
)


def progress(session: Session, tuning_job_id: int, now: float) -> Progress:
    params = {"tuning_job_id": tuning_job_id, "now": now}
    return _progress_of(session.connection().execute(_PROGRESS, params).one())


_TUNING_WITH_PROGRESS = (
    select(TuningJobRow, *_progress_columns(TRAINING_JOBS.c.tuning_job_id == TuningJobRow.id))
    .where(
        TuningJobRow.account_id == bindparam("account"),
        TuningJobRow.name_key == bindparam("name_key"),
    )
    .options(defer(TuningJobRow.request))
)


def tuning_job_with_progress(
    session: Session, account_id: str, name: str, now: float
) -> tuple[TuningJobRow, Progress] | None:
    """A tuning job (request unread) and its :class:`Progress`, unlocked, in one statement."""
    params = {"account": account_id, "name_key": name.lower(), "now": now}
    row = session.execute(_TUNING_WITH_PROGRESS, params).first()
    if row is None:
        return None
    return row[0], _progress_of(row[1:])


def awaiting_retry(session: Session, tuning_job_id: int) -> TrainingJobRow | None:
    """The oldest job waiting to be handed out again, locked."""
    query = (
        select(TrainingJobRow)
        .where(
            TrainingJobRow.tuning_job_id == tuning_job_id,
            among(TrainingJobRow.status, ACTIVE),
            TrainingJobRow.worker_id.is_(None),
            TrainingJobRow.stop_requested.is_(False),
        )
        .order_by(TrainingJobRow.seq)
        .limit(1)
        .with_for_update()
    )
    return session.scalars(query).first()


def metric_row(
    job_id: int, metric: str, value: float, timestamp: float, step: int | None
) -> dict[str, Any]:
    return {
        "training_job_id": job_id,
        "metric_name": metric,
        "value": value,
        "timestamp": timestamp,
        "step": step,
    }


_INSERT_METRICS = insert(METRICS)


def add_metrics(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.connection().execute(_INSERT_METRICS, list(rows))


def tuning_jobs_needing_attention(session: Session, now: float) -> Sequence[int]:
    """Ids of live tuning jobs with a lapsed lease or a runtime limit to check."""
    lapsed = select(TrainingJobRow.tuning_job_id).where(
        among(TrainingJobRow.status, ACTIVE),
        TrainingJobRow.lease_expires_at.is_not(None),
        TrainingJobRow.lease_expires_at < now,
    )
    timed = select(TuningJobRow.id).where(
        among(TuningJobRow.status, ACTIVE),
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
            ~among(TrainingJobRow.status, ACTIVE),
        )
        .order_by(order, TrainingJobRow.seq)
        .limit(1)
    )
    return session.scalars(query).first()


def _last_metrics_query() -> Select[Any]:
    metric = METRICS.c
    latest = (
        select(func.max(metric.id))
        .where(metric.training_job_id == bindparam("training_job_id"))
        .group_by(metric.metric_name)
    )
    return select(metric.metric_name, metric.value, metric.timestamp).where(metric.id.in_(latest))


_LAST_METRICS = _last_metrics_query()


def last_metric_values(session: Session, training_job_id: int) -> dict[str, tuple[float, float]]:
    """The latest (value, timestamp) of each metric a training job reported."""
    rows = session.connection().execute(_LAST_METRICS, {"training_job_id": training_job_id})
    return {name: (value, ts) for name, value, ts in rows}


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


def last_step_of(job_id: Any, metric_name: Any) -> Any:
    """The step of a job's latest stepped point of one metric (NULL if it has none).

    Steps never go back within a metric, so the latest stepped point carries the largest
    step; the (job, metric, id) index finds it by reading backwards from the newest point.
    """
    metric = METRICS.c
    return (
        select(metric.step)
        .where(
            metric.training_job_id == job_id,
            metric.metric_name == metric_name,
            metric.step.is_not(None),
        )
        .order_by(metric.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def last_steps(session: Session, training_job_id: int, names: Iterable[str]) -> dict[str, int]:
    """The last stored step of each named metric of a job that has one."""
    found: dict[str, int] = {}
    for name in set(names):
        step = session.scalar(select(last_step_of(training_job_id, name)))
        if step is not None:
            found[name] = int(step)
    return found


def objective_curves(
    session: Session, tuning_job_id: int
) -> dict[int, tuple[str | None, list[tuple[float, float]]]]:
    """Each training job's definition and stepped points of its own objective metric, by job
    number (seq); jobs that reported no stepped objective are absent.

    Points come in the order they were stored, which is step order (steps never go back
    within a metric). Points without a step cannot be placed on a curve and are left out.
    """
    job, metric = TRAINING_JOBS.c, METRICS.c
    query = (
        select(job.seq, job.definition_name, metric.step, metric.value)
        .select_from(
            TRAINING_JOBS.join(
                METRICS,
                and_(
                    metric.training_job_id == job.id,
                    metric.metric_name == job.objective_metric,
                ),
            )
        )
        .where(job.tuning_job_id == tuning_job_id, metric.step.is_not(None))
        .order_by(job.seq, metric.id)
    )
    curves: dict[int, tuple[str | None, list[tuple[float, float]]]] = {}
    for seq, definition, step, value in session.connection().execute(query):
        curves.setdefault(int(seq), (definition, []))[1].append((float(step), float(value)))
    return curves


def delete_metrics(session: Session, training_job_id: int) -> None:
    """Forget a job's reported points (a retry starts its learning curve again)."""
    session.connection().execute(
        METRICS.delete().where(METRICS.c.training_job_id == training_job_id)
    )


def training_job_by_id(
    session: Session, job_id: int, *, for_update: bool = False
) -> TrainingJobRow:
    query = select(TrainingJobRow).where(TrainingJobRow.id == job_id)
    row: TrainingJobRow = session.scalars(query.with_for_update() if for_update else query).one()
    return row
