"""Alembic is the only way the schema comes to be, and it matches the models exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from amtune.store.database import Database
from amtune.store.migrate import VERSION_TABLE, alembic_config, head_revision, upgrade
from amtune.store.models import Base
from tests.conftest import postgres_database


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        drift = [
            change
            for change in compare_metadata(context, Base.metadata)
            if not (change[0] == "remove_table" and change[1].name == VERSION_TABLE)
        ]
        assert drift == []
    engine.dispose()


def test_migrate_is_idempotent_and_records_head(database_url: str) -> None:
    assert upgrade(database_url) is False
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    assert {"tuning_jobs", "training_jobs", "metrics", VERSION_TABLE} <= tables
    engine.dispose()
    assert head_revision(database_url) is not None


def _migrate_three_at_once(url: str) -> None:
    env_command = [sys.executable, "-m", "amtune", "migrate"]
    processes = [
        subprocess.Popen(
            env_command,
            env={"AMTUNE_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    said = sorted(out.decode().strip() for out, _ in outputs)
    assert said == ["already at head", "already at head", "migrated to head"]


def test_replicas_migrating_at_once_do_not_race_on_sqlite(tmp_path: Path) -> None:
    _migrate_three_at_once(f"sqlite:///{tmp_path / 'fresh.db'}")


def test_replicas_migrating_at_once_do_not_race_on_postgres() -> None:
    databases = postgres_database()
    _migrate_three_at_once(next(databases))
    databases.close()


def _tuning_job_storage(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = 'tuning_jobs'")
        ).scalar_one()
    return set(options or ())


def test_tuning_jobs_keep_small_row_versions_on_postgres_and_downgrade_cleanly() -> None:
    """Migration 0004: the row every claim updates keeps its versions small and on one page."""
    databases = postgres_database()
    url = next(databases)
    upgrade(url)
    engine = create_engine(url)
    assert {"fillfactor=50", "toast_tuple_target=128"} <= _tuning_job_storage(engine)
    command.downgrade(alembic_config(url), "0003")
    assert _tuning_job_storage(engine) == set()
    engine.dispose()
    databases.close()


def test_postgres_connections_plan_each_statement_with_its_values() -> None:
    """A plan cached while the tables were empty must not outlive their growth."""
    databases = postgres_database()
    database = Database(next(databases))
    assert database.run(lambda s: s.execute(text("SHOW plan_cache_mode")).scalar_one()) == (
        "force_custom_plan"
    )
    database.dispose()
    databases.close()
