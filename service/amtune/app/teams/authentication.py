"""Who is asking: the team an HTTP request speaks for, or a refusal with AWS's codes.

Two modes, decided by the database rather than by configuration, so that no replica can be
left open by mistake:

* **open**: no team exists yet. Every request acts for the one configured account
  (``AMTUNE_ACCOUNT_ID``) and any ``Authorization`` header is ignored. Only a loopback
  listener may run like this (see :mod:`amtune.app.teams.startup`).
* **closed**: at least one team exists. Every request must carry a valid signature (or, on
  the REST face, the bearer form) of an access key that is not revoked. Once a replica has
  seen a team it stays closed for its lifetime (teams are never deleted).

Keys are looked up on every request, never cached, so a revoked key stops working at once on
every replica.

Whether a team exists is asked at most once a second while the answer is "no". An unsigned
request in that second acts for the single open account, never for a team, so it can reach
no team's jobs; and ``create_team`` returns the first team's key only after that second, so
by the time anyone holds a key every replica has closed. Asking on every request was one
database round trip of the five that a worker's metric report costs.
"""

from __future__ import annotations

import datetime as dt
import hmac
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from amtune.app.context import Caller, Context
from amtune.app.sigv4 import (
    ALGORITHM,
    MISSING_TOKEN,
    UNRECOGNIZED,
    HttpRequest,
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    UnrecognizedClient,
    check_clock,
    check_covered,
    check_scope,
    parse_authorization,
    request_time,
    verify_signature,
)
from amtune.app.teams.secret_box import SecretBox
from amtune.app.teams.startup import is_loopback
from amtune.store import accounts

SERVICE = "sagemaker"
#: How long a replica trusts "no team exists" before asking the database again.
OPEN_RECHECK_SECONDS = 1.0
BEARER = "Bearer"
BEARER_NEEDS_TLS = (
    "The bearer form sends the secret access key itself, so amtune takes it only over TLS "
    "(https) or from a loopback listener. Sign the request with SigV4 (AWS4-HMAC-SHA256), or "
    "put TLS in front of amtune (docs/tls.md)."
)


@dataclass(frozen=True)
class _Key:
    account_id: str
    encrypted_secret: str


class Authenticator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._box = SecretBox(ctx.settings.secret_key)
        self._closed = False
        self._open_until = 0.0
        self._loopback = is_loopback(ctx.settings.host)

    def is_closed(self) -> bool:
        """Whether any team exists (sticky once true: closing is one-way)."""
        if self._closed:
            return True
        now = time.monotonic()
        if now < self._open_until:
            return False
        self._closed = self.ctx.run(accounts.any_account, readonly=True)
        if not self._closed:
            self._open_until = now + OPEN_RECHECK_SECONDS
        return self._closed

    def known_open(self) -> Caller | None:
        """The open account's caller while "no team" is still trusted; no I/O, so the event
        loop may ask before handing the request to a thread."""
        if self._closed or time.monotonic() >= self._open_until:
            return None
        return Caller(account_id=self.ctx.settings.account_id)

    def caller(self, request: HttpRequest, *, allow_bearer: bool, service: str = SERVICE) -> Caller:
        """The caller a request proves to be; raises an AuthenticationError otherwise.

        ``allow_bearer``: the REST face and the worker protocol also take
        ``Authorization: Bearer <AccessKeyId>:<SecretAccessKey>``, but only over TLS or on a
        loopback listener, since it carries the secret itself; the AWS face takes SigV4 only,
        as AWS does.
        """
        if not self.is_closed():
            return Caller(account_id=self.ctx.settings.account_id)
        header = (request.header("authorization") or "").strip()
        if not header:
            raise MissingAuthenticationToken(MISSING_TOKEN)
        scheme = header.split(" ", 1)[0]
        if scheme == ALGORITHM:
            return self._sigv4(request, header, service)
        if allow_bearer and scheme.lower() == BEARER.lower():
            if not (request.secure or self._loopback):
                raise IncompleteSignature(BEARER_NEEDS_TLS)
            return self._bearer(header[len(scheme) :].strip())
        accepted = f"'{ALGORITHM}'" + (
            " or 'Bearer <AccessKeyId>:<SecretAccessKey>'" if allow_bearer else ""
        )
        raise IncompleteSignature(
            f"Unsupported Authorization scheme '{scheme[:32]}': use {accepted}."
        )

    def _sigv4(self, request: HttpRequest, header: str, service: str) -> Caller:
        auth = parse_authorization(header)
        date_header, signed_at, moment = request_time(request)
        check_scope(
            auth,
            signed_at,
            region=self.ctx.settings.region,
            service=service,
            date_header=date_header,
        )
        check_covered(auth, request)
        check_clock(moment, dt.datetime.fromtimestamp(self.ctx.clock(), dt.UTC))
        key = self._key(auth.access_key_id)
        verify_signature(request, auth, signed_at, self._box.open(key.encrypted_secret))
        return Caller(account_id=key.account_id)

    def _bearer(self, token: str) -> Caller:
        key_id, sep, secret = token.partition(":")
        if not sep or not key_id or not secret:
            raise IncompleteSignature("The bearer token must be '<AccessKeyId>:<SecretAccessKey>'.")
        return self.with_secret(key_id, secret)

    def with_secret(self, access_key_id: str, secret: str) -> Caller:
        """The team of an active key whose secret is ``secret`` (bearer tokens, the console's
        sign-in); raises UnrecognizedClient or InvalidSignature otherwise."""
        key = self._key(access_key_id)
        expected = self._box.open(key.encrypted_secret)
        if not hmac.compare_digest(expected.encode(), secret.encode()):
            raise InvalidSignature("The secret access key does not match the access key id.")
        return Caller(account_id=key.account_id)

    def active_key_account(self, access_key_id: str) -> str:
        """The account of an active key; UnrecognizedClient once it is revoked or unknown."""
        return self._key(access_key_id).account_id

    def _key(self, access_key_id: str) -> _Key:
        """The active key's account and sealed secret; unknown and revoked look the same."""

        def work(session: Session) -> _Key | None:
            row = accounts.access_key(session, access_key_id)
            if row is None or row.revoked_at is not None:
                return None
            return _Key(row.account_id, row.encrypted_secret)

        key = self.ctx.run(work, readonly=True)
        if key is None:
            raise UnrecognizedClient(UNRECOGNIZED)
        return key
