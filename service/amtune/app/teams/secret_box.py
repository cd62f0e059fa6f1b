"""Access-key secrets at rest: encrypted with a key derived from ``AMTUNE_SECRET_KEY``.

SigV4 verification needs the secret itself, so a hash will not do; Fernet (AES-128-CBC with an
HMAC-SHA256 tag) makes a stolen database dump useless without the server key, and its tag
makes a tampered ciphertext fail loudly instead of decrypting to garbage. The Fernet key is
derived with HKDF so that the server key can be any string, and so that the bytes encrypting
secrets are never the same bytes that sign paging tokens.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from amtune.settings import DEVELOPMENT_SECRET_KEY

#: 32 characters: what ``secrets.token_urlsafe(24)`` or ``openssl rand -hex 16`` print, so a
#: key at least that long was most likely generated, not typed.
MIN_SERVER_KEY_LENGTH = 32
INFO = b"amtune access-key secrets v1"

#: Values that sample configurations ship (docker-compose.yml's default among them), compared
#: with case and punctuation ignored: a long placeholder is as public as a short one.
PLACEHOLDER_SERVER_KEYS = frozenset(
    {
        DEVELOPMENT_SECRET_KEY,
        "change-me-in-production",
        "changeme",
        "change-me",
        "changethis",
        "please-change-me",
        "replace-me",
        "secret",
        "secret-key",
        "your-secret-key",
        "your-secret-key-here",
    }
)

HOW_TO_SET = (
    "Set it to a long random value, the same on every replica, before creating teams or keys, "
    "e.g. export AMTUNE_SECRET_KEY=$(openssl rand -hex 32) (with docker compose: put "
    "AMTUNE_SECRET_KEY=... in the .env file beside docker-compose.yml)"
)


class ServerKeyUnsafe(Exception):
    """``AMTUNE_SECRET_KEY`` is a known placeholder or too short to protect secrets."""


class ServerKeyMismatch(Exception):
    """A stored secret does not decrypt: ``AMTUNE_SECRET_KEY`` differs from when it was made."""


def _canonical(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())


def require_safe_server_key(server_key: str) -> None:
    """Refuse to encrypt access-key secrets with a key anyone could know or guess.

    Called by every command that creates a secret (``teams create``, ``keys create``): the
    secrets are encrypted with this key, so a placeholder would make a database dump readable.
    """
    if server_key == DEVELOPMENT_SECRET_KEY:
        problem = "is the development default"
    elif _canonical(server_key) in {_canonical(known) for known in PLACEHOLDER_SERVER_KEYS}:
        problem = f"is a known placeholder ({server_key!r})"
    elif len(server_key) < MIN_SERVER_KEY_LENGTH:
        problem = f"is shorter than {MIN_SERVER_KEY_LENGTH} characters"
    else:
        return
    raise ServerKeyUnsafe(
        f"AMTUNE_SECRET_KEY {problem}: access-key secrets are encrypted with it. {HOW_TO_SET}"
    )


class SecretBox:
    def __init__(self, server_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(
            server_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ServerKeyMismatch(
                "a stored access-key secret does not decrypt with AMTUNE_SECRET_KEY: the key "
                "differs from the one the access keys were created with"
            ) from None
