"""Console sessions: a signed cookie value naming the account, the key and a CSRF token.

Signing in checks an access key id and secret exactly as the bearer form of the API does;
the session then holds the key id, not the secret, and every request re-checks that the key
is still active, so revoking a key ends its sessions on every replica at once. The value is
HMAC-SHA256 signed with a key derived from the server key, so replicas sharing
``AMTUNE_SECRET_KEY`` accept each other's sessions and nothing is stored server-side. The
CSRF token travels in the session and, separately, in each page; an action must send it
back in a header (double submit), which a cross-site form cannot do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from amtune.app.context import Caller
from amtune.app.sigv4 import AuthenticationError
from amtune.app.teams.authentication import Authenticator

SESSION_SECONDS = 12 * 3600
OPEN_KEY = ""  # the key id of a session in open mode, where no keys exist


@dataclass(frozen=True)
class Session:
    caller: Caller
    access_key_id: str
    csrf: str
    expires_at: float


class ConsoleSessions:
    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator
        secret = authenticator.ctx.settings.secret_key.encode()
        self._mac_key = hashlib.sha256(b"amtune console session\0" + secret).digest()

    def open_mode(self) -> bool:
        return not self.authenticator.is_closed()

    def sign_in(self, access_key_id: str, secret: str) -> tuple[Session, str]:
        """A new session for a valid key, and its cookie value."""
        caller = self.authenticator.with_secret(access_key_id, secret)
        return self._issue(caller, access_key_id)

    def open_session(self) -> tuple[Session, str]:
        """A session for the open account; only while no team exists."""
        return self._issue(Caller(self.authenticator.ctx.settings.account_id), OPEN_KEY)

    def _issue(self, caller: Caller, key: str) -> tuple[Session, str]:
        session = Session(
            caller=caller,
            access_key_id=key,
            csrf=secrets.token_urlsafe(24),
            expires_at=self.authenticator.ctx.clock() + SESSION_SECONDS,
        )
        payload = json.dumps(
            [caller.account_id, key, session.csrf, session.expires_at], separators=(",", ":")
        ).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return session, f"{body}.{self._mac(body)}"

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._mac_key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def read(self, value: str | None) -> Session | None:
        """The session a cookie value proves, or None (bad signature, expired, key revoked,
        an open-mode session once teams exist)."""
        if not value or "." not in value:
            return None
        body, mac = value.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            account, key, csrf, expires = json.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
        except ValueError:
            return None
        if float(expires) < self.authenticator.ctx.clock():
            return None
        closed = self.authenticator.is_closed()
        if key == OPEN_KEY:
            if closed or account != self.authenticator.ctx.settings.account_id:
                return None
        else:
            try:
                if self.authenticator.active_key_account(key) != account:
                    return None
            except AuthenticationError:
                return None
        return Session(Caller(account), key, csrf, float(expires))
