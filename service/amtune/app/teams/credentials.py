"""New identifiers and secrets, shaped as AWS issues them so every client accepts them."""

from __future__ import annotations

import re
import secrets
import string

#: AWS long-term access key ids: "AKIA" and 16 characters of the base-32 alphabet.
KEY_ID_PREFIX = "AKIA"
KEY_ID_ALPHABET = string.ascii_uppercase + "234567"
KEY_ID_PATTERN = re.compile(r"^AKIA[A-Z2-7]{16}$")
#: AWS secret access keys: 40 characters of base-64 letters (about 238 bits).
SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
SECRET_LENGTH = 40


def new_access_key_id() -> str:
    return KEY_ID_PREFIX + "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def new_account_id() -> str:
    """Twelve digits, not starting with 0 (some tools strip a leading zero)."""
    return str(secrets.choice("123456789")) + "".join(
        secrets.choice(string.digits) for _ in range(11)
    )
