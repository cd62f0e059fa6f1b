"""Opaque NextToken values for the List operations.

A token carries the keyset position (last sort value and row id) and a digest of the query it
belongs to, and is signed, so a forged or foreign token is a ValidationException rather than
a wrong page. Keyset paging means rows inserted while a client pages never shift the pages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from amtune.app.errors import ValidationError

TOKEN_ERROR = "Invalid pagination token: NextToken was not issued for this request."


@dataclass(frozen=True)
class Cursor:
    value: Any
    row_id: int


class TokenCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("amtune-next-token:" + secret).encode()).digest()

    def _query_digest(self, query: dict[str, Any]) -> str:
        canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def encode(self, cursor: Cursor, query: dict[str, Any]) -> str:
        payload = json.dumps(
            {"v": cursor.value, "i": cursor.row_id, "q": self._query_digest(query)},
            separators=(",", ":"),
        ).encode()
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, token: str | None, query: dict[str, Any]) -> Cursor | None:
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            mac, payload = raw[:16], raw[16:]
            expected = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
            if not hmac.compare_digest(mac, expected):
                raise ValueError("bad signature")
            data = json.loads(payload)
            if data["q"] != self._query_digest(query):
                raise ValueError("token of another query")
            return Cursor(value=data["v"], row_id=int(data["i"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(TOKEN_ERROR) from exc
