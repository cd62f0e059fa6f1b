"""Managing teams and their access keys: what ``amtune teams`` and ``amtune keys`` do.

A secret is returned exactly once, by the call that creates it; every other view of a key
shows its id and state only. Secrets are never logged.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amtune.app.context import Context
from amtune.app.errors import ResourceInUse, ResourceNotFound, ValidationError
from amtune.app.teams.authentication import OPEN_RECHECK_SECONDS
from amtune.app.teams.credentials import (
    new_access_key_id,
    new_account_id,
    new_secret_access_key,
)
from amtune.app.teams.quotas import MAX_PARALLEL_CEILING
from amtune.app.teams.secret_box import SecretBox, require_safe_server_key
from amtune.store import accounts
from amtune.store.models import AccessKeyRow, AccountRow

log = logging.getLogger(__name__)

TEAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
CREATE_ATTEMPTS = 5


@dataclass(frozen=True)
class NewKey:
    access_key_id: str
    secret_access_key: str
    account_id: str

    def render(self) -> dict[str, str]:
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "AccountId": self.account_id,
        }

    def __repr__(self) -> str:  # never let a secret reach a log line by accident
        return f"NewKey(access_key_id={self.access_key_id!r}, account_id={self.account_id!r})"


def _check_quotas(max_concurrent: int | None, max_parallel: int | None) -> None:
    if max_concurrent is not None and max_concurrent < 1:
        raise ValidationError("The concurrent tuning jobs quota must be at least 1.")
    if max_parallel is not None and not 1 <= max_parallel <= MAX_PARALLEL_CEILING:
        raise ValidationError(
            f"The MaxParallelTrainingJobs quota must be between 1 and {MAX_PARALLEL_CEILING}."
        )


def _team(session: Session, team: str) -> AccountRow:
    """A team by name, or by its account id."""
    row = accounts.account(session, team) if ACCOUNT_ID.match(team) else None
    row = row or accounts.account_named(session, team)
    if row is None:
        raise ResourceNotFound(f"No team named or numbered '{team}'.")
    return row


def _add_key(ctx: Context, session: Session, account_id: str) -> NewKey:
    secret = new_secret_access_key()
    key = NewKey(new_access_key_id(), secret, account_id)
    session.add(
        AccessKeyRow(
            access_key_id=key.access_key_id,
            account_id=account_id,
            encrypted_secret=SecretBox(ctx.settings.secret_key).seal(secret),
            created_at=ctx.now(),
        )
    )
    session.flush()
    return key


def create_team(
    ctx: Context,
    name: str,
    *,
    account_id: str | None = None,
    max_concurrent_tuning_jobs: int | None = None,
    max_parallel_training_jobs: int | None = None,
) -> NewKey:
    """A new team with its first access key. ``account_id`` adopts a given id (e.g. the
    single account's, to keep the jobs made while the service ran open)."""
    require_safe_server_key(ctx.settings.secret_key)
    if not TEAM_NAME.match(name):
        raise ValidationError(
            f"Team name '{name}' must be 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    if account_id is not None and not ACCOUNT_ID.match(account_id):
        raise ValidationError(f"Account id '{account_id}' must be exactly 12 digits.")
    _check_quotas(max_concurrent_tuning_jobs, max_parallel_training_jobs)

    first = False

    def work(session: Session) -> NewKey:
        nonlocal first
        first = not accounts.any_account(session)
        if accounts.account_named(session, name) is not None:
            raise ResourceInUse(f"A team named '{name}' already exists.")
        chosen = account_id or new_account_id()
        if accounts.account(session, chosen) is not None:
            raise ResourceInUse(f"Account id {chosen} already belongs to a team.")
        session.add(
            AccountRow(
                account_id=chosen,
                name=name,
                name_key=name.lower(),
                max_concurrent_tuning_jobs=max_concurrent_tuning_jobs,
                max_parallel_training_jobs=max_parallel_training_jobs,
                created_at=ctx.now(),
            )
        )
        session.flush()
        return _add_key(ctx, session, chosen)

    key = _retrying_collisions(ctx, work, explicit=account_id is not None, name=name)
    log.info("created team %s (account %s), key %s", name, key.account_id, key.access_key_id)
    if first:
        # Replicas running open re-check for teams once a second: the key is handed over
        # only when every one of them has closed.
        time.sleep(OPEN_RECHECK_SECONDS + 0.2)
    return key


def create_key(ctx: Context, team: str) -> NewKey:
    """Another access key for a team (e.g. to rotate: create, switch clients, revoke)."""
    require_safe_server_key(ctx.settings.secret_key)

    def work(session: Session) -> NewKey:
        return _add_key(ctx, session, _team(session, team).account_id)

    key = _retrying_collisions(ctx, work, explicit=False, name=team)
    log.info("created key %s for account %s", key.access_key_id, key.account_id)
    return key


def _retrying_collisions(ctx: Context, work: Any, *, explicit: bool, name: str) -> NewKey:
    """Random ids collide almost never; when they do, the unique keys say so: draw again."""
    for attempt in range(CREATE_ATTEMPTS):
        try:
            result: NewKey = ctx.run(work)
            return result
        except IntegrityError as exc:
            if explicit or attempt == CREATE_ATTEMPTS - 1:
                # Another process created the same team name at the same moment.
                raise ResourceInUse(f"A team named '{name}' already exists.") from exc
    raise AssertionError("unreachable")  # pragma: no cover


def revoke_key(ctx: Context, access_key_id: str) -> dict[str, Any]:
    """Revoke at once: the next request signed with the key is refused, on every replica
    (each request reads the key's state from the database). Revoking twice is harmless."""

    def work(session: Session) -> dict[str, Any]:
        row = accounts.access_key(session, access_key_id)
        if row is None:
            raise ResourceNotFound(f"No access key '{access_key_id}'.")
        if row.revoked_at is None:
            row.revoked_at = ctx.now()
        return _key_view(row)

    result = ctx.run(work)
    log.info("revoked key %s", access_key_id)
    return result


def update_team(
    ctx: Context,
    team: str,
    *,
    max_concurrent_tuning_jobs: int | None = None,
    max_parallel_training_jobs: int | None = None,
) -> dict[str, Any]:
    """Set a team's quotas (0 means: back to the service default)."""
    _check_quotas(max_concurrent_tuning_jobs or None, max_parallel_training_jobs or None)

    def work(session: Session) -> dict[str, Any]:
        row = _team(session, team)
        if max_concurrent_tuning_jobs is not None:
            row.max_concurrent_tuning_jobs = max_concurrent_tuning_jobs or None
        if max_parallel_training_jobs is not None:
            row.max_parallel_training_jobs = max_parallel_training_jobs or None
        session.flush()
        return _team_view(ctx, session, row)

    return ctx.run(work)


def list_teams(ctx: Context) -> list[dict[str, Any]]:
    def work(session: Session) -> list[dict[str, Any]]:
        return [_team_view(ctx, session, row) for row in accounts.accounts(session)]

    return ctx.run(work, readonly=True)


def _team_view(ctx: Context, session: Session, row: AccountRow) -> dict[str, Any]:
    settings = ctx.settings
    return {
        "Name": row.name,
        "AccountId": row.account_id,
        "CreationTime": row.created_at,
        "Quotas": {
            "MaxConcurrentTuningJobs": row.max_concurrent_tuning_jobs
            or settings.max_concurrent_tuning_jobs,
            "MaxParallelTrainingJobs": row.max_parallel_training_jobs
            or settings.max_parallel_training_jobs,
        },
        "AccessKeys": [_key_view(key) for key in accounts.access_keys_of(session, row.account_id)],
    }


def _key_view(row: AccessKeyRow) -> dict[str, Any]:
    view: dict[str, Any] = {
        "AccessKeyId": row.access_key_id,
        "AccountId": row.account_id,
        "Status": "Active" if row.revoked_at is None else "Inactive",
        "CreationTime": row.created_at,
    }
    if row.revoked_at is not None:
        view["RevocationTime"] = row.revoked_at
    return view
