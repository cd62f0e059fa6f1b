"""Statuses and the derived facts every view and rule agrees on.

Counters, objective status and the best training job are derived from training-job rows,
never kept as separate tallies, so they cannot drift from the jobs they count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TuningStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


class TrainingStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


TERMINAL_TUNING = frozenset({TuningStatus.COMPLETED, TuningStatus.FAILED, TuningStatus.STOPPED})
ACTIVE_TRAINING = frozenset({TrainingStatus.IN_PROGRESS, TrainingStatus.STOPPING})
ENDED_TRAINING = frozenset(
    {TrainingStatus.COMPLETED, TrainingStatus.FAILED, TrainingStatus.STOPPED}
)

OBJECTIVE_METRIC_KEY = "_tuning_objective_metric"
#: Hyperparameter names the SageMaker toolkits read for themselves (``sagemaker_program``,
#: ``sagemaker_submit_directory``...): a training job may get them as static values, never as
#: tuned ones.
RESERVED_PREFIX = "sagemaker_"


def is_reserved_name(name: str) -> bool:
    """A name only the service or the SageMaker toolkits may set."""
    return name == OBJECTIVE_METRIC_KEY or name.startswith(RESERVED_PREFIX)


# AMT gives up when its first training jobs all fail; it says so after five.
FIRST_FAILURES_LIMIT = 5
ALL_FAILED_REASON = (
    "No training job succeeded after {n} attempts. "
    "Please take a look at the training job failures to get more details."
)


def objective_status(status: str, objective_value: float | None) -> str:
    if status in ACTIVE_TRAINING:
        return "Pending"
    return "Succeeded" if objective_value is not None else "Failed"


def is_better(value: float, than: float, objective_type: str) -> bool:
    return value > than if objective_type == "Maximize" else value < than


def to_minimise(value: float, objective_type: str | None) -> float:
    """The engine always minimises: a Maximize objective is handed over negated."""
    return -value if objective_type == "Maximize" else value


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


@dataclass
class Counters:
    completed: int = 0
    in_progress: int = 0
    retryable_error: int = 0
    non_retryable_error: int = 0
    stopped: int = 0
    succeeded: int = 0
    pending: int = 0
    failed: int = 0

    def add(self, status: str, retryable: bool | None, has_objective: bool, n: int = 1) -> None:
        if status in ACTIVE_TRAINING:
            self.in_progress += n
        elif status == TrainingStatus.COMPLETED:
            self.completed += n
        elif status == TrainingStatus.STOPPED:
            self.stopped += n
        elif retryable:
            self.retryable_error += n
        else:
            self.non_retryable_error += n
        outcome = objective_status(status, 1.0 if has_objective else None)
        if outcome == "Pending":
            self.pending += n
        elif outcome == "Succeeded":
            self.succeeded += n
        else:
            self.failed += n

    def training(self) -> dict[str, int]:
        return {
            "Completed": self.completed,
            "InProgress": self.in_progress,
            "RetryableError": self.retryable_error,
            "NonRetryableError": self.non_retryable_error,
            "Stopped": self.stopped,
        }

    def objective(self) -> dict[str, int]:
        return {"Succeeded": self.succeeded, "Pending": self.pending, "Failed": self.failed}


@dataclass
class Definition:
    """One training-job definition with the ranges and objective it is tuned on."""

    name: str | None
    body: dict[str, Any]
    parameter_ranges: dict[str, Any]
    objective_type: str | None
    objective_metric: str | None
    static: dict[str, str] = field(default_factory=dict)
