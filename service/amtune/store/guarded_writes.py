"""The worker path's guarded statements: one-statement writes that check a rule as they write.

The hot worker calls (a claim of a cheap strategy, a heartbeat, a metric report, a plain
completion) each write with a single statement whose WHERE clause restates a rule of the
application layer, so that they need no transaction and no row lock of the tuning job:

* :func:`update_if_held` and :func:`report_if_held`: the "held" rule of
  :func:`amtune.app.leases.held` and the metric cap of :func:`amtune.app.leases.has_room`;
* :func:`end_if_unchanged`: an ending decided on a copy read earlier, written only if the job
  is still as read and its tuning job still in progress;
* :func:`insert_if_number_free`: a new job inserted only if no other claim took its number.

A statement that finds its rule false writes nothing and the caller takes the locked path,
which applies the rule in Python. ``tests/store/test_guarded_rules.py`` checks over generated
job states that each statement and its Python rule agree, on SQLite and PostgreSQL. The
statements are built once with bound parameters and reused: building one cost more CPU than
the round trip that runs it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    Float,
    Insert,
    Integer,
    Select,
    Text,
    Update,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import (
    ACTIVE,
    METRICS,
    TRAINING_JOBS,
    TUNING_JOBS,
    Lock,
    add_metrics,
    among,
    last_step_of,
    locked,
    metric_row,
)

_TAKE_JOB_NUMBER = (
    update(TuningJobRow)
    .where(
        TuningJobRow.id == bindparam("tuning_job_id"),
        TuningJobRow.status == literal_column("'InProgress'"),
        TuningJobRow.created_count == bindparam("seq") - 1,
    )
    .values(created_count=bindparam("seq"), last_modified_at=bindparam("now"))
)


#: The model's Python-side scalar defaults, which a statement built from the row's attributes
#: would otherwise skip (an unset attribute reads None).
_DEFAULTS = {
    c.key: c.default.arg
    for c in TRAINING_JOBS.columns
    if isinstance(c.default, ScalarElementColumnDefault)
}


def insert_if_number_free(session: Session, job: TrainingJobRow) -> bool:
    """Insert a new training job (not added to the session) if no other claim took its
    number first. Columns the job leaves unset get the model's defaults, as ``session.add``
    would give them.

    The number is taken by a conditional UPDATE of the tuning job (still in progress, count
    one below the job's ``seq``); PostgreSQL re-checks the condition once a concurrent holder
    of the row commits, so of two claims that read the same count one wins. On PostgreSQL the
    UPDATE feeds the INSERT in one statement, run in autocommit; SQLite runs the two in its
    transaction.
    """
    values = {c.key: getattr(job, c.key) for c in TRAINING_JOBS.columns if c.key != "id"}
    values.update({key: arg for key, arg in _DEFAULTS.items() if values[key] is None})
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


# What ending a job reads and writes: the columns ``lifecycle.end_training_job`` and the
# completion set, and the job fields its held check and its guard compare.
_JOB_SEEN = (
    "id", "tuning_job_id", "status", "secondary_status", "worker_id", "lease_token_hash",
    "lease_expires_at", "stop_requested", "objective_metric", "objective_value", "transitions",
    "last_modified_at", "metric_count",
)  # fmt: skip
_TUNING_SEEN = (
    "status", "created_count", "max_jobs", "max_runtime_seconds", "created_at",
    "completion_criteria",
)  # fmt: skip
ENDING_COLUMNS = (
    "status", "secondary_status", "transitions", "final_metrics", "objective_value",
    "failure_reason", "retryable", "lease_expires_at", "ended_at", "last_modified_at",
)  # fmt: skip
_GUARDED = ("status", "worker_id", "lease_token_hash", "lease_expires_at", "last_modified_at")

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
    runs = locked(
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
            # NULL as read must still be NULL: "=" would never match it.
            *(job[c].is_not_distinct_from(bindparam(f"g_{c}")) for c in _GUARDED),
            exists(runs),
        )
        .values({c: bindparam(f"v_{c}") for c in ENDING_COLUMNS})
        .returning(job.id)
    )


_GUARDED_ENDING = _guarded_ending()


def end_if_unchanged(session: Session, job: TrainingJobRow, seen: Mapping[str, Any]) -> bool:
    """Write a job's ending (its :data:`ENDING_COLUMNS`) in one statement, only if the job is
    as ``seen`` (status, worker, lease token and expiry, last change: any report, heartbeat
    or re-issue moves one) and its
    tuning job is still in progress. False: nothing was written."""
    params = {"g_id": job.id, **{f"g_{c}": seen[c] for c in _GUARDED}}
    params.update({f"v_{c}": getattr(job, c) for c in ENDING_COLUMNS})
    return session.connection().execute(_GUARDED_ENDING, params).first() is not None


def guard_of(job: TrainingJobRow) -> dict[str, Any]:
    """The values :func:`end_if_unchanged` compares, taken before the job is changed."""
    return {c: getattr(job, c) for c in _GUARDED}


class Held(NamedTuple):
    """What a held update returns: enough for the caller to judge the report afterwards."""

    id: int
    stop_requested: bool
    tuning_job_id: int | None
    seq: int
    objective_metric: str | None
    stopping_rule: str | None


_HELD_COLUMNS = (
    "id",
    "stop_requested",
    "tuning_job_id",
    "seq",
    "objective_metric",
    "stopping_rule",
)


@functools.cache
def _held_update(columns: tuple[str, ...], objectives: int, counted: bool, stepped: int) -> Update:
    """The statement of :func:`update_if_held`, built once per shape and then reused.

    Its WHERE clause is :func:`amtune.app.leases.held` (and, when it stores metric points,
    :func:`amtune.app.leases.has_room`) in SQL. A metric report runs it on every call.
    ``stepped`` metrics (``s_name{i}``, ``s_step{i}``) must not go back in steps: the update
    happens only if each one's first step in the report is at least the last step stored for
    that metric.
    """
    job = TRAINING_JOBS.c
    conditions = [
        job.account_id == bindparam("h_account"),
        job.name == bindparam("h_name"),
        among(job.status, ACTIVE),
        job.worker_id.is_not(None),
        job.lease_token_hash == bindparam("h_token"),
        job.lease_expires_at >= bindparam("h_now"),
    ]
    for i in range(stepped):
        last = last_step_of(job.id, bindparam(f"s_name{i}", type_=Text))
        conditions.append(func.coalesce(last, -1) <= bindparam(f"s_step{i}", type_=Integer))
    changes: dict[str, Any] = {column: bindparam(f"v_{column}") for column in columns}
    if counted:
        conditions.append(job.metric_count <= bindparam("h_room", type_=Integer))
        changes["metric_count"] = job.metric_count + bindparam("h_added", type_=Integer)
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
        .returning(*(job[c] for c in _HELD_COLUMNS))
    )


def _held(row: Any) -> Held | None:
    if row is None:
        return None
    return Held(int(row[0]), bool(row[1]), row[2], int(row[3]), row[4], row[5])


def _held_params(
    account_id: str,
    name: str,
    token_hash: str,
    now: float,
    values: Mapping[str, Any],
    objectives: Sequence[tuple[str, float]],
    added: int,
    max_points: int,
    first_steps: Sequence[tuple[str, int]] = (),
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "h_account": account_id,
        "h_name": name,
        "h_token": token_hash,
        "h_now": now,
    }
    if added:
        params["h_added"] = added
        params["h_room"] = max_points - added
    params.update({f"v_{column}": value for column, value in values.items()})
    for i, (metric, value) in enumerate(objectives):
        params[f"o_name{i}"] = metric
        params[f"o_value{i}"] = value
    for i, (metric, step) in enumerate(first_steps):
        params[f"s_name{i}"] = metric
        params[f"s_step{i}"] = step
    return params


def first_steps(metrics: Sequence[tuple[str, float, float, int | None]]) -> list[tuple[str, int]]:
    """Each metric's first step in a report: what must not be below its stored last step."""
    first: dict[str, int] = {}
    for metric, _value, _timestamp, step in metrics:
        if step is not None and metric not in first:
            first[metric] = step
    return list(first.items())


def update_if_held(
    session: Session,
    account_id: str,
    name: str,
    *,
    token_hash: str,
    now: float,
    values: Mapping[str, Any],
    objective_from: Mapping[str, float] | None = None,
    added_points: int = 0,
    max_points: int = 0,
    steps_from: Sequence[tuple[str, int]] = (),
) -> Held | None:
    """Update a training job in one statement, only while the lease ``token_hash`` holds it.

    Held means :func:`amtune.app.leases.held`: in progress or stopping, handed to a worker
    whose lease token has this digest, lease not yet lapsed at ``now``. With
    ``added_points``, the job's metric count must leave room for them under ``max_points``
    and grows by them. ``objective_from`` maps metric names to values; the one named by the
    job's objective metric becomes its objective value. ``steps_from`` (metric, step) pairs
    must each be at least the metric's last stored step. Returns the :class:`Held` job, or
    None when nothing was written.
    """
    objectives = list((objective_from or {}).items())
    statement = _held_update(tuple(values), len(objectives), added_points > 0, len(steps_from))
    params = _held_params(
        account_id, name, token_hash, now, values, objectives, added_points, max_points, steps_from
    )
    return _held(session.connection().execute(statement, params).first())


def report_if_held(
    session: Session,
    account_id: str,
    name: str,
    *,
    token_hash: str,
    now: float,
    lease_until: float,
    metrics: Sequence[tuple[str, float, float, int | None]],
    max_points: int,
) -> Held | None:
    """A metric report on a held job with room for its points: lease and objective moved,
    count raised, metrics added.

    On PostgreSQL that is one statement (the update as a data-modifying CTE feeding the
    insert from unnested arrays), so the report costs one round trip in autocommit instead
    of four; SQLite runs the update and the insert in its transaction. Nothing happens (None)
    when the job is not held, has no room, or a metric's first step in the report is below its
    stored last step; the caller tells these apart on its slow path.
    """
    values = {"lease_expires_at": lease_until, "last_modified_at": now}
    objective_from = {metric: value for metric, value, _, _ in metrics}
    steps = first_steps(metrics)
    if session.get_bind().dialect.name != "postgresql" or not metrics:
        held = update_if_held(
            session,
            account_id,
            name,
            token_hash=token_hash,
            now=now,
            values=values,
            objective_from=objective_from,
            added_points=len(metrics),
            max_points=max_points,
            steps_from=steps,
        )
        if held is not None:
            add_metrics(session, [metric_row(held.id, *m) for m in metrics])
        return held
    objectives = list(objective_from.items())
    params = _held_params(
        account_id, name, token_hash, now, values, objectives, len(metrics), max_points, steps
    )
    params.update(
        m_names=[m[0] for m in metrics],
        m_values=[m[1] for m in metrics],
        m_stamps=[m[2] for m in metrics],
        m_steps=[m[3] for m in metrics],
    )
    statement = _report_statement(tuple(values), len(objectives), len(steps))
    return _held(session.connection().execute(statement, params).first())


@functools.cache
def _report_statement(columns: tuple[str, ...], objectives: int, stepped: int) -> Select[Any]:
    held = _held_update(columns, objectives, True, stepped).cte("held")
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
    return select(*(held.c[c] for c in _HELD_COLUMNS)).add_cte(added.cte("added"))
