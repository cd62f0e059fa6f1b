"""Authenticating an HTTP request: the request as signed, handed to the application layer.

A signature covers the request as it travelled, so this takes the raw path and query string
from the ASGI scope (never the decoded, routed ones) and every header occurrence.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from amtune.app.context import Caller
from amtune.app.service import Tuner
from amtune.app.sigv4 import HttpRequest
from amtune.app.teams import Authenticator
from amtune.app.teams.authentication import SERVICE
from amtune.observe.context import note_account


def authenticator_for(request: Request, tuner: Tuner) -> Authenticator:
    """One per application: it remembers that the service has closed (teams exist)."""
    state = request.app.state
    authenticator: Authenticator | None = getattr(state, "authenticator", None)
    if authenticator is None or authenticator.ctx is not tuner.ctx:
        authenticator = state.authenticator = Authenticator(tuner.ctx)
    return authenticator


async def as_signed(request: Request) -> HttpRequest:
    scope = request.scope
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(scope["path"], safe="/")
    return HttpRequest(
        method=request.method,
        raw_path=path.split("?", 1)[0],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
        body=await request.body(),
        secure=scope.get("scheme") == "https",
    )


async def authenticate(
    request: Request, tuner: Tuner, *, allow_bearer: bool, service: str = SERVICE
) -> Caller:
    authenticator = authenticator_for(request, tuner)
    known = authenticator.known_open()
    if known is not None:
        note_account(known.account_id)
        return known
    signed = await as_signed(request)
    # The key lookup is a database query: off the event loop.
    caller: Caller = await run_in_threadpool(
        authenticator.caller, signed, allow_bearer=allow_bearer, service=service
    )
    note_account(caller.account_id)
    return caller
