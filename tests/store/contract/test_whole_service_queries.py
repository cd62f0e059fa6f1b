"""Contract of what reads the whole database (``store/accounts.py``, ``store/stats.py``, the
schema check of ``store/migrate.py``), on a database of each backend that this module has to
itself, emptied before each test: what they return depends on every row in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from amtune.store import accounts, migrate, stats
from amtune.store.database import Database
from amtune.store.models import AccessKeyRow, AccountRow, TrainingJobRow, TuningJobRow
from tests.conftest import new_account_id
from tests.store.contract.locking import locks_row
from tests.store.contract.support import NOW, Store, covers


@pytest.fixture(scope="module")
def empty_database(own_database: str) -> Iterator[Database]:
    db = Database(own_database)
    yield db
    db.dispose()


@pytest.fixture
def store(empty_database: Database) -> Store:
    def empty(session: Session) -> None:
        for model in (AccessKeyRow, AccountRow, TrainingJobRow, TuningJobRow):
            session.execute(delete(model))

    empty_database.run(empty)
    return Store(empty_database)


def team(store: Store, name: str) -> AccountRow:
    row = AccountRow(account_id=new_account_id(), name=name, name_key=name.lower(), created_at=NOW)
    return store.add(row)


def key(
    store: Store,
    account: AccountRow,
    key_id: str,
    *,
    created_at: float = NOW,
    revoked: bool = False,
) -> AccessKeyRow:
    row = AccessKeyRow(
        access_key_id=key_id,
        account_id=account.account_id,
        encrypted_secret="sealed",
        created_at=created_at,
        revoked_at=NOW if revoked else None,
    )
    return store.add(row)


@covers("accounts.any_account", "accounts.accounts")
def test_any_account_and_accounts_in_name_order(store: Store) -> None:
    assert store.read(accounts.any_account) is False
    assert store.read(accounts.accounts) == []
    names = ["beta", "Alpha", "gamma"]
    for name in names:
        team(store, name)
    assert store.read(accounts.any_account) is True
    assert [row.name for row in store.read(accounts.accounts)] == ["Alpha", "beta", "gamma"]


@covers("accounts.account", "accounts.account_named")
def test_account_by_id_and_by_name_in_any_case(store: Store) -> None:
    ml = team(store, "ML-Team")
    team(store, "other")

    found = store.read(lambda s: accounts.account(s, ml.account_id))
    assert found is not None and found.name == "ML-Team"
    assert store.read(lambda s: accounts.account(s, new_account_id())) is None
    named = store.read(lambda s: accounts.account_named(s, "ml-team"))
    assert named is not None and named.account_id == ml.account_id
    assert store.read(lambda s: accounts.account_named(s, "absent")) is None
    if store.postgres:
        assert locks_row(
            store,
            lambda s: accounts.account(s, ml.account_id, for_update=True),
            "accounts",
            ml.id,
        )


@covers("accounts.access_key", "accounts.access_keys_of")
def test_access_keys_by_id_and_of_one_team_oldest_first(store: Store) -> None:
    ml, other = team(store, "ml"), team(store, "other")
    later = key(store, ml, "AKIDLATER00000000001", created_at=NOW + 5)
    first = key(store, ml, "AKIDFIRST00000000001", created_at=NOW, revoked=True)
    key(store, other, "AKIDOTHER00000000001")

    found = store.read(lambda s: accounts.access_key(s, later.access_key_id))
    assert found is not None and found.account_id == ml.account_id
    assert store.read(lambda s: accounts.access_key(s, "AKIDABSENT0000000001")) is None
    keys = store.read(lambda s: accounts.access_keys_of(s, ml.account_id))
    assert [k.access_key_id for k in keys] == [first.access_key_id, later.access_key_id]
    assert store.read(lambda s: accounts.access_keys_of(s, new_account_id())) == []


@covers("accounts.one_active_key")
def test_one_active_key_is_any_unrevoked_key_of_any_team(store: Store) -> None:
    assert store.read(accounts.one_active_key) is None
    ml = team(store, "ml")
    key(store, ml, "AKIDREVOKED000000001", revoked=True)
    assert store.read(accounts.one_active_key) is None
    active = key(store, team(store, "other"), "AKIDACTIVE0000000001")
    found = store.read(accounts.one_active_key)
    assert found is not None and found.access_key_id == active.access_key_id


@covers("stats.training_jobs_by_status", "stats.tuning_jobs_by_status")
def test_jobs_by_status_count_every_team(store: Store) -> None:
    assert store.read(stats.tuning_jobs_by_status) == {}
    assert store.read(stats.training_jobs_by_status) == {}
    first = store.tuning()
    store.training(first, 1)
    store.training(first, 2, status="Completed", ended_at=NOW)
    other_team = Store(store.db)
    second = other_team.tuning(status="Completed")
    other_team.training(second, 1, status="Completed", ended_at=NOW)

    assert store.read(stats.tuning_jobs_by_status) == {"InProgress": 1, "Completed": 1}
    assert store.read(stats.training_jobs_by_status) == {"InProgress": 1, "Completed": 2}


@covers("migrate.current_revision", "migrate.is_at_head", "migrate.SchemaAheadError")
def test_a_schema_from_a_newer_amtune_is_refused_and_an_unversioned_one_is_not_at_head(
    store: Store,
) -> None:
    """Code must never run on a schema it does not know (a newer amtune migrated it), and
    migrating starts from a database with no recorded revision."""
    url = store.db.url
    engine = store.db.engine
    head = migrate.head_revision(url)
    assert migrate.current_revision(engine) == head
    assert migrate.is_at_head(engine, url) is True

    def record(revision: str | None) -> None:
        with engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {migrate.VERSION_TABLE}"))
            if revision is not None:
                conn.execute(
                    text(f"INSERT INTO {migrate.VERSION_TABLE} (version_num) VALUES (:r)"),
                    {"r": revision},
                )

    try:
        record("9999_from_the_future")
        assert migrate.current_revision(engine) == "9999_from_the_future"
        with pytest.raises(migrate.SchemaAheadError):
            migrate.is_at_head(engine, url)
        with pytest.raises(migrate.SchemaAheadError):
            migrate.upgrade(url)
        record(None)
        assert migrate.current_revision(engine) is None
        assert migrate.is_at_head(engine, url) is False
    finally:
        record(head)
    assert migrate.upgrade(url) is False
