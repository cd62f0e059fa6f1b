"""The reported values of one metric of one training job, for GetMetricStatistics."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from amtune.store.models import MetricRow, TrainingJobRow


def values_between(
    session: Session,
    account_id: str,
    training_job_name: str,
    metric_name: str,
    start: float,
    end: float,
) -> Sequence[tuple[float, float]]:
    """(timestamp, value) with ``start <= timestamp < end``, oldest first."""
    rows = session.execute(
        select(MetricRow.timestamp, MetricRow.value)
        .join(TrainingJobRow, TrainingJobRow.id == MetricRow.training_job_id)
        .where(
            TrainingJobRow.account_id == account_id,
            TrainingJobRow.name == training_job_name,
            MetricRow.metric_name == metric_name,
            MetricRow.timestamp >= start,
            MetricRow.timestamp < end,
        )
        .order_by(MetricRow.timestamp, MetricRow.id)
    ).all()
    return [(float(row[0]), float(row[1])) for row in rows]
