"""The background reaper: lapsed leases and runtime limits move on without any request.

Every replica runs one. Each tuning job is settled under its row lock, so two replicas
sweeping at once move each expired job exactly once.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session

from amtune.app import lifecycle
from amtune.app.context import Context
from amtune.app.errors import ServiceUnavailable
from amtune.store import repository
from amtune.store.repository import Lock

log = logging.getLogger(__name__)


def sweep(ctx: Context) -> int:
    """Settle every tuning job that has a lapsed lease or a spent runtime; return how many."""
    ids = ctx.run(
        lambda s: list(repository.tuning_jobs_needing_attention(s, ctx.now())), readonly=True
    )
    for tuning_id in ids:

        def work(session: Session, tuning_id: int = tuning_id) -> None:
            tuning = repository.tuning_job_by_id(session, tuning_id, lock=Lock.UPDATE)
            lifecycle.settle(session, tuning, ctx.now())

        ctx.run(work)
    return len(ids)


class Sweeper:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="amtune-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        interval = self._ctx.settings.sweep_interval
        while not self._stop.wait(interval):
            try:
                swept = sweep(self._ctx)
                if swept:
                    log.info("settled %d tuning jobs with lapsed leases or limits", swept)
            except ServiceUnavailable as exc:
                log.warning("sweep skipped, database unavailable: %s", exc)
            except Exception:
                log.exception("sweep failed")
