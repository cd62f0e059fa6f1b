"""Contract of the training-job queries of ``store/repository.py``, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from amtune.store import repository
from tests.conftest import new_account_id
from tests.store.contract.locking import locks_row
from tests.store.contract.support import NOW, Store, covers


@covers("repository.training_job")
def test_training_job_is_found_by_exact_name_only_in_its_team(store: Store) -> None:
    tuning = store.tuning()
    job = store.training(tuning, 1)
    intruder = store.tuning(account=new_account_id())
    store.training(intruder, 1, name=job.name)  # the same name in another team

    found = store.read(lambda s: repository.training_job(s, store.account, job.name))
    assert found is not None and found.id == job.id
    assert store.read(lambda s: repository.training_job(s, store.account, "absent")) is None
    assert store.read(lambda s: repository.training_job(s, new_account_id(), job.name)) is None
    if store.postgres:

        def lock(session: Session) -> None:
            repository.training_job(session, store.account, job.name, for_update=True)

        assert locks_row(store, lock, "training_jobs", job.id)
        plain = locks_row(
            store,
            lambda s: repository.training_job(s, store.account, job.name),
            "training_jobs",
            job.id,
        )
        assert not plain


@covers("repository.training_job_by_id")
def test_training_job_by_id_returns_the_row_and_raises_for_none(store: Store) -> None:
    job = store.training(store.tuning(), 1)
    assert store.read(lambda s: repository.training_job_by_id(s, job.id)).name == job.name
    with pytest.raises(NoResultFound):
        store.read(lambda s: repository.training_job_by_id(s, job.id + 10_000_000))
    if store.postgres:

        def lock(session: Session) -> None:
            repository.training_job_by_id(session, job.id, for_update=True)

        assert locks_row(store, lock, "training_jobs", job.id)


@covers("repository.history")
def test_history_is_every_job_of_the_tuning_job_in_number_order(store: Store) -> None:
    tuning, other = store.tuning(), store.tuning()
    store.training(
        tuning,
        2,
        status="Completed",
        objective_value=0.5,
        ended_at=NOW,
        definition_name="b",
        tuned_hyperparameters={"lr": "0.1"},
    )
    store.training(tuning, 1, definition_name="a", tuned_hyperparameters={"lr": "0.2"})
    store.training(other, 1)

    assert store.read(lambda s: repository.history(s, tuning.id)) == [
        ("a", "InProgress", {"lr": "0.2"}, None, 1),
        ("b", "Completed", {"lr": "0.1"}, 0.5, 2),
    ]
    assert store.read(lambda s: repository.history(s, store.tuning().id)) == []


@covers("repository.completion_rows")
def test_completion_rows_are_what_the_criteria_read_in_number_order(store: Store) -> None:
    tuning, other = store.tuning(), store.tuning()
    store.training(tuning, 2, status="Failed", ended_at=NOW + 9)
    store.training(
        tuning,
        1,
        status="Completed",
        objective_value=0.5,
        ended_at=NOW + 8,
        expected_improvement=0.25,
    )
    store.training(other, 1)

    assert store.read(lambda s: repository.completion_rows(s, tuning.id)) == [
        (1, "Completed", 0.5, NOW + 8, 0.25),
        (2, "Failed", None, NOW + 9, None),
    ]


@covers("repository.active_training_jobs")
def test_active_training_jobs_are_in_progress_or_stopping_and_optionally_lapsed(
    store: Store,
) -> None:
    tuning = store.tuning()
    stopping = store.training(tuning, 3, status="Stopping", lease_expires_at=NOW - 5)
    running = store.training(tuning, 1, lease_expires_at=NOW + 5)
    waiting = store.training(tuning, 2)  # no lease: a retry waiting for a claim
    at_now = store.training(tuning, 4, lease_expires_at=NOW)
    store.training(tuning, 5, status="Completed", lease_expires_at=NOW - 5, ended_at=NOW)
    store.training(store.tuning(), 1)

    def ids(**options: Any) -> list[int]:
        rows = store.read(lambda s: repository.active_training_jobs(s, tuning.id, **options))
        return [row.id for row in rows]

    assert ids() == [running.id, waiting.id, stopping.id, at_now.id]
    assert ids(lapsed_before=NOW) == [stopping.id]
    assert ids(lapsed_before=NOW + 0.5) == [stopping.id, at_now.id]
    if store.postgres:

        def lock(session: Session) -> None:
            repository.active_training_jobs(session, tuning.id, lapsed_before=NOW, for_update=True)

        assert locks_row(store, lock, "training_jobs", stopping.id)
        assert not locks_row(store, lock, "training_jobs", running.id)


@covers("repository.awaiting_retry")
def test_awaiting_retry_is_the_oldest_unheld_active_job_not_told_to_stop(store: Store) -> None:
    tuning = store.tuning()
    store.training(tuning, 1, worker_id="w", lease_expires_at=NOW)
    store.training(tuning, 2, stop_requested=True)
    store.training(tuning, 3, status="Failed", ended_at=NOW)
    oldest = store.training(tuning, 4)
    store.training(tuning, 5)

    found = store.write(lambda s: repository.awaiting_retry(s, tuning.id))
    assert found is not None and found.id == oldest.id
    assert store.write(lambda s: repository.awaiting_retry(s, store.tuning().id)) is None
    if store.postgres:
        assert locks_row(
            store, lambda s: repository.awaiting_retry(s, tuning.id), "training_jobs", oldest.id
        )


@covers("repository.best_training_job")
@pytest.mark.parametrize("objective_type", ["Maximize", "Minimize", None])
def test_best_training_job_is_the_best_ended_objective_first_on_ties(
    store: Store, objective_type: str | None
) -> None:
    tuning = store.tuning()
    store.training(tuning, 1, objective_value=100.0)  # active: not a result yet
    store.training(tuning, 2, status="Completed", ended_at=NOW)  # no objective
    low = store.training(tuning, 3, status="Completed", objective_value=1.0, ended_at=NOW)
    store.training(tuning, 4, status="Completed", objective_value=1.0, ended_at=NOW)
    high = store.training(tuning, 5, status="Stopped", objective_value=9.0, ended_at=NOW)
    store.training(tuning, 6, status="Completed", objective_value=9.0, ended_at=NOW)

    best = store.read(lambda s: repository.best_training_job(s, tuning.id, objective_type))
    assert best is not None
    assert best.id == (high.id if objective_type == "Maximize" else low.id)
    empty = store.tuning()
    store.training(empty, 1, objective_value=1.0)
    assert store.read(lambda s: repository.best_training_job(s, empty.id, objective_type)) is None
