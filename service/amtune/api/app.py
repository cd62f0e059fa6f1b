"""The FastAPI application: both faces, health and readiness, the reaper's lifetime."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from amtune import __version__
from amtune.api import aws_json, limits, operators, rest
from amtune.api.console import routes as console_routes
from amtune.api.errors import http_error_handler, rest_error_handler, rest_validation_handler
from amtune.api.observing import Observing
from amtune.api.openapi import documented_openapi
from amtune.api.worker_routes import WorkerRoutes
from amtune.app.errors import AmtuneError
from amtune.app.service import Tuner
from amtune.settings import Settings


def serving_app() -> FastAPI:
    """The app each process of ``amtune serve --workers N`` builds from the ``AMTUNE_*``
    environment: uvicorn starts those processes afresh, so each sets up its own logging (text or
    JSON, as ``amtune serve`` does for one process) before it serves."""
    from amtune.observe.logs import configure as configure_logs

    settings = Settings()
    configure_logs(settings.log_format, settings.log_level)
    return create_app(settings)


def create_app(
    settings: Settings | None = None,
    *,
    tuner: Tuner | None = None,
    explicit_worker_routes: bool = True,
) -> FastAPI:
    """The service. ``explicit_worker_routes=False`` leaves the worker protocol to FastAPI's
    declarations of it (the OpenAPI document), which a test compares with the served routes."""
    settings = settings or Settings()
    service = tuner or Tuner(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Requests run their database work on threads. Many more threads than pooled
        # connections only queue on the pool, and under load they fight over the GIL while
        # holding row locks, which stretches every lock wait behind them.
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        service.start_background()
        # What exists now (modules, the app, the routes, pydantic's validators) lives as long
        # as the process. Left in the collector's oldest generation, every full collection
        # walked all of it with the GIL held: a 130-140 ms stall of the whole process about
        # every 40 s under bench/load (gc callbacks). Frozen, a full collection walks only
        # what requests left behind.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            service.close()

    app = FastAPI(
        title="amtune",
        version=__version__,
        description=(
            "Self-hosted hyperparameter tuning with the SageMaker Automatic Model Tuning API. "
            "POST / speaks AWS JSON 1.1 for boto3 and the AWS CLI; /v1 is the REST face and "
            "the worker protocol."
        ),
        lifespan=lifespan,
        docs_url=None,  # served by api.operators, with its assets from this process
        redoc_url=None,
    )
    app.state.tuner = service
    app.add_exception_handler(RequestValidationError, rest_validation_handler)
    # AmtuneError is an answer, not a crash: handled without the traceback Starlette logs
    # (and re-raises) for the catch-all Exception handler.
    app.add_exception_handler(AmtuneError, rest_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, rest_error_handler)
    # Innermost first: the worker routes are matched after the request limits are checked.
    if explicit_worker_routes:
        app.add_middleware(WorkerRoutes, threads=settings.request_threads)
    app.add_middleware(
        limits.RequestLimits,
        body_timeout=settings.body_timeout_seconds,
        max_pending_bodies=settings.max_pending_bodies,
    )
    app.add_middleware(Observing)  # outermost: times and labels every answer
    app.include_router(aws_json.router)
    app.include_router(rest.router)
    operators.mount(app)
    console_routes.mount(app)

    @app.get("/healthz", tags=["health"], operation_id="healthz")
    def healthz() -> dict[str, str]:
        """Alive: the process answers. No I/O, so a slow database never restarts it."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], operation_id="readyz")
    def readyz() -> JSONResponse:
        """Ready: the database answers a query."""
        if service.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    app.openapi = lambda: documented_openapi(app)  # type: ignore[method-assign]
    return app
