"""Queries. The application layer decides; these functions only fetch and lock rows."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Float,
    Insert,
    Integer,
    Select,
    Table,
    Text,
    Update,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute, Session, defer

from amtune.store.models import MetricRow, TrainingJobRow, TuningJobRow

ACTIVE = ("InProgress", "Stopping")
ENDED_COUNTED = ("Failed", "Completed")


def _among(column: Any, statuses: Sequence[str]) -> ColumnElement[bool]:
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


def _locked(query: Select[Any], lock: Lock | None) -> Select[Any]:
    if lock is Lock.UPDATE:
        return query.with_for_update()
    if lock is Lock.CLAIM:
        return query.with_for_update(key_share=True)
    if lock is Lock.KEY_SHARE:
        return query.with_for_update(read=True, key_share=True)
    return query


# The worker path's queries are built once, with bound parameters, and reused: building a
# statement cost more CPU than the round trip that runs it.


@functools.cache
def _tuning_job_query(lock: Lock | None, with_request: bool) -> Select[Any]:
    query = select(TuningJobRow).where(
        TuningJobRow.account_id == bindparam("account"),
        TuningJobRow.name_key == bindparam("name_key"),
    )
    if not with_request:
        query = query.options(defer(TuningJobRow.request))
    return _locked(query, lock)


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
    row: TuningJobRow = session.scalars(_locked(query, lock)).one()
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
        TrainingJobRow.tuning_job_id == tuning_job_id, _among(TrainingJobRow.status, ACTIVE)
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
    active = _among(job.status, ACTIVE)

    def count(*conditions: ColumnElement[bool]) -> Any:
        return select(func.count()).where(mine, *conditions).scalar_subquery()

    succeeded = exists().where(mine, ~active, job.objective_value.is_not(None))
    # Counted only while nothing has succeeded, when the first-failures rule can apply and
    # the count is small; otherwise it would read every ended job.
    unsuccessful = case((succeeded, 0), else_=count(_among(job.status, ENDED_COUNTED)))
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


_TAKE_JOB_NUMBER = (
    update(TuningJobRow)
    .where(
        TuningJobRow.id == bindparam("tuning_job_id"),
        TuningJobRow.status == literal_column("'InProgress'"),
        TuningJobRow.created_count == bindparam("seq") - 1,
    )
    .values(created_count=bindparam("seq"), last_modified_at=bindparam("now"))
)


def insert_if_number_free(session: Session, job: TrainingJobRow) -> bool:
    """Insert a new training job (not added to the session) if no other claim took its
    number first.

    The number is taken by a conditional UPDATE of the tuning job (still in progress, count
    one below the job's ``seq``); PostgreSQL re-checks the condition once a concurrent holder
    of the row commits, so of two claims that read the same count one wins. On PostgreSQL the
    UPDATE feeds the INSERT in one statement, run in autocommit; SQLite runs the two in its
    transaction.
    """
    values = {c.key: getattr(job, c.key) for c in TRAINING_JOBS.columns if c.key != "id"}
    params = {"tuning_job_id": job.tuning_job_id, "seq": job.seq, "now": job.created_at}
    if session.get_bind().dialect.name != "postgresql":
        if session.connection().execute(_TAKE_JOB_NUMBER, params).rowcount != 1:
            return False
        session.connection().execute(insert(TRAINING_JOBS), values)
        return True
    params.update({f"j_{column}": value for column, value in values.items()})
    statement = _numbered_insert(tuple(values))
    return session.connection().execute(statement, params).first() is not None


@functools.cache
def _numbered_insert(columns: tuple[str, ...]) -> Insert:
    taken = _TAKE_JOB_NUMBER.returning(TuningJobRow.id).cte("taken")
    values = [bindparam(f"j_{c}", type_=TRAINING_JOBS.c[c].type) for c in columns]
    return (
        insert(TRAINING_JOBS)
        .from_select(list(columns), select(*values).select_from(taken))
        .add_cte(taken)
        .returning(TRAINING_JOBS.c.id)
    )


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


# What ending a job reads and writes: the columns ``lifecycle.end_training_job`` and the
# completion set, and the job fields its held check and its guard compare.
_JOB_SEEN = (
    "id", "tuning_job_id", "status", "secondary_status", "worker_id", "lease_expires_at",
    "stop_requested", "objective_metric", "objective_value", "transitions", "last_modified_at",
)  # fmt: skip
_TUNING_SEEN = (
    "status", "created_count", "max_jobs", "max_runtime_seconds", "created_at",
    "completion_criteria",
)  # fmt: skip
ENDING_COLUMNS = (
    "status", "secondary_status", "transitions", "final_metrics", "objective_value",
    "failure_reason", "retryable", "lease_expires_at", "ended_at", "last_modified_at",
)  # fmt: skip
_GUARDED = ("status", "worker_id", "lease_expires_at", "last_modified_at")

_JOB_AND_TUNING = (
    select(
        *(TRAINING_JOBS.c[c] for c in _JOB_SEEN),
        *(TUNING_JOBS.c[c].label(f"t_{c}") for c in _TUNING_SEEN),
    )
    .select_from(TRAINING_JOBS.join(TUNING_JOBS, TUNING_JOBS.c.id == TRAINING_JOBS.c.tuning_job_id))
    .where(
        TRAINING_JOBS.c.account_id == bindparam("account"),
        TRAINING_JOBS.c.name == bindparam("name"),
    )
)


def job_and_tuning_unlocked(
    session: Session, account_id: str, name: str
) -> tuple[TrainingJobRow, TuningJobRow] | None:
    """A training job and its tuning job as read now, unlocked, as detached copies.

    The copies belong to no session: the application layer may apply its rules to them, and
    :func:`end_if_unchanged` writes the result only if the job was not touched meanwhile.
    None for a job with no tuning job (deleted) or no such job.
    """
    row = session.connection().execute(_JOB_AND_TUNING, {"account": account_id, "name": name})
    found = row.first()
    if found is None:
        return None
    values = found._mapping
    job = TrainingJobRow(**{c: values[c] for c in _JOB_SEEN})
    tuning = TuningJobRow(id=values["tuning_job_id"], **{c: values[f"t_{c}"] for c in _TUNING_SEEN})
    return job, tuning


def _guarded_ending() -> Update:
    job = TRAINING_JOBS.c
    # On PostgreSQL the share lock waits for a Stop or a settle holding the tuning job (FOR
    # UPDATE), then re-reads its status: the same ordering as the locked path, which takes this
    # lock first. SQLite renders no lock (its writers are serialised anyway).
    runs = _locked(
        select(TUNING_JOBS.c.id).where(
            TUNING_JOBS.c.id == job.tuning_job_id,
            TUNING_JOBS.c.status == literal_column("'InProgress'"),
        ),
        Lock.KEY_SHARE,
    )
    return (
        update(TRAINING_JOBS)
        .where(
            job.id == bindparam("g_id"),
            job.stop_requested.is_(False),
            *(job[c] == bindparam(f"g_{c}") for c in _GUARDED),
            exists(runs),
        )
        .values({c: bindparam(f"v_{c}") for c in ENDING_COLUMNS})
        .returning(job.id)
    )


_GUARDED_ENDING = _guarded_ending()


def end_if_unchanged(session: Session, job: TrainingJobRow, seen: Mapping[str, Any]) -> bool:
    """Write a job's ending (its :data:`ENDING_COLUMNS`) in one statement, only if the job is
    as ``seen`` (status, worker, lease, last change: any report or heartbeat moves one) and its
    tuning job is still in progress. False: nothing was written."""
    params = {"g_id": job.id, **{f"g_{c}": seen[c] for c in _GUARDED}}
    params.update({f"v_{c}": getattr(job, c) for c in ENDING_COLUMNS})
    return session.connection().execute(_GUARDED_ENDING, params).first() is not None


def guard_of(job: TrainingJobRow) -> dict[str, Any]:
    """The values :func:`end_if_unchanged` compares, taken before the job is changed."""
    return {c: getattr(job, c) for c in _GUARDED}


def awaiting_retry(session: Session, tuning_job_id: int) -> TrainingJobRow | None:
    """The oldest job waiting to be handed out again, locked."""
    query = (
        select(TrainingJobRow)
        .where(
            TrainingJobRow.tuning_job_id == tuning_job_id,
            _among(TrainingJobRow.status, ACTIVE),
            TrainingJobRow.worker_id.is_(None),
            TrainingJobRow.stop_requested.is_(False),
        )
        .order_by(TrainingJobRow.seq)
        .limit(1)
        .with_for_update()
    )
    return session.scalars(query).first()


@functools.cache
def _held_update(columns: tuple[str, ...], by_worker: bool, objectives: int) -> Update:
    """The statement of :func:`update_if_held`, built once per shape and then reused.

    A metric report runs it on every call; building and ORM-executing it each time cost
    more CPU than the round trip it makes.
    """
    job = TRAINING_JOBS.c
    conditions = [
        job.account_id == bindparam("h_account"),
        job.name == bindparam("h_name"),
        _among(job.status, ACTIVE),
        job.worker_id.is_not(None),
        job.lease_expires_at >= bindparam("h_now"),
    ]
    if by_worker:
        conditions.append(job.worker_id == bindparam("h_worker"))
    changes: dict[str, Any] = {column: bindparam(f"v_{column}") for column in columns}
    if objectives:
        changes["objective_value"] = case(
            *(
                (job.objective_metric == bindparam(f"o_name{i}"), bindparam(f"o_value{i}"))
                for i in range(objectives)
            ),
            else_=job.objective_value,
        )
    return (
        update(TRAINING_JOBS)
        .where(*conditions)
        .values(changes)
        .returning(job.id, job.stop_requested)
    )


def _held_params(
    account_id: str,
    name: str,
    worker_id: str | None,
    now: float,
    values: Mapping[str, Any],
    objectives: Sequence[tuple[str, float]],
) -> dict[str, Any]:
    params: dict[str, Any] = {"h_account": account_id, "h_name": name, "h_now": now}
    if worker_id is not None:
        params["h_worker"] = worker_id
    params.update({f"v_{column}": value for column, value in values.items()})
    for i, (metric, value) in enumerate(objectives):
        params[f"o_name{i}"] = metric
        params[f"o_value{i}"] = value
    return params


def update_if_held(
    session: Session,
    account_id: str,
    name: str,
    *,
    worker_id: str | None,
    now: float,
    values: Mapping[str, Any],
    objective_from: Mapping[str, float] | None = None,
) -> tuple[int, bool] | None:
    """Update a training job in one statement, only while a worker plainly holds it.

    Held means what ``app.reports`` means by it: in progress or stopping, handed to a worker
    (to ``worker_id`` when given), lease not yet lapsed at ``now``. ``objective_from`` maps
    metric names to values; the one named by the job's objective metric becomes its
    objective value. Returns (id, stop_requested), or None when the job is not held.
    """
    objectives = list((objective_from or {}).items())
    statement = _held_update(tuple(values), worker_id is not None, len(objectives))
    params = _held_params(account_id, name, worker_id, now, values, objectives)
    row = session.connection().execute(statement, params).first()
    return None if row is None else (int(row[0]), bool(row[1]))


def report_if_held(
    session: Session,
    account_id: str,
    name: str,
    *,
    worker_id: str | None,
    now: float,
    lease_until: float,
    metrics: Sequence[tuple[str, float, float, int | None]],
) -> tuple[int, bool] | None:
    """A metric report on a held job: its lease and objective moved, its metrics added.

    On PostgreSQL that is one statement (the update as a data-modifying CTE feeding the
    insert from unnested arrays), so the report costs one round trip in autocommit instead
    of four; SQLite runs the update and the insert in its transaction.
    """
    values = {"lease_expires_at": lease_until, "last_modified_at": now}
    objective_from = {metric: value for metric, value, _, _ in metrics}
    if session.get_bind().dialect.name != "postgresql" or not metrics:
        held = update_if_held(
            session,
            account_id,
            name,
            worker_id=worker_id,
            now=now,
            values=values,
            objective_from=objective_from,
        )
        if held is not None:
            add_metrics(session, [metric_row(held[0], *m) for m in metrics])
        return held
    objectives = list(objective_from.items())
    params = _held_params(account_id, name, worker_id, now, values, objectives)
    params.update(
        m_names=[m[0] for m in metrics],
        m_values=[m[1] for m in metrics],
        m_stamps=[m[2] for m in metrics],
        m_steps=[m[3] for m in metrics],
    )
    statement = _report_statement(tuple(values), worker_id is not None, len(objectives))
    row = session.connection().execute(statement, params).first()
    return None if row is None else (int(row[0]), bool(row[1]))


@functools.cache
def _report_statement(columns: tuple[str, ...], by_worker: bool, objectives: int) -> Select[Any]:
    held = _held_update(columns, by_worker, objectives).cte("held")
    reported = (
        func.unnest(
            bindparam("m_names", type_=postgresql.ARRAY(Text)),
            bindparam("m_values", type_=postgresql.ARRAY(Float)),
            bindparam("m_stamps", type_=postgresql.ARRAY(Float)),
            bindparam("m_steps", type_=postgresql.ARRAY(Integer)),
        )
        .table_valued("name", "value", "ts", "step")
        .render_derived()
    )
    added = insert(METRICS).from_select(
        ["training_job_id", "metric_name", "value", "timestamp", "step"],
        select(held.c.id, reported.c.name, reported.c.value, reported.c.ts, reported.c.step)
        .select_from(held)
        .join(reported, true()),
    )
    return select(held.c.id, held.c.stop_requested).add_cte(added.cte("added"))


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
        _among(TrainingJobRow.status, ACTIVE),
        TrainingJobRow.lease_expires_at.is_not(None),
        TrainingJobRow.lease_expires_at < now,
    )
    timed = select(TuningJobRow.id).where(
        _among(TuningJobRow.status, ACTIVE),
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
            ~_among(TrainingJobRow.status, ACTIVE),
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
