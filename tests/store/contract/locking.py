"""Whether a row is locked: a second transaction asks for it with a short lock timeout."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.store.contract.support import Store


def locks_row(store: Store, work: Callable[[Session], object], table: str, row_id: int) -> bool:
    """On PostgreSQL: whether, while ``work``'s transaction is open, the row ``row_id`` of
    ``table`` is locked against an update (another transaction's FOR UPDATE waits)."""
    with Session(store.db.engine) as holder, holder.begin():
        work(holder)
        with Session(store.db.engine) as asker, asker.begin():
            asker.execute(text("SET LOCAL lock_timeout = '100ms'"))
            try:
                asker.execute(
                    text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id}
                )
            except OperationalError as exc:
                assert getattr(exc.orig, "sqlstate", None) == "55P03"
                return True
            return False
