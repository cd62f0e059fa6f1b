"""What operators and API readers fetch: ``/metrics`` (Prometheus) and ``/docs`` (Swagger UI).

``/metrics`` renders this process's metrics, or, when ``PROMETHEUS_MULTIPROC_DIR`` is set
(several server processes), the sum of every process's files in that directory; the job
counts by status are read from the database at each scrape either way. ``/docs`` serves the
Swagger UI files of the ``swagger-ui-bundle`` package from this process, so the page works
offline and loads nothing from another host.
"""

from __future__ import annotations

import os
from pathlib import Path

import swagger_ui_bundle
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from amtune.api.deps import the_tuner

SWAGGER_ASSETS = "/docs-assets"
router = APIRouter(include_in_schema=False)


def _render(request: Request) -> bytes:
    counts = the_tuner(request).job_counts()
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(counts)
        return generate_latest(registry)
    registry.register(counts)
    return generate_latest(REGISTRY) + generate_latest(registry)


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    body = await run_in_threadpool(_render, request)  # the job counts are a query
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title="amtune API",
        swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
    )


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(
        SWAGGER_ASSETS,
        StaticFiles(directory=Path(swagger_ui_bundle.swagger_ui_path)),
        name="docs-assets",
    )
