"""Contract of the worker path's guarded writes (``store/guarded_writes.py``), on SQLite and
PostgreSQL, beyond what ``tests/store/test_guarded_rules.py`` proves.

That test checks over generated job states that :func:`report_if_held` (and so
:func:`update_if_held`'s held rule) and :func:`end_if_unchanged` write exactly when the rules
of ``app/leases.py`` allow. Here: what they return and write when they do, team isolation, the
job-number guard of claims, and the unlocked read a completion starts from.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, inspect, select

from amtune.store import guarded_writes, repository
from amtune.store.guarded_writes import Held
from amtune.store.models import MetricRow, TrainingJobRow, TuningJobRow
from tests.conftest import new_account_id
from tests.store.contract.support import NOW, Store, covers

TOKEN = "a" * 64


def fetch(store: Store, model: Any, row_id: int) -> Any:
    return store.read(lambda s: s.get(model, row_id))


def held_job(store: Store, **columns: Any) -> TrainingJobRow:
    tuning = store.tuning()
    values: dict[str, Any] = {
        "worker_id": "w",
        "lease_token_hash": TOKEN,
        "lease_expires_at": NOW + 30,
    }
    values.update(columns)
    return store.training(tuning, 1, **values)


@covers("guarded_writes.insert_if_number_free")
def test_insert_if_number_free_takes_the_next_number_once(store: Store) -> None:
    tuning = store.tuning(created_count=2)
    job = store.training_row(tuning, 3, created_at=NOW + 7, worker_id="w")

    def insert(row: TrainingJobRow) -> bool:
        return store.write(
            lambda s: guarded_writes.insert_if_number_free(s, row), one_statement=True
        )

    assert insert(job) is True
    after = fetch(store, TuningJobRow, tuning.id)
    assert (after.created_count, after.last_modified_at) == (3, NOW + 7)
    found = store.read(lambda s: repository.training_job(s, store.account, job.name))
    assert found is not None
    assert (found.seq, found.worker_id, found.tuning_job_id) == (3, "w", tuning.id)
    # A claim that read the same count lost the race: nothing is inserted or counted.
    rival = store.training_row(tuning, 3, created_at=NOW + 8)
    assert insert(rival) is False
    assert store.read(lambda s: repository.training_job(s, store.account, rival.name)) is None
    assert fetch(store, TuningJobRow, tuning.id).created_count == 3
    # A number further ahead is not free either: numbers are taken one at a time.
    assert insert(store.training_row(tuning, 5)) is False


@covers("guarded_writes.insert_if_number_free")
@pytest.mark.parametrize("status", ["Stopping", "Completed", "Stopped", "Failed"])
def test_insert_if_number_free_refuses_a_tuning_job_no_longer_in_progress(
    store: Store, status: str
) -> None:
    tuning = store.tuning(status=status)
    job = store.training_row(tuning, 1)
    inserted = store.write(
        lambda s: guarded_writes.insert_if_number_free(s, job), one_statement=True
    )
    assert inserted is False
    assert fetch(store, TuningJobRow, tuning.id).created_count == 0
    assert store.read(lambda s: repository.training_job(s, store.account, job.name)) is None


@covers("guarded_writes.job_and_tuning_unlocked")
def test_job_and_tuning_unlocked_are_detached_copies_of_the_team_job(store: Store) -> None:
    tuning = store.tuning(max_jobs=7, completion_criteria={"TargetObjectiveMetricValue": 0.1})
    job = store.training(
        tuning,
        1,
        worker_id="w",
        lease_token_hash=TOKEN,
        lease_expires_at=NOW,
        metric_count=4,
        transitions=[{"Status": "InProgress"}],
    )

    found = store.read(lambda s: guarded_writes.job_and_tuning_unlocked(s, store.account, job.name))
    assert found is not None
    copy, tuning_copy = found
    assert inspect(copy).session is None and inspect(tuning_copy).session is None
    assert (copy.id, copy.tuning_job_id, copy.status, copy.worker_id) == (
        job.id,
        tuning.id,
        "InProgress",
        "w",
    )
    assert (copy.lease_token_hash, copy.lease_expires_at, copy.metric_count) == (TOKEN, NOW, 4)
    assert copy.transitions == [{"Status": "InProgress"}]
    assert (tuning_copy.id, tuning_copy.status, tuning_copy.max_jobs) == (
        tuning.id,
        "InProgress",
        7,
    )
    assert tuning_copy.completion_criteria == {"TargetObjectiveMetricValue": 0.1}

    def unlocked(account: str, name: str) -> object:
        return store.read(lambda s: guarded_writes.job_and_tuning_unlocked(s, account, name))

    assert unlocked(new_account_id(), job.name) is None
    assert unlocked(store.account, "absent") is None
    # A training job whose tuning job was deleted keeps its row but has nothing to settle.
    store.write(lambda s: s.execute(delete(TuningJobRow).where(TuningJobRow.id == tuning.id)))
    assert fetch(store, TrainingJobRow, job.id).tuning_job_id is None
    assert unlocked(store.account, job.name) is None


@covers("guarded_writes.update_if_held", "guarded_writes.Held")
def test_update_if_held_writes_the_values_and_returns_what_the_caller_judges(
    store: Store,
) -> None:
    job = held_job(store, stopping_rule="Median", stop_requested=True, objective_value=5.0)

    def update(account: str, **options: Any) -> Held | None:
        return store.write(
            lambda s: guarded_writes.update_if_held(
                s, account, job.name, token_hash=TOKEN, now=NOW, **options
            ),
            one_statement=True,
        )

    held = update(store.account, values={"lease_expires_at": NOW + 60})
    assert held == Held(job.id, True, job.tuning_job_id, 1, "loss", "Median")
    after = fetch(store, TrainingJobRow, job.id)
    assert (after.lease_expires_at, after.objective_value, after.metric_count) == (
        NOW + 60,
        5.0,
        0,
    )

    # Only the job's own objective metric moves its objective value.
    update(store.account, values={"last_modified_at": NOW}, objective_from={"acc": 0.9})
    assert fetch(store, TrainingJobRow, job.id).objective_value == 5.0
    update(store.account, values={}, objective_from={"acc": 0.9, "loss": 0.25})
    assert fetch(store, TrainingJobRow, job.id).objective_value == 0.25

    # Points counted against the cap.
    assert update(store.account, values={}, added_points=3, max_points=3) is not None
    assert update(store.account, values={}, added_points=1, max_points=3) is None
    assert fetch(store, TrainingJobRow, job.id).metric_count == 3

    # Another team naming the job, with its token, touches nothing.
    assert update(new_account_id(), values={"lease_expires_at": NOW + 600}) is None
    assert fetch(store, TrainingJobRow, job.id).lease_expires_at == NOW + 60


@covers("guarded_writes.report_if_held", "guarded_writes.first_steps")
def test_report_if_held_stores_the_points_and_the_latest_objective(store: Store) -> None:
    job = held_job(store, stopping_rule="Hyperband")
    metrics = [("loss", 0.9, NOW, 1), ("acc", 0.1, NOW, None), ("loss", 0.8, NOW + 1, 2)]

    def report(account: str, points: list[tuple[str, float, float, int | None]]) -> Held | None:
        return store.write(
            lambda s: guarded_writes.report_if_held(
                s,
                account,
                job.name,
                token_hash=TOKEN,
                now=NOW + 2,
                lease_until=NOW + 62,
                metrics=points,
                max_points=100,
            ),
            one_statement=True,
        )

    assert report(store.account, metrics) == Held(
        job.id, False, job.tuning_job_id, 1, "loss", "Hyperband"
    )
    after = fetch(store, TrainingJobRow, job.id)
    assert (after.objective_value, after.metric_count) == (0.8, 3)
    assert (after.lease_expires_at, after.last_modified_at) == (NOW + 62, NOW + 2)
    query = (
        select(MetricRow.metric_name, MetricRow.value, MetricRow.timestamp, MetricRow.step)
        .where(MetricRow.training_job_id == job.id)
        .order_by(MetricRow.id)
    )
    assert [tuple(r) for r in store.read(lambda s: s.execute(query).all())] == metrics
    # An empty report is a sign of life: it moves the lease and stores nothing.
    assert report(store.account, []) is not None
    assert fetch(store, TrainingJobRow, job.id).metric_count == 3
    # Another team's report on a job of the same name stores nothing here.
    assert report(new_account_id(), [("loss", 0.0, NOW, 9)]) is None
    assert fetch(store, TrainingJobRow, job.id).objective_value == 0.8
    # What the statement compares with the stored steps: each metric's first step.
    assert guarded_writes.first_steps(
        [("a", 1.0, NOW, None), ("a", 1.0, NOW, 3), ("b", 1.0, NOW, 2), ("a", 1.0, NOW, 1)]
    ) == [("a", 3), ("b", 2)]


@covers("guarded_writes.end_if_unchanged")
def test_end_if_unchanged_writes_every_ending_column_and_nothing_else(store: Store) -> None:
    job = held_job(store, hyperparameters={"x": "1"})
    found = store.read(lambda s: guarded_writes.job_and_tuning_unlocked(s, store.account, job.name))
    assert found is not None
    copy = found[0]
    seen = guarded_writes.guard_of(copy)
    ending: dict[str, Any] = {
        "status": "Completed",
        "secondary_status": "Completed",
        "transitions": [{"Status": "Completed", "StartTime": NOW}],
        "final_metrics": [{"MetricName": "loss", "Value": 0.5, "Timestamp": NOW}],
        "objective_value": 0.5,
        "failure_reason": None,
        "retryable": False,
        "lease_expires_at": None,
        "ended_at": NOW + 3,
        "last_modified_at": NOW + 3,
    }
    assert set(ending) == set(guarded_writes.ENDING_COLUMNS)
    for column, value in ending.items():
        setattr(copy, column, value)
    copy.worker_id = "someone-else"  # not an ending column: not written

    ended = store.write(
        lambda s: guarded_writes.end_if_unchanged(s, copy, seen), one_statement=True
    )
    assert ended is True
    after = fetch(store, TrainingJobRow, job.id)
    assert {column: getattr(after, column) for column in ending} == ending
    assert (after.worker_id, after.hyperparameters) == ("w", {"x": "1"})
