"""The worker protocol's seven routes, served ahead of FastAPI, one table row each.

Why: workers call these routes hundreds of times a second, and under that load FastAPI's
routing, dependency solving and body handling cost the service more CPU than the application
layer's work behind them (py-spy of ``bench/load``). So this ASGI middleware serves them
itself; every other request passes on to FastAPI. FastAPI still declares the same routes in
``api.rest``, and those declarations are the OpenAPI document; the functions behind them are
the ones called here, and a test sends the same requests through both and compares.

Each route is a row of ``WorkerRoutes.routes``: its path, the strict model of its body and its
use case in ``api.rest``. One handler serves every row, in order:

1. read the body (``api.limits`` has already read it within the size and time limits, before
   anything else ran, so this is the buffered copy);
2. authenticate the caller (SigV4 or bearer, ``api.auth``);
3. parse the body into its strict model (``api.bodies.parse_body``, ``api.schemas``);
4. run the use case on this middleware's threads;
5. render the answer, or the error as every face renders it (``api.errors``).

The use cases run on this middleware's own ``threads`` threads through the event loop's
executor hand-off rather than anyio's: anyio's capacity limiter, cancel scope and task-local
lookups were a tenth of the service's GIL time under ``bench/load`` (py-spy), for a bound the
executor enforces by itself. Other routes keep anyio's threads.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.responses import Response

from amtune.api import rest, schemas
from amtune.api.bodies import parse_body
from amtune.api.deps import caller_of, the_tuner
from amtune.api.errors import rest_error_handler, rest_validation_handler
from amtune.api.limits import ASGIApp, Message, Receive, Scope, Send

UseCase = Callable[..., Response]
JOB = "/v1/training-jobs/{TrainingJobName}"


def _path(template: str) -> tuple[re.Pattern[str], str]:
    """``/v1/training-jobs/{TrainingJobName}/heartbeat`` -> a pattern capturing each path
    parameter, matched against the decoded path as FastAPI's router matches it, and the
    template itself (the request's operation label in metrics and logs)."""
    parts = re.split(r"\{[^}]*\}", template)
    return re.compile("([^/]+)".join(re.escape(part) for part in parts)), template


class WorkerRoutes:
    """ASGI middleware: serve the worker protocol's POST routes, pass every other request on."""

    def __init__(self, app: ASGIApp, *, threads: int) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="worker-route")
        self.routes: tuple[tuple[re.Pattern[str], str, type[BaseModel], UseCase], ...] = tuple(
            (*_path(template), model, use_case)
            for template, model, use_case in (
                ("/v1/claims", schemas.PoolClaimRequest, rest.claim_from_pool),
                ("/v1/tuning-jobs/{TuningJobName}/claims", schemas.ClaimRequest, rest.claim),
                (f"{JOB}/heartbeat", schemas.WorkerBody, rest.heartbeat),
                (f"{JOB}/metrics", schemas.MetricsRequest, rest.report_metrics),
                (f"{JOB}/complete", schemas.CompleteRequest, rest.complete),
                (f"{JOB}/fail", schemas.FailRequest, rest.fail),
                (f"{JOB}/release", schemas.WorkerBody, rest.release),
            )
        )  # fmt: skip

    async def _serve(
        self, request: Request, model: type[BaseModel], use_case: UseCase, names: tuple[str, ...]
    ) -> Response:
        """Body, caller, strict parse, then the use case on this middleware's threads."""
        raw = await request.body()
        caller = await caller_of(request)
        body = parse_body(model, raw, required=True)
        return await self._run(use_case, the_tuner(request), caller, *names, body)

    # --- dispatch ---------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._releasing_threads_at_shutdown(send))
            return
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            for pattern, template, model, use_case in self.routes:
                match = pattern.fullmatch(path)
                if match is not None:
                    scope["amtune.route"] = template  # the request's operation label
                    request = Request(scope, receive)
                    serving = self._serve(request, model, use_case, match.groups())
                    response = await self._answer(serving, request)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(answering: Awaitable[Response], request: Request) -> Response:
        try:
            return await answering
        except RequestValidationError as exc:
            return await rest_validation_handler(request, exc)
        except Exception as exc:  # rendered as FastAPI's handlers render it: AWS-style
            return await rest_error_handler(request, exc)

    async def _run(self, endpoint: Callable[..., Response], *args: Any) -> Response:
        work = functools.partial(endpoint, *args)
        # In a copy of this context, so the thread's log lines name the request.
        in_context = functools.partial(contextvars.copy_context().run, work)
        return await asyncio.get_running_loop().run_in_executor(self.executor, in_context)

    def _releasing_threads_at_shutdown(self, send: Send) -> Send:
        """The lifespan's ``send``, joining this middleware's threads once the app has shut down.

        By then the server has drained every request, so the join is immediate; without it the
        idle threads outlive the app until the process exits (tests start many apps)."""

        async def send_then_release(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self.executor.shutdown(wait=True)
            await send(message)

        return send_then_release
