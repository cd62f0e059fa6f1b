"""The guarded writes against a writer that got there first, on SQLite and PostgreSQL.

A claim's numbered insert and a completion's guarded ending run without the tuning job's
lock. Their guards must hold against a transaction that changed the row and has not yet
committed: the statement waits for it (a row lock on PostgreSQL, the database's write lock
on SQLite), then judges the committed row and writes nothing. On PostgreSQL the test first
sees the statement waiting on a lock, so the interleaving is the one described.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from amtune.store import guarded_writes, repository
from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import Lock
from tests.store.contract.support import NOW, Store, covers


def waits_on_a_lock(store: Store, deadline: float = 10.0) -> bool:
    """Whether some statement on this database is waiting for a row lock (PostgreSQL)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with store.db.engine.connect() as conn:
            if conn.execute(query).scalar_one():
                return True
        time.sleep(0.01)
    return False


def while_uncommitted(
    store: Store, first: Callable[[Session], None], second: Callable[[Session], Any]
) -> Any:
    """Run ``second`` (one statement, as the worker path runs it) while ``first``'s
    transaction is open; ``first`` commits once ``second`` is seen waiting for it."""
    with ThreadPoolExecutor(1) as pool:
        with Session(store.db.engine) as holder, holder.begin():
            first(holder)
            holder.flush()
            result: Future[Any] = pool.submit(store.write, second, one_statement=True)
            if store.postgres:
                assert waits_on_a_lock(store)
            assert not result.done()
        return result.result(timeout=30)


@covers("guarded_writes.insert_if_number_free")
def test_of_two_claims_that_read_the_same_count_the_second_inserts_nothing(
    store: Store,
) -> None:
    tuning = store.tuning(created_count=4)
    winner = store.training_row(tuning, 5, name="winner-5")
    loser = store.training_row(tuning, 5, name="loser-5")

    def first(session: Session) -> None:
        assert guarded_writes.insert_if_number_free(session, winner)

    inserted = while_uncommitted(
        store, first, lambda s: guarded_writes.insert_if_number_free(s, loser)
    )
    assert inserted is False
    tuning_after = store.read(lambda s: s.get(TuningJobRow, tuning.id))
    assert tuning_after is not None and tuning_after.created_count == 5
    assert store.read(lambda s: repository.training_job(s, store.account, "loser-5")) is None
    assert store.read(lambda s: repository.training_job(s, store.account, "winner-5"))


@covers("guarded_writes.insert_if_number_free")
def test_a_numbered_insert_gives_unset_columns_the_models_defaults(store: Store) -> None:
    tuning = store.tuning(created_count=0)
    job = store.training_row(tuning, 1, name="defaults-1")
    for column in ("stop_requested", "metric_count", "attempt"):
        setattr(job, column, None)
    assert store.write(lambda s: guarded_writes.insert_if_number_free(s, job), one_statement=True)
    stored = store.read(lambda s: repository.training_job(s, store.account, "defaults-1"))
    assert stored is not None
    assert (stored.stop_requested, stored.metric_count, stored.attempt) == (False, 0, 1)


@covers("guarded_writes.end_if_unchanged")
def test_an_ending_waits_for_a_stop_and_then_writes_nothing(store: Store) -> None:
    tuning = store.tuning()
    job = store.training(
        tuning, 1, worker_id="w", lease_token_hash="t" * 64, lease_expires_at=NOW + 30
    )
    found = store.read(lambda s: guarded_writes.job_and_tuning_unlocked(s, store.account, job.name))
    assert found is not None
    copy = found[0]
    seen = guarded_writes.guard_of(copy)
    copy.status, copy.ended_at = "Completed", NOW

    def stop(session: Session) -> None:
        row = repository.tuning_job(session, store.account, tuning.name, lock=Lock.UPDATE)
        assert row is not None
        row.status = "Stopping"

    ended = while_uncommitted(store, stop, lambda s: guarded_writes.end_if_unchanged(s, copy, seen))
    assert ended is False
    job_after = store.read(lambda s: s.get(TrainingJobRow, job.id))
    assert job_after is not None and job_after.status == "InProgress"
