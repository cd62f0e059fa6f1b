"""The work of one worker request must not grow with the size of the tuning job.

A claim, a report or a completion must not load every training job of its tuning job, or each
would slow down as the tuning job grows. Counted here without a stopwatch: the training-job rows
the ORM loads to serve one claim, one metric report and one completion, once when the tuning job
has 10 training jobs and again when it has 50.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from amtune.app.service import Claim, Tuner
from amtune.store.models import TrainingJobRow
from tests.reliability.support import random_tuning_job

pytestmark = pytest.mark.slow


@contextmanager
def counting_loads() -> Iterator[list[int]]:
    count = [0]

    def loaded(_target: Any, _context: Any) -> None:
        count[0] += 1

    event.listen(TrainingJobRow, "load", loaded)
    try:
        yield count
    finally:
        event.remove(TrainingJobRow, "load", loaded)


def one_job(tuner: Tuner, index: int) -> None:
    caller = tuner.default_caller()
    claim = tuner.claim(caller, "growing", f"w{index}")
    assert isinstance(claim, Claim), claim
    name = claim.training_job_name
    token = claim.lease_token
    tuner.report_metrics(caller, name, token, [{"MetricName": "loss", "Value": 0.5}])
    tuner.complete(caller, name, token)


def rows_loaded_for_one_job(tuner: Tuner, index: int) -> int:
    with counting_loads() as count:
        one_job(tuner, index)
    return count[0]


def test_a_worker_request_loads_the_same_rows_in_a_big_tuning_job(tuner: Tuner) -> None:
    tuner.create_tuning_job(tuner.default_caller(), random_tuning_job("growing", 10_000, 10))
    for index in range(10):
        one_job(tuner, index)
    small = rows_loaded_for_one_job(tuner, 10)
    for index in range(11, 51):
        one_job(tuner, index)
    big = rows_loaded_for_one_job(tuner, 51)
    assert big <= small + 5, f"{small} rows loaded at 10 training jobs, {big} at 50"
