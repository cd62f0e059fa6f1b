"""Teams: accounts with quotas and access keys, and authenticating requests as one of them."""

from __future__ import annotations

from amtune.app.teams.admin import (
    NewKey,
    create_key,
    create_team,
    list_teams,
    revoke_key,
    update_team,
)
from amtune.app.teams.authentication import Authenticator
from amtune.app.teams.quotas import Quotas, quotas_for
from amtune.app.teams.secret_box import ServerKeyMismatch, ServerKeyUnsafe
from amtune.app.teams.startup import Mode, StartupRefused, is_loopback, startup_mode

__all__ = [
    "Authenticator",
    "Mode",
    "NewKey",
    "Quotas",
    "ServerKeyMismatch",
    "ServerKeyUnsafe",
    "StartupRefused",
    "create_key",
    "create_team",
    "is_loopback",
    "list_teams",
    "quotas_for",
    "revoke_key",
    "startup_mode",
    "update_team",
]
