"""Per-team quotas, as AMT has them per account, with the service settings as defaults."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from amtune.settings import Settings
from amtune.store import accounts

#: AMT lets an account raise MaxParallelTrainingJobs to 100, no further.
MAX_PARALLEL_CEILING = 100


@dataclass(frozen=True)
class Quotas:
    max_concurrent_tuning_jobs: int
    max_parallel_training_jobs: int


def quotas_for(session: Session, settings: Settings, account_id: str) -> Quotas:
    """The account's quotas. With teams, the account row is locked for the transaction, so
    two creates of one team cannot both take the last free slot (PostgreSQL reads committed
    data; the lock orders them). The open single account has no row and the settings apply.
    """
    row = accounts.account(session, account_id, for_update=True)
    concurrent = row.max_concurrent_tuning_jobs if row is not None else None
    parallel = row.max_parallel_training_jobs if row is not None else None
    return Quotas(
        max_concurrent_tuning_jobs=concurrent or settings.max_concurrent_tuning_jobs,
        max_parallel_training_jobs=parallel or settings.max_parallel_training_jobs,
    )
