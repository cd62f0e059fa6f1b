"""Queries on teams (accounts) and their access keys. The application layer decides."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from amtune.store.models import AccessKeyRow, AccountRow


def any_account(session: Session) -> bool:
    return session.scalar(select(AccountRow.id).limit(1)) is not None


def account(session: Session, account_id: str, *, for_update: bool = False) -> AccountRow | None:
    query = select(AccountRow).where(AccountRow.account_id == account_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def account_named(session: Session, name: str) -> AccountRow | None:
    query = select(AccountRow).where(AccountRow.name_key == name.lower())
    return session.scalars(query).one_or_none()


def accounts(session: Session) -> Sequence[AccountRow]:
    return session.scalars(select(AccountRow).order_by(AccountRow.name_key)).all()


def access_key(session: Session, access_key_id: str) -> AccessKeyRow | None:
    query = select(AccessKeyRow).where(AccessKeyRow.access_key_id == access_key_id)
    return session.scalars(query).one_or_none()


def access_keys_of(session: Session, account_id: str) -> Sequence[AccessKeyRow]:
    query = (
        select(AccessKeyRow)
        .where(AccessKeyRow.account_id == account_id)
        .order_by(AccessKeyRow.created_at, AccessKeyRow.id)
    )
    return session.scalars(query).all()


def one_active_key(session: Session) -> AccessKeyRow | None:
    query = select(AccessKeyRow).where(AccessKeyRow.revoked_at.is_(None)).limit(1)
    return session.scalars(query).first()
