"""The worker protocol's routes, served without FastAPI's per-request machinery.

Why: workers call these routes hundreds of times a second, and under that load FastAPI's
routing, dependency solving and body handling cost the service more CPU than the application
layer's work behind them (py-spy of ``bench/load``). The routes stay declared on the FastAPI
router, which documents them (OpenAPI) and owns their endpoint functions; this ASGI middleware
matches those same routes first and calls the same endpoint with the same body model, the same
authentication and the same error rendering, leaving out only the generic machinery.

What a route must look like to be served here (checked when the app is built, so a route that
drifts from it fails at start, not on a request): a POST whose endpoint takes ``tuner``,
``caller``, its path parameters by name and optionally ``body`` (a pydantic model, or a model or
None), and returns a :class:`Response`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, get_type_hints

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute

from amtune.api.deps import caller_of, the_tuner
from amtune.api.errors import rest_error_handler, rest_validation_handler
from amtune.api.limits import ASGIApp, Message, Receive, Scope, Send

Endpoint = Callable[..., Response]
_MISSING: list[dict[str, Any]] = [
    {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
]


@dataclass(frozen=True)
class LeanRoute:
    pattern: re.Pattern[str]
    template: str
    endpoint: Endpoint
    body: TypeAdapter[Any] | None
    body_required: bool


def lean_routes(routes: Sequence[BaseRoute], tag: str) -> list[LeanRoute]:
    """The POST routes carrying ``tag``, in the shape this middleware serves."""
    lean = []
    for route in routes:
        if not isinstance(route, APIRoute) or tag not in route.tags:
            continue
        if route.methods != {"POST"}:
            raise TypeError(f"{route.path}: only POST routes are served lean")
        parameters = inspect.signature(route.endpoint).parameters
        path_names = set(route.path_regex.groupindex)
        expected = {"tuner", "caller", "body"} | path_names
        if not {"tuner", "caller"} | path_names <= set(parameters) <= expected:
            raise TypeError(f"{route.path}: endpoint parameters {list(parameters)}")
        body = parameters.get("body")
        adapter = None
        if body is not None:
            adapter = TypeAdapter(get_type_hints(route.endpoint)["body"])
        lean.append(
            LeanRoute(
                pattern=route.path_regex,
                template=route.path,
                endpoint=route.endpoint,
                body=adapter,
                body_required=body is not None and body.default is inspect.Parameter.empty,
            )
        )
    return lean


class LeanRoutes:
    """ASGI middleware: serve the given routes directly, pass every other request on.

    The endpoints run on this middleware's own ``threads`` threads through the event loop's
    executor hand-off rather than anyio's: anyio's capacity limiter, cancel scope and
    task-local lookups were a tenth of the service's GIL time under ``bench/load`` (py-spy),
    for a bound the executor enforces by itself. Other routes keep anyio's threads.
    """

    def __init__(self, app: ASGIApp, *, routes: list[LeanRoute], threads: int) -> None:
        self.app = app
        self.routes = routes
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lean-route")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._releasing_threads_at_shutdown(send))
            return
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            for route in self.routes:
                match = route.pattern.fullmatch(path)
                if match is not None:
                    scope["amtune.route"] = route.template  # the request's operation label
                    response = await self._serve(route, match.groupdict(), scope, receive)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _releasing_threads_at_shutdown(self, send: Send) -> Send:
        """The lifespan's ``send``, joining this middleware's threads once the app has shut down.

        By then the server has drained every request, so the join is immediate; without it the
        idle threads outlive the app until the process exits (tests start many apps)."""

        async def send_then_release(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self.executor.shutdown(wait=True)
            await send(message)

        return send_then_release

    async def _serve(
        self, route: LeanRoute, path_params: dict[str, str], scope: Scope, receive: Receive
    ) -> Response:
        request = Request(scope, receive)
        try:
            caller = await caller_of(request)
            arguments: dict[str, Any] = {
                "tuner": the_tuner(request),
                "caller": caller,
                **path_params,
            }
            if route.body is not None:
                arguments["body"] = _parsed_body(route, await request.body())
            work = functools.partial(route.endpoint, **arguments)
            # In a copy of this context, so the thread's log lines name the request.
            in_context = functools.partial(contextvars.copy_context().run, work)
            return await asyncio.get_running_loop().run_in_executor(self.executor, in_context)
        except RequestValidationError as exc:
            return await rest_validation_handler(request, exc)
        except Exception as exc:  # rendered as FastAPI's handlers would: an AWS-style error
            return await rest_error_handler(request, exc)


def _parsed_body(route: LeanRoute, raw: bytes) -> Any:
    """The body as FastAPI gives it to an endpoint: JSON decoded by ``json``, then validated.

    Decoding with ``json`` (not pydantic's parser) keeps FastAPI's reading of non-standard
    numbers such as ``NaN``, so that they fail on the model's field and the error names it.
    """
    assert route.body is not None
    if not raw:
        if route.body_required:
            raise RequestValidationError(_MISSING)
        return None
    try:
        decoded = json.loads(raw)
    except json.JSONDecodeError as exc:
        error = {
            "type": "json_invalid",
            "loc": ("body", exc.pos),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": exc.msg},
        }
        raise RequestValidationError([error]) from None
    if decoded is None and route.body_required:
        raise RequestValidationError(_MISSING)
    try:
        return route.body.validate_python(decoded)
    except PydanticValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
