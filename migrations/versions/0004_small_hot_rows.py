"""small row versions for the tuning jobs, which every claim updates

Every claim moves its tuning job's ``created_count``, so PostgreSQL writes a new version of
that row each time. The versions carried the stored request (about 1.1 KiB of JSON), so a page
held five of them: under load the 8 rows of 8 running tuning jobs spread over 250 pages, pages
filled faster than pruning freed them, a quarter of the updates were not HOT (each adding
entries to every index of the table), and reads walked long version chains (``bench/load``,
pg_stat_statements and ``perf``). A ``toast_tuple_target`` of 128 bytes moves the request out
of line: a new version copies a pointer to it, a page holds dozens of versions, and a fillfactor
of 50 leaves them room, so that measured 99 % of the updates HOT and the table at 9 pages. A
vacuum after 2,000 dead versions, however few rows the table holds, bounds what remains.

The training jobs were tried the same way (their definition and hyperparameters out of line):
no difference in the load benchmark's capacity, so they are left as they were.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTINGS = {
    "fillfactor": "50",
    "toast_tuple_target": "128",
    "autovacuum_vacuum_scale_factor": "0",
    "autovacuum_vacuum_threshold": "2000",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        values = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
        op.execute(f"ALTER TABLE tuning_jobs SET ({values})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE tuning_jobs RESET ({', '.join(SETTINGS)})")
