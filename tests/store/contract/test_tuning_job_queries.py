"""Contract of the tuning-job queries of ``store/repository.py``, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, inspect, select, text
from sqlalchemy.exc import NoResultFound, OperationalError
from sqlalchemy.orm import Session

from amtune.store import repository
from amtune.store.models import TrainingJobRow, TuningJobRow
from amtune.store.repository import ACTIVE, Lock, Progress
from tests.conftest import new_account_id
from tests.store.contract.support import NOW, Store, covers, unique


@covers("repository.tuning_job")
def test_tuning_job_is_found_by_name_in_any_case_and_only_in_its_team(store: Store) -> None:
    name = unique("Mixed-Case")
    mine = store.tuning(name)
    store.tuning(name, account=new_account_id())

    found = store.read(lambda s: repository.tuning_job(s, store.account, name.upper()))
    assert found is not None and found.id == mine.id and found.name == name
    assert store.read(lambda s: repository.tuning_job(s, store.account, "absent")) is None
    assert store.read(lambda s: repository.tuning_job(s, new_account_id(), name)) is None


@covers("repository.tuning_job")
def test_tuning_job_without_request_reads_it_only_when_used(store: Store) -> None:
    row = store.tuning(request={"HyperParameterTuningJobName": "x", "Big": "y" * 1000})

    def read(session: Session, with_request: bool) -> tuple[bool, dict[str, object]]:
        found = repository.tuning_job(session, store.account, row.name, with_request=with_request)
        assert found is not None
        loaded = "request" not in inspect(found).unloaded
        return loaded, found.request

    assert store.read(lambda s: read(s, True)) == (True, row.request)
    assert store.read(lambda s: read(s, False)) == (False, row.request)


@covers("repository.tuning_job_by_id")
def test_tuning_job_by_id_returns_the_row_and_raises_for_none(store: Store) -> None:
    row = store.tuning()
    assert store.read(lambda s: repository.tuning_job_by_id(s, row.id)).name == row.name
    assert store.write(lambda s: repository.tuning_job_by_id(s, row.id, lock=Lock.UPDATE)).id == (
        row.id
    )
    with pytest.raises(NoResultFound):
        store.read(lambda s: repository.tuning_job_by_id(s, row.id + 10_000_000))


@covers("repository.count_tuning_jobs_in_status")
def test_count_tuning_jobs_in_status_counts_the_teams_jobs_in_those_statuses(
    store: Store,
) -> None:
    for status in ("InProgress", "InProgress", "Stopping", "Completed"):
        store.tuning(status=status)
    store.tuning(account=new_account_id())

    def count(statuses: tuple[str, ...]) -> int:
        return store.read(
            lambda s: repository.count_tuning_jobs_in_status(s, store.account, statuses)
        )

    assert count(ACTIVE) == 3
    assert count(("Completed",)) == 1
    assert count(("Failed",)) == 0


def _progress_fixture(store: Store) -> TuningJobRow:
    """One tuning job whose jobs cover every count of :class:`Progress`."""
    tuning = store.tuning()
    store.training(tuning, 1, worker_id="w", lease_expires_at=NOW - 1)  # lapsed
    store.training(tuning, 2, worker_id="w", lease_expires_at=NOW)  # ends now: not lapsed
    store.training(tuning, 3, status="Stopping", worker_id="w", lease_expires_at=NOW + 5)
    store.training(tuning, 4)  # awaiting a retry: active, no worker
    store.training(tuning, 5, stop_requested=True)  # no worker but told to stop
    store.training(tuning, 6, status="Failed", ended_at=NOW)
    store.training(tuning, 7, status="Completed", ended_at=NOW)  # no objective value
    store.training(tuning, 8, status="Stopped", ended_at=NOW)
    # An active job's objective value is not a success yet.
    store.training(tuning, 9, worker_id="w", lease_expires_at=NOW + 5, objective_value=0.1)
    return tuning


@covers("repository.progress", "repository.Progress")
def test_progress_counts_active_awaiting_lapsed_and_first_failures(store: Store) -> None:
    tuning = _progress_fixture(store)
    other = store.tuning()
    store.training(other, 1, status="Completed", objective_value=1.0, ended_at=NOW)

    progress = store.read(lambda s: repository.progress(s, tuning.id, NOW))
    assert progress == Progress(
        active=6, awaiting_retry=1, lapsed=1, any_succeeded=False, failed_or_completed=2
    )
    # Once a job has ended with an objective value, the failures no longer matter: 0.
    store.training(tuning, 10, status="Completed", objective_value=0.5, ended_at=NOW)
    progress = store.read(lambda s: repository.progress(s, tuning.id, NOW))
    assert progress.any_succeeded and progress.failed_or_completed == 0
    assert store.read(lambda s: repository.progress(s, store.tuning().id, NOW)) == Progress(
        0, 0, 0, False, 0
    )


@covers("repository.tuning_job_with_progress")
def test_tuning_job_with_progress_is_the_job_and_the_same_progress(store: Store) -> None:
    tuning = _progress_fixture(store)
    found = store.read(
        lambda s: repository.tuning_job_with_progress(s, store.account, tuning.name.upper(), NOW)
    )
    assert found is not None
    row, progress = found
    assert row.id == tuning.id
    assert progress == store.read(lambda s: repository.progress(s, tuning.id, NOW))
    other_team = new_account_id()
    assert (
        store.read(lambda s: repository.tuning_job_with_progress(s, other_team, tuning.name, NOW))
        is None
    )
    assert (
        store.read(lambda s: repository.tuning_job_with_progress(s, store.account, "nope", NOW))
        is None
    )


@covers("repository.tuning_jobs_needing_attention")
def test_tuning_jobs_needing_attention_are_lapsed_leases_and_runtime_limits(
    store: Store,
) -> None:
    lapsed = store.tuning()
    store.training(lapsed, 1, worker_id="w", lease_expires_at=NOW - 1)
    leased = store.tuning()
    store.training(leased, 1, worker_id="w", lease_expires_at=NOW)
    ended_job = store.tuning()
    store.training(ended_job, 1, status="Completed", lease_expires_at=NOW - 1, ended_at=NOW)
    timed = store.tuning(created_at=NOW - 60, max_runtime_seconds=60)
    early = store.tuning(created_at=NOW - 59, max_runtime_seconds=60)
    timed_but_over = store.tuning(status="Completed", created_at=NOW - 600, max_runtime_seconds=1)
    # A deleted tuning job's training jobs keep their rows but have nothing to settle.
    orphan = store.tuning()
    store.training(orphan, 1, worker_id="w", lease_expires_at=NOW - 1)
    store.write(lambda s: s.execute(delete(TuningJobRow).where(TuningJobRow.id == orphan.id)))

    found = store.read(lambda s: repository.tuning_jobs_needing_attention(s, NOW))
    assert list(found) == sorted(set(found))
    assert all(isinstance(tuning_id, int) for tuning_id in found)
    assert {lapsed.id, timed.id} <= set(found)
    assert not {leased.id, ended_job.id, early.id, timed_but_over.id} & set(found)


@covers("repository.counter_rows")
def test_counter_rows_group_the_named_tuning_jobs_training_jobs(store: Store) -> None:
    one, two, left_out = store.tuning(), store.tuning(), store.tuning()
    store.training(one, 1, status="Completed", objective_value=1.0, ended_at=NOW)
    store.training(one, 2, status="Completed", objective_value=2.0, ended_at=NOW)
    store.training(one, 3, status="Failed", retryable=True, ended_at=NOW)
    store.training(one, 4, status="Failed", retryable=False, ended_at=NOW)
    store.training(two, 1)
    store.training(left_out, 1)

    rows = store.read(lambda s: repository.counter_rows(s, [one.id, two.id]))
    assert sorted(rows, key=repr) == sorted(
        [
            (one.id, "Completed", None, True, 2),
            (one.id, "Failed", True, False, 1),
            (one.id, "Failed", False, False, 1),
            (two.id, "InProgress", None, False, 1),
        ],
        key=repr,
    )
    assert store.read(lambda s: repository.counter_rows(s, [])) == []


@covers("repository.among")
def test_among_selects_the_statuses_listed(store: Store) -> None:
    tuning = store.tuning()
    for seq, status in enumerate(("InProgress", "Stopping", "Completed", "Stopped"), 1):
        store.training(tuning, seq, status=status)
    query = select(func.count()).where(
        TrainingJobRow.tuning_job_id == tuning.id, repository.among(TrainingJobRow.status, ACTIVE)
    )
    assert store.read(lambda s: s.scalar(query)) == 2


@covers("repository.page")
@pytest.mark.parametrize("descending", [False, True])
def test_page_walks_every_row_once_in_order_while_rows_are_added(
    store: Store, descending: bool
) -> None:
    """Keyset paging on (sort value, id): ties on the value are broken by id, each page has
    one row more than asked when there are more, and rows inserted behind the cursor
    between pages are not seen again nor shift what follows."""
    created = [NOW + t for t in (3, 1, 2, 2, 2, 5, 4)]
    rows = [store.tuning(created_at=t) for t in created]
    store.tuning(created_at=NOW + 2, account=new_account_id())
    query = select(TuningJobRow).where(TuningJobRow.account_id == store.account)
    expected = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=descending)

    def one_page(after: tuple[float, int] | None) -> list[TuningJobRow]:
        return store.read(
            lambda s: repository.page(
                s,
                query,
                TuningJobRow.created_at,
                TuningJobRow.id,
                descending=descending,
                after=after,
                limit=3,
            )
        )

    seen: list[int] = []
    after = None
    while True:
        got = one_page(after)
        assert len(got) <= 4
        seen += [r.id for r in got[:3]]
        if len(got) <= 3:
            break
        last = got[2]
        after = (last.created_at, last.id)
        if len(seen) == 3:  # a row behind the cursor appears between pages
            store.tuning(created_at=NOW + (9 if descending else 0))
    assert seen == [r.id for r in expected]


@covers("repository.locked", "repository.Lock")
@pytest.mark.parametrize("held", list(Lock))
@pytest.mark.parametrize("asked", list(Lock))
def test_tuning_job_locks_conflict_as_documented(store: Store, held: Lock, asked: Lock) -> None:
    """UPDATE excludes every other lock, CLAIM excludes CLAIM, KEY_SHARE excludes only
    UPDATE: endings never wait behind claims, a Stop waits for both. SQLite renders no row
    lock (its writers are serialised anyway): each mode still reads the row."""
    row = store.tuning()
    if not store.postgres:
        found = store.write(lambda s: repository.tuning_job(s, store.account, row.name, lock=held))
        assert found is not None and found.id == row.id
        return
    conflicts = Lock.UPDATE in (held, asked) or held is asked is Lock.CLAIM
    assert _blocks(store, row.name, held, asked) is conflicts


def _blocks(store: Store, name: str, held: Lock, asked: Lock) -> bool:
    """Whether a second transaction's ``asked`` lock waits on one holding ``held``."""
    with Session(store.db.engine) as holder, holder.begin():
        assert repository.tuning_job(holder, store.account, name, lock=held) is not None
        with Session(store.db.engine) as asker, asker.begin():
            asker.execute(text("SET LOCAL lock_timeout = '100ms'"))
            try:
                repository.tuning_job(asker, store.account, name, lock=asked)
            except OperationalError as exc:
                assert getattr(exc.orig, "sqlstate", None) == "55P03"
                return True
            return False
