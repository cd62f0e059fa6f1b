"""Who is looking at the console, and whether an action really comes from its pages.

Sessions live in a cookie that is HttpOnly (no script reads it), SameSite=Strict (no other
site's page sends it) and Secure when the request came over TLS. An action (any POST but the
sign-in form) must also carry the session's CSRF token in ``X-CSRF-Token`` (double submit), and
an ``Origin`` header, when the browser sends one, must name this host.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from amtune.api.auth import authenticator_for
from amtune.api.deps import the_tuner
from amtune.app.sigv4 import AuthenticationError
from amtune.app.teams.console_sessions import SESSION_SECONDS, ConsoleSessions, Session
from amtune.observe.context import note_account

COOKIE = "amtune_console"
CSRF_HEADER = "x-csrf-token"


class NotSignedIn(AuthenticationError):
    code = "NotSignedIn"


class CrossSiteRequest(AuthenticationError):
    code = "CrossSiteRequest"


def sessions_for(request: Request) -> ConsoleSessions:
    state = request.app.state
    authenticator = authenticator_for(request, the_tuner(request))
    sessions: ConsoleSessions | None = getattr(state, "console_sessions", None)
    if sessions is None or sessions.authenticator is not authenticator:
        sessions = state.console_sessions = ConsoleSessions(authenticator)
    return sessions


async def current_session(request: Request) -> Session | None:
    sessions = sessions_for(request)
    session = await run_in_threadpool(sessions.read, request.cookies.get(COOKIE))
    if session is not None:
        note_account(session.caller.account_id)
    return session


async def page_session(request: Request) -> tuple[Session | None, str | None]:
    """The page's session; in open mode a new one (and its cookie value) when there is none."""
    session = await current_session(request)
    if session is not None:
        return session, None
    sessions = sessions_for(request)
    if await run_in_threadpool(sessions.open_mode):
        session, cookie = sessions.open_session()
        note_account(session.caller.account_id)
        return session, cookie
    return None, None


async def api_session(request: Request) -> Session:
    """The session of a console API call; actions also pass the CSRF checks."""
    if request.method not in ("GET", "HEAD"):
        check_origin(request)
    session = await current_session(request)
    if session is None:
        raise NotSignedIn("Sign in to the console first.")
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or sent != session.csrf:
            raise CrossSiteRequest("The request lacks this session's CSRF token.")
    return session


def check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None:
        return
    expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin != expected:
        raise CrossSiteRequest(f"Origin {origin} is not this console's origin.")


def set_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=SESSION_SECONDS,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
