"""Verifying AWS Signature Version 4 the way an AWS JSON service does, for both faces.

SigV4 never sends the secret: the client signs a canonical form of the request with a key
derived from it, and the server, which must hold the same secret, recomputes the signature and
compares. Everything here is pure (no database, no clock of its own) so the rules can be tested
against signatures botocore makes. The canonical form itself is built by
:mod:`amtune.sdk.sigv4_canonical`, which the SDK's signer uses too.

The server's own answers use the codes and messages AWS sends for the same faults.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from amtune.app.errors import AmtuneError
from amtune.sdk import sigv4_canonical as canonical

ALGORITHM = canonical.ALGORITHM
TERMINATOR = canonical.TERMINATOR
#: AWS refuses a request signed more than five minutes away from its own clock.
MAX_SKEW = dt.timedelta(minutes=5)
AMZ_DATE = canonical.AMZ_DATE


class AuthenticationError(AmtuneError):
    """The request does not prove who sent it. The REST face answers these with 403."""


class MissingAuthenticationToken(AuthenticationError):
    code = "MissingAuthenticationTokenException"


class IncompleteSignature(AuthenticationError):
    code = "IncompleteSignatureException"


class InvalidSignature(AuthenticationError):
    code = "InvalidSignatureException"


class UnrecognizedClient(AuthenticationError):
    code = "UnrecognizedClientException"


MISSING_TOKEN = "Request is missing Authentication Token"
UNRECOGNIZED = "The security token included in the request is invalid."
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


@dataclass(frozen=True)
class HttpRequest:
    """A request exactly as it arrived: what a signature covers, before any decoding."""

    method: str
    raw_path: str
    query_string: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    #: It came over TLS (the ASGI scheme is https, directly or through a trusted proxy).
    secure: bool = False

    def header(self, name: str) -> str | None:
        """Every value of a header (case-insensitive), joined with commas as HTTP allows."""
        values = [value for key, value in self.headers if key.lower() == name]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class Authorization:
    """The parsed ``Authorization: AWS4-HMAC-SHA256 Credential=..., ...`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


def parse_authorization(value: str) -> Authorization:
    """Split the header into its parts; a part missing or malformed is IncompleteSignature."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'.")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, part = item.strip().partition("=")
        if sep:
            parts[key.strip()] = part.strip()
    missing = [k for k in ("Credential", "Signature", "SignedHeaders") if not parts.get(k)]
    if missing:
        raise IncompleteSignature(
            " ".join(f"Authorization header requires '{k}' parameter." for k in missing)
        )
    credential = parts["Credential"].split("/")
    if len(credential) != 5 or not all(credential):
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{parts['Credential']}'"
        )
    signature = parts["Signature"].lower()
    if not re.fullmatch(r"[0-9a-f]{64}", signature):
        raise IncompleteSignature("The Signature must be 64 hexadecimal characters.")
    key_id, date, region, service, terminator = credential
    return Authorization(
        access_key_id=key_id,
        date=date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=tuple(h.strip().lower() for h in parts["SignedHeaders"].split(";")),
        signature=signature,
    )


def request_time(request: HttpRequest) -> tuple[str, str, dt.datetime]:
    """(header used, timestamp as signed, moment): ``X-Amz-Date``, else the HTTP ``Date``."""
    amz_date = request.header("x-amz-date")
    if amz_date is not None:
        try:
            moment = dt.datetime.strptime(amz_date.strip(), AMZ_DATE).replace(tzinfo=dt.UTC)
        except ValueError:
            raise IncompleteSignature(
                f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
                "See http://en.wikipedia.org/wiki/ISO_8601"
            ) from None
        return "x-amz-date", amz_date.strip(), moment
    date = request.header("date")
    if date is not None:
        try:
            moment = parsedate_to_datetime(date).astimezone(dt.UTC)
        except (TypeError, ValueError):
            raise IncompleteSignature(f"Date must be an HTTP date. Got '{date}'.") from None
        return "date", moment.strftime(AMZ_DATE), moment
    raise IncompleteSignature(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    )


def check_scope(
    auth: Authorization, signed_at: str, *, region: str, service: str, date_header: str
) -> None:
    """The credential scope must name this service, its region and the request's own day."""
    if auth.terminator != TERMINATOR:
        raise InvalidSignature(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{auth.terminator}'."
        )
    if auth.date != signed_at[:8]:
        raise InvalidSignature(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{auth.date}' != '{signed_at[:8]}', from '{signed_at}'."
        )
    if auth.service != service:
        raise InvalidSignature(f"Credential should be scoped to correct service: '{service}'. ")
    if auth.region != region:
        raise InvalidSignature(
            f"Credential should be scoped to a valid region, not '{auth.region}'. "
        )
    if "host" not in auth.signed_headers:
        raise InvalidSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    if date_header not in auth.signed_headers:
        raise InvalidSignature(
            f"'{date_header}' must be a 'SignedHeader' in the AWS Authorization."
        )


#: Headers a signature must cover whenever a request carries them: which operation it is
#: (``X-Amz-Target``: otherwise a captured Describe could be replayed as a Stop or a Delete),
#: how its body is read, and the session token. ``Host`` and the date are checked with the
#: scope. Every AWS SDK signs these.
MUST_BE_SIGNED = {
    "x-amz-target": "X-Amz-Target",
    "content-type": "Content-Type",
    "x-amz-security-token": "X-Amz-Security-Token",
}


def check_covered(auth: Authorization, request: HttpRequest) -> None:
    """Each header of :data:`MUST_BE_SIGNED` the request carries is one it signed."""
    for name, spelled in MUST_BE_SIGNED.items():
        if request.header(name) is not None and name not in auth.signed_headers:
            raise InvalidSignature(
                f"'{spelled}' must be a 'SignedHeader' in the AWS Authorization."
            )


def check_clock(moment: dt.datetime, now: dt.datetime) -> None:
    """Refuse a signature made more than five minutes before or after ``now``."""
    if moment < now - MAX_SKEW:
        raise InvalidSignature(
            f"Signature expired: {_basic(moment)} is now earlier than "
            f"{_basic(now - MAX_SKEW)} ({_basic(now)} - 5 min.)"
        )
    if moment > now + MAX_SKEW:
        raise InvalidSignature(
            f"Signature not yet current: {_basic(moment)} is still later than "
            f"{_basic(now + MAX_SKEW)} ({_basic(now)} + 5 min.)"
        )


def payload_hash(request: HttpRequest) -> str:
    computed = hashlib.sha256(request.body).hexdigest()
    declared = request.header("x-amz-content-sha256")
    if declared is not None and declared.strip() != computed:
        raise InvalidSignature(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    return computed


def canonical_request(request: HttpRequest, signed_headers: Sequence[str]) -> str:
    return canonical.canonical_request(
        request.method,
        request.raw_path,
        request.query_string,
        request.headers,
        signed_headers,
        payload_hash(request),
    )


def verify_signature(
    request: HttpRequest, auth: Authorization, signed_at: str, secret: str
) -> None:
    """Recompute the signature with ``secret``; compare in constant time."""
    form = canonical_request(request, auth.signed_headers)
    to_sign = canonical.string_to_sign(signed_at, auth.scope, form)
    key = canonical.signing_key(secret, auth.date, auth.region, auth.service)
    expected = canonical.signature(key, to_sign)
    if not hmac.compare_digest(expected, auth.signature):
        # As AWS does: show what was signed (never the key or the signature expected), so a
        # client author can see which part of the request was canonicalised differently.
        raise InvalidSignature(
            f"{SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n"
            f"'{form}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n"
        )


def _basic(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(AMZ_DATE)
