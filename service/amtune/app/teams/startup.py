"""Secure by default: which mode a server may start in, decided before it listens.

* No team and a loopback address: start open, as the single configured account, and say so.
* No team and any other address: refuse. An open server on a network is anyone's.
* Teams: start closed (every request signed), after checking that ``AMTUNE_SECRET_KEY``
  opens the stored secrets, so a wrong key is a start-up error rather than every request
  failing later.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy.orm import Session

from amtune.app.context import Context
from amtune.app.teams.secret_box import SecretBox, ServerKeyMismatch
from amtune.store import accounts


class StartupRefused(Exception):
    """The server must not start with this configuration; the message says what to do."""


@dataclass(frozen=True)
class Mode:
    closed: bool
    message: str


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def startup_mode(ctx: Context, host: str) -> Mode:
    def work(session: Session) -> tuple[bool, str | None]:
        if not accounts.any_account(session):
            return False, None
        key = accounts.one_active_key(session)
        return True, key.encrypted_secret if key is not None else None

    closed, sealed = ctx.run(work, readonly=True)
    if not closed:
        if not is_loopback(host):
            raise StartupRefused(
                f"refusing to listen on {host} with no team: every request would act for "
                f"account {ctx.settings.account_id} unauthenticated. Create a team first "
                "(`amtune teams create NAME`, with the same AMTUNE_DATABASE_URL and "
                "AMTUNE_SECRET_KEY), then clients sign requests with its key; or listen on "
                "127.0.0.1 for local use."
            )
        return Mode(
            closed=False,
            message=(
                f"no team exists: amtune is running OPEN on {host}, every request acts for "
                f"account {ctx.settings.account_id} without authentication. Run `amtune teams "
                "create NAME` to require signed requests."
            ),
        )
    if sealed is not None:
        try:
            SecretBox(ctx.settings.secret_key).open(sealed)
        except ServerKeyMismatch as exc:
            raise StartupRefused(
                f"{exc}. Start with the AMTUNE_SECRET_KEY the keys were created with."
            ) from None
    return Mode(closed=True, message="teams exist: every request must be signed")
