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

MIN_SERVER_KEY_LENGTH = 16
INFO = b"amtune access-key secrets v1"


class ServerKeyUnsafe(Exception):
    """``AMTUNE_SECRET_KEY`` is the development default or too short to protect secrets."""


class ServerKeyMismatch(Exception):
    """A stored secret does not decrypt: ``AMTUNE_SECRET_KEY`` differs from when it was made."""


def require_safe_server_key(server_key: str) -> None:
    if server_key == DEVELOPMENT_SECRET_KEY or len(server_key) < MIN_SERVER_KEY_LENGTH:
        raise ServerKeyUnsafe(
            "AMTUNE_SECRET_KEY is the development default (or shorter than "
            f"{MIN_SERVER_KEY_LENGTH} characters). Access-key secrets are encrypted with it, "
            "so set it to a long random value, the same on every replica, before creating "
            "keys, e.g. AMTUNE_SECRET_KEY=$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
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
