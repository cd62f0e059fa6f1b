"""What every use case needs: the database, the settings, a clock and the token codec."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from amtune.app import events
from amtune.app.errors import ServiceUnavailable
from amtune.app.paging import TokenCodec
from amtune.settings import Settings
from amtune.store.database import Database, DatabaseUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    """Who is asking: every query is scoped to this account."""

    account_id: str


@dataclass
class Context:
    db: Database
    settings: Settings
    clock: Callable[[], float] = time.time
    tokens: TokenCodec = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenCodec(self.settings.secret_key)

    def run(
        self, work: Callable[[Session], T], *, readonly: bool = False, one_statement: bool = False
    ) -> T:
        """One committed transaction; an unreachable database becomes a retryable 503.

        Events the work records (``app.events``) are written only once it committed; an
        attempt that is rolled back and run again starts with none."""

        pending, token = events.hold()

        def attempt(session: Session) -> T:
            pending.clear()
            return work(session)

        try:
            result = self._run(attempt, readonly=readonly, one_statement=one_statement)
        finally:
            events.release(token)
        if pending:
            events.committed(pending)
        return result

    def _run(self, work: Callable[[Session], T], *, readonly: bool, one_statement: bool) -> T:
        try:
            return self.db.run(work, readonly=readonly, one_statement=one_statement)
        except (DatabaseUnavailable, PoolTimeout) as exc:
            raise ServiceUnavailable("The database is unavailable; retry the request.") from exc

    def now(self) -> float:
        # Millisecond resolution: what AWS shows, and exact in a double.
        return round(self.clock(), 3)
