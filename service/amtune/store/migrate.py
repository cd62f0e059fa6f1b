"""Apply Alembic migrations, under a lock so replicas started together do not race.

PostgreSQL: a session-level advisory lock on a dedicated connection. SQLite: an exclusive
``flock`` on a file beside the database. Both first check, without the lock, whether the
schema is already at head, so a fleet of replicas starting at once costs one migration.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, text

log = logging.getLogger(__name__)

VERSION_TABLE = "amtune_alembic_version"
# An arbitrary 64-bit constant: "amtune" in ASCII.
ADVISORY_LOCK_ID = 0x616D74756E65


class SchemaAheadError(RuntimeError):
    """The database was migrated by a newer amtune; running older code on it is unsafe."""


def migrations_dir() -> Path:
    configured = os.environ.get("AMTUNE_MIGRATIONS_DIR")
    candidates = [Path(configured)] if configured else []
    candidates += [Path(__file__).resolve().parents[3] / "migrations", Path.cwd() / "migrations"]
    for candidate in candidates:
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("no migrations/ found; set AMTUNE_MIGRATIONS_DIR")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url)
    config.set_main_option("version_table", VERSION_TABLE)
    return config


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def is_at_head(engine: Engine, url: str) -> bool:
    current = current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config(url))
    if current is not None and not _known(script, current):
        head = script.get_current_head()
        raise SchemaAheadError(f"database schema {current} is unknown to this amtune (head {head})")
    return current == script.get_current_head()


def _known(script: ScriptDirectory, revision: str) -> bool:
    """Whether this amtune's migrations include ``revision`` (Alembic raises for one it
    cannot find rather than answering None)."""
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


@contextmanager
def _migration_lock(engine: Engine, url: str) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_ID})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_ID})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(url: str) -> bool:
    """Bring the database to head; return whether anything was applied."""
    engine = create_engine(url)
    try:
        if is_at_head(engine, url):
            return False
        with _migration_lock(engine, url):
            if is_at_head(engine, url):
                return False
            log.info("migrating %s to %s", engine.url.render_as_string(), head_revision(url))
            with engine.begin() as conn:
                config = alembic_config(url)
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
            return True
    finally:
        engine.dispose()
