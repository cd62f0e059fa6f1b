"""``amtune``: serve the API, migrate the database, export OpenAPI, run workers.

This module imports nothing beyond the standard library at import time: ``pip install amtune``
installs only the client (SDK and ``amtune worker``), and the server's packages come with the
``server`` extra. Each server command imports them when it runs, after checking they are there.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from amtune.extras import SERVER_MODULES, missing

# uvicorn's HTTP protocol for `serve`, by import path so that worker processes load it too.
HEADER_DEADLINE_PROTOCOL = "amtune.api.header_deadline:HeaderDeadlineProtocol"

if TYPE_CHECKING:
    from amtune.app.context import Context
    from amtune.settings import Settings

log = logging.getLogger("amtune")


def _settings(args: argparse.Namespace) -> Settings:
    from amtune.settings import Settings

    overrides = {
        key: value
        for key, value in (
            ("host", getattr(args, "host", None)),
            ("port", getattr(args, "port", None)),
            ("ssl_certfile", getattr(args, "ssl_certfile", None)),
            ("ssl_keyfile", getattr(args, "ssl_keyfile", None)),
        )
        if value is not None
    }
    return Settings(**overrides)


def cmd_migrate(args: argparse.Namespace) -> int:
    from amtune.store.migrate import upgrade

    settings = _settings(args)
    applied = upgrade(settings.database_url)
    print("migrated to head" if applied else "already at head")
    return 0


#: How long a stopping process lets in-flight requests finish before it closes them.
GRACEFUL_SHUTDOWN_SECONDS = 10


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate, decide the start-up mode once, then serve in one process or in ``--workers``.

    With several processes uvicorn's supervisor binds the socket once and starts each worker
    from ``amtune.api.app:serving_app`` (a factory reading the same ``AMTUNE_*`` environment,
    with the command line's --host/--port written into it), so every process runs the same
    settings. On SIGTERM or SIGINT it passes the signal on; each worker stops accepting,
    finishes its in-flight requests (up to ``GRACEFUL_SHUTDOWN_SECONDS``) and closes its pools.
    """
    import os

    from amtune.observe.logs import configure as configure_logs

    settings = _settings(args)
    # Before the imports below: some of them (alembic) log as they load.
    configure_logs(settings.log_format, settings.log_level)

    import uvicorn

    from amtune.api.app import create_app
    from amtune.app.service import Tuner
    from amtune.app.teams import StartupRefused, startup_mode
    from amtune.store.migrate import upgrade

    if (settings.ssl_certfile is None) != (settings.ssl_keyfile is None):
        log.error("amtune will not start: TLS needs both --ssl-certfile and --ssl-keyfile")
        return 2
    workers = args.workers if args.workers is not None else settings.workers
    upgrade(settings.database_url)
    tuner = Tuner(settings)
    try:
        mode = startup_mode(tuner.ctx, settings.host)
    except StartupRefused as exc:
        tuner.close()
        log.error("amtune will not start: %s", exc)
        return 2
    if mode.closed:
        log.info("%s", mode.message)
    else:
        log.warning("%s", mode.message)
    log.info(
        "amtune serving on %s://%s:%d (%s), %d process%s",
        "https" if settings.ssl_certfile else "http",
        settings.host,
        settings.port,
        settings.database_url.split("@")[-1],
        workers,
        "" if workers == 1 else "es",
    )
    common: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        # The logging set up above (text or JSON) carries uvicorn's lines too, and
        # api.observing writes one line per request with its operation, in place of
        # uvicorn's access line.
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        # Idle kept-alive connections and open connections per process (docs/limits.md).
        "timeout_keep_alive": settings.keep_alive_seconds,
        "limit_concurrency": settings.max_connections,
        # A deadline on each request's headers, which uvicorn lacks (api/header_deadline.py).
        "http": HEADER_DEADLINE_PROTOCOL,
        # TLS in the process itself; a reverse proxy in front works as well (docs/tls.md).
        "ssl_certfile": str(settings.ssl_certfile) if settings.ssl_certfile else None,
        "ssl_keyfile": str(settings.ssl_keyfile) if settings.ssl_keyfile else None,
    }
    if workers == 1:
        uvicorn.run(create_app(settings, tuner=tuner), **common)  # type: ignore[arg-type]
        return 0
    tuner.close()
    # The command line's overrides, for the worker processes' own Settings().
    os.environ["AMTUNE_HOST"] = settings.host
    os.environ["AMTUNE_PORT"] = str(settings.port)
    for name, path in (
        ("SSL_CERTFILE", settings.ssl_certfile),
        ("SSL_KEYFILE", settings.ssl_keyfile),
    ):
        if path is not None:
            os.environ[f"AMTUNE_{name}"] = str(path)
    uvicorn.run(
        "amtune.api.app:serving_app",
        factory=True,
        workers=workers,
        **common,  # type: ignore[arg-type]
    )
    return 0


def _admin_context(args: argparse.Namespace) -> Context:
    from amtune.app.context import Context
    from amtune.store.database import Database
    from amtune.store.migrate import upgrade

    settings = _settings(args)
    upgrade(settings.database_url)
    return Context(db=Database(settings.database_url), settings=settings)


def _admin(args: argparse.Namespace, action: Callable[[Context], object]) -> int:
    """Run a team or key command: JSON on stdout, or the reason on stderr and exit 1."""
    from amtune.app.errors import AmtuneError
    from amtune.app.teams import ServerKeyUnsafe

    ctx = _admin_context(args)
    try:
        result = action(ctx)
    except (AmtuneError, ServerKeyUnsafe) as exc:
        print(f"amtune: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.db.dispose()
    print(json.dumps(result, indent=2))
    return 0


def cmd_teams_create(args: argparse.Namespace) -> int:
    from amtune.app import teams

    return _admin(
        args,
        lambda ctx: teams.create_team(
            ctx,
            args.name,
            account_id=args.account_id,
            max_concurrent_tuning_jobs=args.max_concurrent_tuning_jobs,
            max_parallel_training_jobs=args.max_parallel_training_jobs,
        ).render(),
    )


def cmd_teams_update(args: argparse.Namespace) -> int:
    from amtune.app import teams

    return _admin(
        args,
        lambda ctx: teams.update_team(
            ctx,
            args.team,
            max_concurrent_tuning_jobs=args.max_concurrent_tuning_jobs,
            max_parallel_training_jobs=args.max_parallel_training_jobs,
        ),
    )


def cmd_teams_list(args: argparse.Namespace) -> int:
    from amtune.app import teams

    return _admin(args, teams.list_teams)


def cmd_keys_create(args: argparse.Namespace) -> int:
    from amtune.app import teams

    return _admin(args, lambda ctx: teams.create_key(ctx, args.team).render())


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from amtune.app import teams

    return _admin(args, lambda ctx: teams.revoke_key(ctx, args.key_id))


def _add_team_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    teams = sub.add_parser("teams", help="teams (accounts): create, list, set quotas")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True)
    create = teams_sub.add_parser(
        "create",
        help="create a team and its first access key; prints the secret, once, as JSON",
    )
    create.add_argument("name", help="1-64 letters, digits, '.', '_' or '-'")
    create.add_argument(
        "--account-id",
        help="the 12-digit account id (default: a new random one; give AMTUNE_ACCOUNT_ID to "
        "keep the jobs made while the service ran open)",
    )
    for parser in (create, update := teams_sub.add_parser("update", help="set a team's quotas")):
        parser.add_argument(
            "--max-concurrent-tuning-jobs",
            type=int,
            help="live tuning jobs the team may have (default AMTUNE_MAX_CONCURRENT_TUNING_JOBS"
            ", 100)",
        )
        parser.add_argument(
            "--max-parallel-training-jobs",
            type=int,
            help="highest MaxParallelTrainingJobs, 1-100 (default "
            "AMTUNE_MAX_PARALLEL_TRAINING_JOBS, 10)",
        )
    create.set_defaults(func=cmd_teams_create)
    update.add_argument("team", help="team name or account id")
    update.set_defaults(func=cmd_teams_update)
    teams_sub.add_parser("list", help="teams, quotas and key ids (never secrets)").set_defaults(
        func=cmd_teams_list
    )

    keys = sub.add_parser("keys", help="access keys: create, revoke")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    key_create = keys_sub.add_parser(
        "create", help="another access key for a team; prints the secret, once, as JSON"
    )
    key_create.add_argument("team", help="team name or account id")
    key_create.set_defaults(func=cmd_keys_create)
    revoke = keys_sub.add_parser("revoke", help="revoke an access key at once")
    revoke.add_argument("key_id", metavar="KEYID")
    revoke.set_defaults(func=cmd_keys_revoke)


def openapi_document() -> dict[str, object]:
    from amtune.api.app import create_app
    from amtune.settings import Settings

    return create_app(Settings(database_url="sqlite://")).openapi()


def cmd_openapi(args: argparse.Namespace) -> int:
    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


def _optional(
    module: str,
) -> tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]] | None:
    """Subcommands that live in their own packages (worker agent, demo)."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return mod.add_arguments, mod.run


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amtune", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations, then serve the API")
    serve.add_argument("--host", help="default AMTUNE_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default AMTUNE_PORT or 8000")
    serve.add_argument(
        "--ssl-certfile", help="serve HTTPS with this PEM certificate (AMTUNE_SSL_CERTFILE)"
    )
    serve.add_argument(
        "--ssl-keyfile", help="the certificate's PEM private key (AMTUNE_SSL_KEYFILE)"
    )
    serve.add_argument(
        "--workers",
        type=positive_int,
        help="serving processes sharing the port (default AMTUNE_WORKERS or 1)",
    )
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply pending migrations and exit")
    migrate.set_defaults(func=cmd_migrate)

    _add_team_commands(sub)

    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.add_argument("--output", default="-", help="file to write, - for stdout")
    openapi.set_defaults(func=cmd_openapi)

    for name, module, text in (
        ("worker", "amtune.worker.cli", "run SageMaker-style training scripts as a worker"),
        ("demo", "amtune.worker.demo", "tune a real model end to end on a temporary service"),
    ):
        found = _optional(module)
        if found is not None:
            add_arguments, run = found
            command = sub.add_parser(name, help=text)
            add_arguments(command)
            command.set_defaults(func=run)
    return parser


#: Subcommands that run the service's code; the others (worker, demo) are client-side.
SERVER_COMMANDS = frozenset({"serve", "migrate", "teams", "keys", "openapi"})


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    if args.command in SERVER_COMMANDS and (absent := missing(SERVER_MODULES)):
        print(
            f"amtune {args.command} runs the service, whose packages are not installed "
            f"(missing: {', '.join(absent)}). Install them with: pip install 'amtune[server]'",
            file=sys.stderr,
        )
        return 2
    if args.command not in SERVER_COMMANDS:
        result: int = args.func(args)
        return result
    try:
        served: int = args.func(args)
    except Exception as exc:
        # Imported only now: alembic logs as it loads, and the command configures logging first.
        from amtune.store.migrate import SchemaAheadError

        if not isinstance(exc, SchemaAheadError):
            raise
        # An operator's mistake (an older image on a newer database), not a bug: one line.
        print(
            f"amtune {args.command} will not run: {exc}; run the amtune that migrated it",
            file=sys.stderr,
        )
        return 2
    return served


if __name__ == "__main__":
    raise SystemExit(main())
