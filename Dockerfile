# amtune: the API server image, and a sample worker image for examples/.
#
#   docker build -t amtune .                                  # the API (default target)
#   docker run -p 8000:8000 -v amtune-data:/data amtune       # SQLite in the /data volume
#   docker build --target sample-worker -t amtune-sample-worker .
#
# docker-compose.yml runs the same image on PostgreSQL. tests/service/test_container.py lints
# this file and runs the commands it runs (the wheel build, the install, CMD, HEALTHCHECK).

# --- build: every wheel the runtime needs (amtune and its `server` extra), installed offline --
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service/ service/
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[server]"

# --- base: the installed package and the unprivileged user, no build tools or sources -------
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheels are bind-mounted from the build stage, so they never become a layer of the image.
# amtune[server] is pinned by the wheelhouse itself (--no-index: only what the build stage made).
# hadolint ignore=DL3013
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels "amtune[server]" \
    && groupadd --system --gid 10001 amtune \
    && useradd --system --uid 10001 --gid amtune --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin amtune \
    && mkdir /data \
    && chown amtune:amtune /data
WORKDIR /app
# Migrations are data for Alembic, not part of the wheel; AMTUNE_MIGRATIONS_DIR points at them.
COPY migrations/ /app/migrations/
ENV AMTUNE_MIGRATIONS_DIR=/app/migrations \
    AMTUNE_HOST=0.0.0.0 \
    AMTUNE_PORT=8000 \
    AMTUNE_DATABASE_URL=sqlite:////data/amtune.db
VOLUME /data
EXPOSE 8000
# Liveness only (/healthz does no I/O); /readyz is for load balancers that should wait for
# the database. Python instead of curl: the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('AMTUNE_PORT', '8000'), timeout=4)"]
USER 10001:10001
# uvicorn shuts down gracefully on SIGTERM: in-flight requests finish, the reaper stops.
STOPSIGNAL SIGTERM

# --- sample-worker: the API image plus what examples/sagemaker_style/train.py imports -------
FROM base AS sample-worker
USER 0:0
# /data/jobs exists and belongs to the worker's user, so a named volume mounted there (compose's
# `jobs`) starts out writable by it.
RUN pip install --no-cache-dir scikit-learn==1.9.1 \
    && mkdir /data/jobs \
    && chown amtune:amtune /data/jobs
COPY examples/ /app/examples/
USER 10001:10001
ENV AMTUNE_WORKDIR=/data/jobs
CMD ["amtune", "worker", "--help"]

# --- api (default target): serve; `amtune serve` applies pending migrations first -----------
FROM base AS api
CMD ["amtune", "serve"]
