"""The canonical form of an AWS Signature Version 4 request, shared by the signer and the verifier.

The SDK's signer (:mod:`amtune.sdk.sigv4`) and the server's verifier (:mod:`amtune.app.sigv4`)
must build exactly the same bytes from the same request, or a signature made by one fails in
the other; so both build them here. It lives in the SDK package, which may import nothing of the
server, and uses the standard library only. The rules are those AWS applies to every service
but S3:

* the URI path as sent (already percent-encoded once), dot segments and empty segments removed,
  then percent-encoded once more (every byte but ``A-Z a-z 0-9 - _ . ~ /``);
* the query parameters decoded, re-encoded with the same unreserved set, sorted by name then
  value (``+`` in a query decodes to a space, as form encoding sends it);
* each signed header, lower-cased, its values trimmed, runs of spaces collapsed, repeated
  headers joined with commas, in the order ``SignedHeaders`` lists them;
* the hex SHA-256 of the body;

then a string to sign of the algorithm, the timestamp, the credential scope
``<date>/<region>/<service>/aws4_request`` and the SHA-256 of that canonical request, signed
with an HMAC-SHA256 key derived from the secret through date, region, service and terminator.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import quote, unquote_plus

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
AMZ_DATE = "%Y%m%dT%H%M%SZ"
UNRESERVED = "-_.~"


def canonical_uri(raw_path: str) -> str:
    """Dot segments and empty segments go, then the encoded path is encoded again."""
    segments: list[str] = []
    for segment in raw_path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    path = "/" + "/".join(segments)
    if raw_path.endswith("/") and segments:
        path += "/"
    return quote(path, safe="/~")


def canonical_query(query_string: str) -> str:
    pairs = []
    for item in query_string.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append(
            (
                quote(unquote_plus(key), safe=UNRESERVED),
                quote(unquote_plus(value), safe=UNRESERVED),
            )
        )
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def canonical_headers(headers: Sequence[tuple[str, str]], signed_headers: Sequence[str]) -> str:
    """``name:value`` lines of the signed headers (``headers`` as sent, any case)."""
    lines = ""
    for name in signed_headers:
        values = [" ".join(v.split()) for k, v in headers if k.lower() == name]
        lines += f"{name}:{','.join(values)}\n"
    return lines


def canonical_request(
    method: str,
    raw_path: str,
    query_string: str,
    headers: Sequence[tuple[str, str]],
    signed_headers: Sequence[str],
    body_sha256: str,
) -> str:
    return "\n".join(
        [
            method.upper(),
            canonical_uri(raw_path),
            canonical_query(query_string),
            canonical_headers(headers, signed_headers),
            ";".join(signed_headers),
            body_sha256,
        ]
    )


def credential_scope(date: str, region: str, service: str) -> str:
    return f"{date}/{region}/{service}/{TERMINATOR}"


def string_to_sign(signed_at: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return "\n".join([ALGORITHM, signed_at, scope, digest])


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signature(key: bytes, to_sign: str) -> str:
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
