"""Rows for the storage contract, written straight into a migrated database of each backend.

The contract tests call the store's queries and guarded statements directly, the way the
application layer does (inside :meth:`Database.run`), on rows built here with every column
under the test's control. Each test gets its own team (account), so the shared database of a
backend may hold other tests' rows: a query that takes an account must never return them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from amtune.store.database import Database
from amtune.store.models import MetricRow, TrainingJobRow, TuningJobRow
from tests.conftest import new_account_id

T = TypeVar("T")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])

NOW = 1_000_000.0
CONTRACT = "store_contract"

_names = itertools.count(1)


def covers(*names: str) -> Callable[[F], F]:
    """Mark a test as (part of) the contract of the named store functions, written
    ``module.function`` or ``module.Class.method``; ``test_complete.py`` reads the marks."""

    def mark(test: F) -> F:
        setattr(test, CONTRACT, (*getattr(test, CONTRACT, ()), *names))
        return test

    return mark


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


@dataclass
class Store:
    """One backend's database and a fresh team; builds rows and runs work as callers do."""

    db: Database
    account: str = field(default_factory=new_account_id)

    @property
    def postgres(self) -> bool:
        return not self.db.is_sqlite

    def read(self, work: Callable[[Session], T]) -> T:
        return self.db.run(work, readonly=True)

    def write(self, work: Callable[[Session], T], *, one_statement: bool = False) -> T:
        return self.db.run(work, one_statement=one_statement)

    def tuning(
        self,
        name: str | None = None,
        *,
        account: str | None = None,
        status: str = "InProgress",
        created_at: float = NOW,
        **columns: Any,
    ) -> TuningJobRow:
        """A tuning job row (detached, id set); ``columns`` override the defaults."""
        name = name or unique("tj")
        account = account or self.account
        values: dict[str, Any] = {
            "account_id": account,
            "name": name,
            "name_key": name.lower(),
            "arn": f"arn:aws:sagemaker:us-east-1:{account}:hyper-parameter-tuning-job/{name}",
            "status": status,
            "strategy": "Random",
            "objective_type": "Minimize",
            "objective_metric": "loss",
            "max_jobs": 10,
            "max_parallel": 2,
            "random_seed": 1,
            "request": {"HyperParameterTuningJobName": name},
            "created_count": 0,
            "created_at": created_at,
            "last_modified_at": created_at,
        }
        values.update(columns)
        return self.add(TuningJobRow(**values))

    def training(self, tuning: TuningJobRow, seq: int, **columns: Any) -> TrainingJobRow:
        """Training job number ``seq`` of ``tuning``, stored (detached, id set); ``columns``
        as :meth:`training_row` takes them."""
        return self.add(self.training_row(tuning, seq, **columns))

    def training_row(
        self,
        tuning: TuningJobRow,
        seq: int,
        *,
        status: str = "InProgress",
        objective_value: float | None = None,
        ended_at: float | None = None,
        **columns: Any,
    ) -> TrainingJobRow:
        """Training job number ``seq`` of ``tuning``, built but not stored."""
        name = columns.pop("name", None) or f"{tuning.name}-{seq:03d}-{next(_names)}"
        values: dict[str, Any] = {
            "account_id": tuning.account_id,
            "tuning_job_id": tuning.id,
            "tuning_job_name": tuning.name,
            "tuning_job_arn": tuning.arn,
            "definition": {},
            "objective_metric": tuning.objective_metric,
            "seq": seq,
            "name": name,
            "arn": f"arn:aws:sagemaker:us-east-1:{tuning.account_id}:training-job/{name}",
            "status": status,
            "secondary_status": "Training" if status == "InProgress" else status,
            "hyperparameters": {"x": str(seq)},
            "tuned_hyperparameters": {"x": str(seq)},
            "transitions": [],
            # Set as a claim sets them.
            "stop_requested": False,
            "metric_count": 0,
            "attempt": 1,
            "objective_value": objective_value,
            "created_at": NOW + seq,
            "ended_at": ended_at,
            "last_modified_at": NOW + seq,
        }
        values.update(columns)
        return TrainingJobRow(**values)

    def points(
        self, job: TrainingJobRow, points: Iterable[tuple[str, float, float, int | None]]
    ) -> None:
        """Metric points (name, value, timestamp, step), stored in the order given."""

        def add(session: Session) -> None:
            for name, value, timestamp, step in points:
                session.add(
                    MetricRow(
                        training_job_id=job.id,
                        metric_name=name,
                        value=value,
                        timestamp=timestamp,
                        step=step,
                    )
                )
                session.flush()  # ids in the order given

        self.write(add)

    def add(self, row: R) -> R:
        """Store ``row`` (any model) and return it detached, its id set."""

        def add(session: Session) -> R:
            session.add(row)
            session.flush()
            return row

        return self.write(add)
