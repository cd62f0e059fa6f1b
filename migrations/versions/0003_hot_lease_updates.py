"""heartbeats and metric reports update training jobs in place

Every heartbeat and metric report moves ``lease_expires_at``. While that column was in an
index, each report wrote a new version of the row into every index of ``training_jobs``
(PostgreSQL cannot make such an update HOT). The index it was in served only the reaper's
search for lapsed leases, which a partial index on the active jobs serves as well: the lease
is then filtered among the few jobs in progress. A fillfactor of 80 leaves room on each page
for the new row versions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status IN ('InProgress', 'Stopping')")


def upgrade() -> None:
    op.drop_index("ix_training_jobs_lease", table_name="training_jobs")
    op.create_index(
        "ix_training_jobs_active",
        "training_jobs",
        ["tuning_job_id"],
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE training_jobs SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE training_jobs RESET (fillfactor)")
    op.drop_index("ix_training_jobs_active", table_name="training_jobs")
    op.create_index(
        "ix_training_jobs_lease", "training_jobs", ["status", "lease_expires_at"], unique=False
    )
