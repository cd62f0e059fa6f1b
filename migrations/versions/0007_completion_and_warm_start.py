"""completion criteria, convergence and warm-start columns

``tuning_jobs.completion_criteria`` holds ``TuningJobCompletionCriteria`` as given (NULL when
none), so the rules that end a tuning job early can be checked without reading the stored
request; ``converged_at`` is when the engine judged the search converged
(``ConvergenceDetectedTime``); ``warm_start`` is the snapshot of the parents' observations
taken at creation (parents are terminal, so it cannot go stale, and it survives their
deletion). ``training_jobs.expected_improvement`` is the engine's expected improvement for the
configuration it suggested, relative to the observed range (NULL for an exploration step).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite has both): no table rebuild, indexes untouched.
    op.add_column("tuning_jobs", sa.Column("completion_criteria", sa.JSON(), nullable=True))
    op.add_column("tuning_jobs", sa.Column("converged_at", sa.Float(), nullable=True))
    op.add_column("tuning_jobs", sa.Column("warm_start", sa.JSON(), nullable=True))
    op.add_column("training_jobs", sa.Column("expected_improvement", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("training_jobs", "expected_improvement")
    op.drop_column("tuning_jobs", "warm_start")
    op.drop_column("tuning_jobs", "converged_at")
    op.drop_column("tuning_jobs", "completion_criteria")
