"""lease tokens and a count of metric points on each training job

``lease_token_hash`` holds the SHA-256 digest of the token a claim handed to the worker that
holds the job: heartbeats, reports, completions and failures must carry the token, so a worker
whose lease lapsed (and whose job went to another worker) cannot act on the job. Only the
digest is stored. Jobs in progress when this runs have none, so their workers hear 409 and
claim again.

``metric_count`` counts the metric points stored for the job, so that the per-job cap
(``AMTUNE_MAX_METRIC_POINTS_PER_JOB``) is one comparison in the report's own UPDATE rather than
a count over the metrics table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("training_jobs", sa.Column("lease_token_hash", sa.String(64), nullable=True))
    op.add_column(
        "training_jobs",
        sa.Column("metric_count", sa.Integer(), nullable=False, server_default="0"),
    )
    # Jobs that already hold metrics count them, so the cap applies to them too.
    op.execute(
        "UPDATE training_jobs SET metric_count = "
        "(SELECT count(*) FROM metrics WHERE metrics.training_job_id = training_jobs.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("training_jobs") as batch:
        batch.drop_column("metric_count")
        batch.drop_column("lease_token_hash")
