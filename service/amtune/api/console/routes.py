"""The console's routes: HTML pages, the JSON they fetch, the CSV download and the actions.

Pages are static HTML shells (``pages/``) that ``static/console.js`` fills from the JSON
routes below; each JSON route parses its query once and calls one function of the application
layer (``app.console`` or the Tuner), scoped to the session's account.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from amtune.api import schemas
from amtune.api.console.access import (
    api_session,
    check_origin,
    clear_cookie,
    page_session,
    sessions_for,
    set_cookie,
)
from amtune.api.console.static_files import CompressedStaticFiles
from amtune.api.deps import the_tuner
from amtune.app import console
from amtune.app.sigv4 import AuthenticationError
from amtune.app.teams.console_sessions import Session

HERE = Path(__file__).parent
PAGES = {path.stem: path.read_text() for path in (HERE / "pages").glob("*.html")}
# The signed-in pages share their head and header (``pages/_frame.html``); each page's file
# holds its own head lines (title, preloads) and then its ``<main>``.
FRAME = PAGES.pop("_frame")
MAX_FORM_BYTES = 8192

router = APIRouter(prefix="/console", include_in_schema=False)
SessionDep = Annotated[Session, Depends(api_session)]


def _page(page: str, session: Session, **values: str) -> str:
    head, main, rest = PAGES[page].partition("<main>")
    text = (
        FRAME.replace("{{page}}", page.replace("_", "-"))
        .replace("{{head}}", head.rstrip("\n"))
        .replace("{{main}}", main + rest)
    )
    fields = {"csrf": session.csrf, "account": session.caller.account_id}
    fields.update(name="", source="", path="")
    fields.update(values)
    for key, value in fields.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return text


async def _serve_page(request: Request, page: str, **values: str) -> Response:
    session, cookie = await page_session(request)
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    response = HTMLResponse(_page(page, session, **values))
    if cookie is not None:
        set_cookie(request, response, cookie)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("")
async def console_root() -> Response:
    return RedirectResponse("/console/", status_code=307)


@router.get("/")
async def tuning_jobs_page(request: Request) -> Response:
    return await _serve_page(request, "tuning_jobs")


@router.get("/tuning-jobs/{name}")
async def tuning_job_page(request: Request, name: str) -> Response:
    return await _serve_page(request, "tuning_job", name=name, path=quote(name, safe=""))


@router.get("/training-jobs/{name}")
async def training_job_page(request: Request, name: str) -> Response:
    return await _serve_page(request, "training_job", name=name)


@router.get("/new")
async def new_job_page(
    request: Request, source: Annotated[str, Query(alias="from")] = ""
) -> Response:
    return await _serve_page(request, "new_job", source=source)


# --- signing in and out --------------------------------------------------------------------
def _sign_in_page(message: str = "") -> HTMLResponse:
    notice = f'<p role="alert" class="error">{html.escape(message)}</p>' if message else ""
    status = 403 if message else 200
    return HTMLResponse(PAGES["sign_in"].replace("{{notice}}", notice), status_code=status)


@router.get("/sign-in")
async def sign_in_form() -> Response:
    return _sign_in_page()


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    check_origin(request)
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return _sign_in_page("The form is too large.")
    form = parse_qs(raw.decode("utf-8", "replace"))
    key_id = (form.get("access_key_id") or [""])[0].strip()
    secret = (form.get("secret_access_key") or [""])[0].strip()
    if not key_id or not secret:
        return _sign_in_page("Enter an access key id and its secret access key.")
    sessions = sessions_for(request)
    try:
        _session, cookie = await run_in_threadpool(sessions.sign_in, key_id, secret)
    except AuthenticationError:
        return _sign_in_page("That access key id and secret do not match an active key.")
    response = RedirectResponse("/console/", status_code=303)
    set_cookie(request, response, cookie)
    return response


@router.post("/sign-out")
async def sign_out(_session: SessionDep) -> Response:
    response = Response(status_code=204)
    clear_cookie(response)
    return response


# --- the JSON the pages fetch --------------------------------------------------------------
def _call(request: Request, function: Any, *args: Any) -> Any:
    return run_in_threadpool(function, the_tuner(request).ctx, *args)


@router.get("/api/tuning-jobs")
async def list_tuning_jobs(
    request: Request, session: SessionDep, query: Annotated[schemas.ListQuery, Query()]
) -> dict[str, Any]:
    body = query.model_dump(exclude_none=True)
    result: dict[str, Any] = await _call(request, console.tuning_job_list, session.caller, body)
    return result


@router.get("/api/tuning-jobs/{name}")
async def tuning_job_overview(request: Request, session: SessionDep, name: str) -> dict[str, Any]:
    result: dict[str, Any] = await _call(request, console.overview, session.caller, name)
    return result


@router.get("/api/tuning-jobs/{name}/history")
async def tuning_job_history(request: Request, session: SessionDep, name: str) -> dict[str, Any]:
    result: dict[str, Any] = await _call(request, console.history, session.caller, name)
    return result


@router.get("/api/tuning-jobs/{name}/contour")
async def tuning_job_contour(
    request: Request, session: SessionDep, name: str, x: str, y: str
) -> dict[str, Any]:
    result: dict[str, Any] = await _call(request, console.contour, session.caller, name, x, y)
    return result


@router.get("/api/tuning-jobs/{name}/curves")
async def tuning_job_curves(
    request: Request, session: SessionDep, name: str, metric: str | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = await _call(request, console.curves, session.caller, name, metric)
    return result


@router.get("/api/tuning-jobs/{name}/training-jobs")
async def tuning_job_training_jobs(
    request: Request,
    session: SessionDep,
    name: str,
    query: Annotated[schemas.ListForTuningJobQuery, Query()],
) -> dict[str, Any]:
    body = {"HyperParameterTuningJobName": name, **query.model_dump(exclude_none=True)}
    tuner = the_tuner(request)
    result: dict[str, Any] = await run_in_threadpool(
        tuner.list_training_jobs_for_tuning_job, session.caller, body
    )
    return result


@router.get("/api/tuning-jobs/{name}/training-jobs.csv")
async def tuning_job_csv(request: Request, session: SessionDep, name: str) -> Response:
    lines = console.training_jobs_csv(the_tuner(request).ctx, session.caller, name)
    first = await run_in_threadpool(next, lines)  # errors (no such job) before the 200
    safe = "".join(c for c in name if c.isalnum() or c == "-")

    async def body() -> Any:
        yield first
        async for chunk in iterate_in_threadpool(lines):
            yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{safe}-training-jobs.csv"'},
    )


@router.get("/api/tuning-jobs/{name}/create-request")
async def tuning_job_create_request(
    request: Request, session: SessionDep, name: str
) -> dict[str, Any]:
    result: dict[str, Any] = await _call(request, console.create_request_from, session.caller, name)
    return result


@router.get("/api/training-jobs/{name}")
async def training_job_detail(request: Request, session: SessionDep, name: str) -> dict[str, Any]:
    result: dict[str, Any] = await _call(request, console.training_job_detail, session.caller, name)
    return result


# --- actions -------------------------------------------------------------------------------
@router.post("/api/tuning-jobs")
async def create_tuning_job(request: Request, session: SessionDep) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        body = None
    tuner = the_tuner(request)
    result: dict[str, Any] = await run_in_threadpool(
        tuner.create_tuning_job, session.caller, body if isinstance(body, dict) else {}
    )
    return result


@router.post("/api/tuning-jobs/{name}/stop")
async def stop_tuning_job(request: Request, session: SessionDep, name: str) -> dict[str, Any]:
    await run_in_threadpool(the_tuner(request).stop_tuning_job, session.caller, name)
    return {}


@router.post("/api/training-jobs/{name}/stop")
async def stop_training_job(request: Request, session: SessionDep, name: str) -> dict[str, Any]:
    await run_in_threadpool(the_tuner(request).stop_training_job, session.caller, name)
    return {}


def mount(app: FastAPI) -> None:
    app.include_router(router)
    static = CompressedStaticFiles(directory=HERE / "static")
    app.mount("/console/static", static, name="console-static")
