"""Where a tuning job stands, in one line a person can read, from its Describe answer.

    my-job: 7/20 done, 2 running, 1 failed | best 0.9312 (my-job-005) | ~3m10s left

Done counts every ended training job (completed, stopped, failed) against the tuning job's
budget (MaxNumberOfTrainingJobs). The time left is the elapsed time per ended job times the jobs
still to end: crude, but it needs no history and it shrinks as the run goes; it is shown only
once a job has ended. The objective prints with four significant digits, times in whole
seconds, minutes or hours: more would be noise on a line that changes every job.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any


def format_duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_objective(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.4g}"


def _epoch(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def status_line(described: Mapping[str, Any], now: float) -> str:
    """The progress line of a DescribeHyperParameterTuningJob answer at epoch ``now``."""
    name = described.get("HyperParameterTuningJobName", "?")
    counters = described.get("TrainingJobStatusCounters") or {}
    failed = int(counters.get("RetryableError", 0)) + int(counters.get("NonRetryableError", 0))
    ended = int(counters.get("Completed", 0)) + int(counters.get("Stopped", 0)) + failed
    running = int(counters.get("InProgress", 0))
    limits = (described.get("HyperParameterTuningJobConfig") or {}).get("ResourceLimits") or {}
    total = limits.get("MaxNumberOfTrainingJobs")
    done = f"{ended}/{total} done" if total else f"{ended} done"
    parts = [f"{name}: {done}, {running} running, {failed} failed"]
    best = described.get("BestTrainingJob") or {}
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    if "Value" in metric:
        parts.append(f"best {format_objective(metric['Value'])} ({best.get('TrainingJobName')})")
    else:
        parts.append("best -")
    status = described.get("HyperParameterTuningJobStatus")
    created = _epoch(described.get("CreationTime"))
    if status != "InProgress":
        parts.append(str(status))
    elif total and ended and created is not None:
        per_job = (now - created) / ended
        parts.append(f"~{format_duration(per_job * max(0, int(total) - ended))} left")
    else:
        parts.append("time left unknown")
    return " | ".join(parts)
