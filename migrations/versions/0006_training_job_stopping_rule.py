"""the early-stopping rule a training job is judged by, on its own row

A metric report touches only its training job's row (one statement on the worker path), so the
rule that may stop the job early travels with that row: the report's update returns it, and
only jobs with a rule (``Median`` for TrainingJobEarlyStoppingType=Auto, ``Hyperband``) pay for
reading the other jobs' learning curves. NULL: never stopped early.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("training_jobs") as batch:
        batch.add_column(sa.Column("stopping_rule", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("training_jobs") as batch:
        batch.drop_column("stopping_rule")
