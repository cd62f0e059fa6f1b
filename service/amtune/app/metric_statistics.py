"""CloudWatch's GetMetricStatistics for training-job metrics, as TrainingJobAnalytics reads them.

SageMaker publishes each training job's metrics to CloudWatch (namespace
``/aws/sagemaker/TrainingJobs``, dimension ``TrainingJobName``), and the SageMaker SDK's
``TrainingJobAnalytics`` draws its curves from there. amtune answers that one call from the
values workers reported, so the SDK's curves work with its CloudWatch endpoint pointed at
amtune. Other namespaces or dimensions, like unknown training jobs, have no data points
(CloudWatch answers so too, without an error).

The values in ``[StartTime, EndTime)`` are grouped into periods of ``Period`` seconds counted
from StartTime; each period with values is one data point, its Timestamp the period's start.
"""

from __future__ import annotations

import math
from typing import Any

from amtune.app.context import Caller, Context
from amtune.app.errors import ValidationError
from amtune.store import metric_series

NAMESPACE = "/aws/sagemaker/TrainingJobs"
DIMENSION = "TrainingJobName"
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
#: CloudWatch's limit on the data points of one answer.
MAX_DATAPOINTS = 1440


def _error(value: Any, path: str, constraint: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _text(request: dict[str, Any], member: str, path: str) -> str:
    value = request.get(member)
    if not isinstance(value, str) or not 1 <= len(value) <= 255:
        raise _error(value, path, "Member must be a string of 1 to 255 characters")
    return value


def _time(request: dict[str, Any], member: str, path: str) -> float:
    value = request.get(member)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _error(value, path, "Member must be a timestamp")
    return float(value)


def _parse(request: dict[str, Any]) -> tuple[str, str, str | None, float, float, int, list[str]]:
    namespace = _text(request, "Namespace", "namespace")
    metric = _text(request, "MetricName", "metricName")
    start = _time(request, "StartTime", "startTime")
    end = _time(request, "EndTime", "endTime")
    period = request.get("Period")
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise _error(period, "period", "Member must have value greater than or equal to 1")
    statistics = request.get("Statistics")
    if (
        not isinstance(statistics, list)
        or not 1 <= len(statistics) <= len(STATISTICS)
        or any(s not in STATISTICS for s in statistics)
    ):
        raise _error(
            statistics,
            "statistics",
            f"Member must be a list of 1 to 5 of [{', '.join(STATISTICS)}]",
        )
    if end <= start:
        raise ValidationError("The parameter StartTime must be less than the parameter EndTime.")
    if (end - start) / period > MAX_DATAPOINTS:
        raise ValidationError(
            f"You have requested up to {math.ceil((end - start) / period)} datapoints, which "
            f"exceeds the limit of {MAX_DATAPOINTS}. You may reduce the datapoints requested by "
            "increasing Period, or decreasing the time range."
        )
    job = None
    dimensions = request.get("Dimensions") or []
    if isinstance(dimensions, list):
        for dimension in dimensions:
            if isinstance(dimension, dict) and dimension.get("Name") == DIMENSION:
                job = dimension.get("Value") if isinstance(dimension.get("Value"), str) else None
    return namespace, metric, job, start, end, period, list(statistics)


def get_metric_statistics(ctx: Context, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    namespace, metric, job, start, end, period, statistics = _parse(request)
    answer: dict[str, Any] = {"Label": metric, "Datapoints": []}
    if namespace != NAMESPACE or job is None:
        return answer
    values = ctx.run(
        lambda session: metric_series.values_between(
            session, caller.account_id, job, metric, start, end
        ),
        readonly=True,
    )
    periods: dict[int, list[float]] = {}
    for timestamp, value in values:
        periods.setdefault(int((timestamp - start) // period), []).append(value)
    for index, group in sorted(periods.items()):
        point: dict[str, Any] = {"Timestamp": start + index * period, "Unit": "None"}
        figures = {
            "SampleCount": float(len(group)),
            "Average": sum(group) / len(group),
            "Sum": sum(group),
            "Minimum": min(group),
            "Maximum": max(group),
        }
        for statistic in statistics:
            point[statistic] = figures[statistic]
        answer["Datapoints"].append(point)
    return answer
