"""Teams and keys are never created under a server key anyone could know: the development
default, a placeholder that sample configurations ship (docker-compose.yml's own default among
them), or anything under 32 characters. The message says how to set a real one."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest
import yaml

from amtune.app.teams.secret_box import (
    MIN_SERVER_KEY_LENGTH,
    ServerKeyUnsafe,
    require_safe_server_key,
)
from amtune.settings import DEVELOPMENT_SECRET_KEY
from tests.teams.test_cli_and_startup import amtune, amtune_env

REPO = Path(__file__).resolve().parents[2]


def compose_default_secret() -> str:
    """The value `docker compose up` runs with when AMTUNE_SECRET_KEY is not set."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    value = compose["services"]["api"]["environment"]["AMTUNE_SECRET_KEY"]
    found = re.fullmatch(r"\$\{AMTUNE_SECRET_KEY:-(?P<default>[^}]*)\}", value)
    assert found, f"compose's AMTUNE_SECRET_KEY is {value!r}"
    return found.group("default")


@pytest.mark.parametrize(
    "key",
    [
        DEVELOPMENT_SECRET_KEY,
        "change-me-in-production",
        "CHANGE_ME_IN_PRODUCTION",
        "x" * (MIN_SERVER_KEY_LENGTH - 1),
        "",
    ],
)
def test_placeholder_or_short_keys_are_refused(key: str) -> None:
    with pytest.raises(ServerKeyUnsafe, match=r"export AMTUNE_SECRET_KEY=\$\(openssl rand"):
        require_safe_server_key(key)


def test_a_generated_key_is_accepted() -> None:
    require_safe_server_key(secrets.token_hex(16))  # 32 characters, as openssl rand -hex 16
    require_safe_server_key(secrets.token_urlsafe(32))


def test_teams_create_refuses_composes_default_and_says_how_to_fix_it(tmp_path: Path) -> None:
    env = amtune_env(f"sqlite:///{tmp_path / 'compose.db'}")
    env["AMTUNE_SECRET_KEY"] = compose_default_secret()
    refused = amtune(env, "teams", "create", "vision")
    assert refused.returncode == 1
    assert "AMTUNE_SECRET_KEY is a known placeholder" in refused.stderr
    assert ".env file beside docker-compose.yml" in refused.stderr
    assert json.loads(amtune(env, "teams", "list").stdout) == [], "nothing half-stored"

    short = amtune({**env, "AMTUNE_SECRET_KEY": "a-short-key-of-31-characters-xx"}, "keys",
                   "create", "vision")  # fmt: skip
    assert short.returncode == 1
    assert "shorter than 32 characters" in short.stderr
