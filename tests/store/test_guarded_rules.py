"""The worker path's one-statement writes decide exactly as the rules they restate in SQL.

A heartbeat or metric report is written by one guarded UPDATE only while
:func:`amtune.app.leases.held`, :func:`amtune.app.leases.has_room` and, for metric steps,
:func:`amtune.app.reports.check_steps` say so; a plain
completion by one guarded UPDATE only while the job is as it was read, not told to stop, and
its tuning job in progress. Were the SQL and the Python to disagree, a worker would be refused
by one path and let through by the other. Over generated job states (status, worker, stored
and presented token, lease expiry around now, metric count and cap, stop flag, tuning job
status), each statement and its rule agree, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amtune.app import leases, reports
from amtune.app.claims import Claim
from amtune.app.errors import ValidationError
from amtune.app.service import Tuner
from amtune.store import guarded_writes, repository
from amtune.store.models import MetricRow, TrainingJobRow, TuningJobRow
from tests.app.requests import sdk_style_request

NOW = 1_000_000.0
TOKENS = ("token-one", "token-two")
TRAINING_STATUSES = ("InProgress", "Stopping", "Completed", "Failed", "Stopped")
TUNING_STATUSES = ("InProgress", "Stopping", "Completed", "Failed", "Stopped")
# Lease ends around now, including exactly now and a hair either side.
LEASE_OFFSETS = (None, -60.0, -0.001, 0.0, 0.001, 60.0)

job_states = st.fixed_dictionaries(
    {
        "status": st.sampled_from(TRAINING_STATUSES),
        "worker_id": st.sampled_from((None, "w1", "w2")),
        "lease_token_hash": st.sampled_from((None, *map(leases.digest, TOKENS))),
        "lease_offset": st.sampled_from(LEASE_OFFSETS),
        "metric_count": st.integers(0, 12),
        "stop_requested": st.booleans(),
        "last_modified_at": st.sampled_from((NOW - 5, NOW - 1)),
    }
)
SLOW = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def one_job(tuner: Tuner) -> tuple[str, str]:
    """A real tuning job with one claimed training job; (account, training job name)."""
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "guarded"
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Random"
    caller = tuner.default_caller()
    tuner.create_tuning_job(caller, request)
    claimed = tuner.claim(caller, "guarded", "w1")
    assert isinstance(claimed, Claim)
    return caller.account_id, claimed.training_job_name


@pytest.fixture
def guarded_job(tuner: Tuner) -> tuple[str, str]:
    """The training job every example of one test works on (Hypothesis runs them all on the
    same fixtures): (account, training job name)."""
    return one_job(tuner)


def put(tuner: Tuner, name: str, state: dict[str, Any], tuning_status: str) -> None:
    """Force the job (and its tuning job) into a generated state, whatever the rules say."""
    offset = state["lease_offset"]
    values = {k: v for k, v in state.items() if k != "lease_offset"}
    values["lease_expires_at"] = None if offset is None else NOW + offset

    def write(session: Session) -> None:
        session.execute(update(TrainingJobRow).where(TrainingJobRow.name == name).values(values))
        tuning_id = select(TrainingJobRow.tuning_job_id).where(TrainingJobRow.name == name)
        session.execute(
            update(TuningJobRow)
            .where(TuningJobRow.id == tuning_id.scalar_subquery())
            .values(status=tuning_status)
        )

    tuner.db.run(write)


def read(tuner: Tuner, name: str) -> tuple[TrainingJobRow, int]:
    """The job as stored now (detached), and how many metric rows it has."""

    def fetch(session: Session) -> tuple[TrainingJobRow, int]:
        job = session.scalars(select(TrainingJobRow).where(TrainingJobRow.name == name)).one()
        count = len(
            session.scalars(select(MetricRow.id).where(MetricRow.training_job_id == job.id)).all()
        )
        session.expunge(job)
        return job, count

    return tuner.db.run(fetch, readonly=True)


@SLOW
@given(
    state=job_states,
    presented=st.sampled_from(TOKENS),
    points=st.integers(0, 4),
    cap=st.integers(1, 12),
    first_step=st.integers(0, 6),
)
def test_a_report_is_written_exactly_when_the_rules_allow_it(
    tuner: Tuner,
    guarded_job: tuple[str, str],
    state: dict[str, Any],
    presented: str,
    points: int,
    cap: int,
    first_step: int,
) -> None:
    account, name = guarded_job
    put(tuner, name, state, "InProgress")
    before, stored_before = read(tuner, name)
    token_hash = leases.digest(presented)
    metrics = [("loss", float(i), NOW, first_step + i) for i in range(points)]
    # The job is reused across examples, so its stored steps are whatever earlier examples
    # left: the statement must refuse exactly the reports whose steps would go back.
    last = tuner.db.run(lambda s: repository.last_steps(s, before.id, ["loss"]), readonly=True)
    try:
        reports.check_steps(metrics, "metrics", last)
        steps_ok = True
    except ValidationError:
        steps_ok = False
    allowed = (
        leases.held(before, token_hash, NOW) and leases.has_room(before, points, cap) and steps_ok
    )

    written = tuner.db.run(
        lambda s: guarded_writes.report_if_held(
            s,
            account,
            name,
            token_hash=token_hash,
            now=NOW,
            lease_until=NOW + 60,
            metrics=metrics,
            max_points=cap,
        ),
        one_statement=True,
    )

    assert (written is not None) == allowed, (state, presented, points, cap)
    after, stored_after = read(tuner, name)
    if allowed:
        assert after.lease_expires_at == NOW + 60
        assert after.metric_count == before.metric_count + points
        assert stored_after == stored_before + points
    else:
        assert after.lease_expires_at == before.lease_expires_at
        assert after.metric_count == before.metric_count
        assert stored_after == stored_before


@SLOW
@given(
    stored=job_states,
    seen=job_states,
    tuning_status=st.sampled_from(TUNING_STATUSES),
)
def test_an_ending_is_written_exactly_when_nothing_moved(
    tuner: Tuner,
    guarded_job: tuple[str, str],
    stored: dict[str, Any],
    seen: dict[str, Any],
    tuning_status: str,
) -> None:
    """A completion decided on a copy read earlier (``seen``) is written only if the job is
    still as read, not told to stop, and its tuning job still in progress."""
    _, name = guarded_job
    put(tuner, name, seen, tuning_status)
    copy, _ = read(tuner, name)
    guard = guarded_writes.guard_of(copy)
    put(tuner, name, stored, tuning_status)
    current, _ = read(tuner, name)
    allowed = (
        tuning_status == "InProgress"
        and not current.stop_requested
        and guarded_writes.guard_of(current) == guard
    )

    copy.status = "Completed"
    copy.ended_at = NOW
    written = tuner.db.run(
        lambda s: guarded_writes.end_if_unchanged(s, copy, guard), one_statement=True
    )

    assert written == allowed, (stored, seen, tuning_status)
    after, _ = read(tuner, name)
    assert after.status == ("Completed" if allowed else current.status)
