"""``amtune``: serve the API, migrate the database, export OpenAPI, run workers."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from amtune.settings import Settings

if TYPE_CHECKING:
    from amtune.app.context import Context

log = logging.getLogger("amtune")


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        key: value
        for key, value in (
            ("host", getattr(args, "host", None)),
            ("port", getattr(args, "port", None)),
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


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from amtune.api.app import create_app
    from amtune.app.service import Tuner
    from amtune.app.teams import StartupRefused, startup_mode
    from amtune.store.migrate import upgrade

    settings = _settings(args)
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
        "amtune serving on http://%s:%d (%s)",
        settings.host,
        settings.port,
        settings.database_url.split("@")[-1],
    )
    uvicorn.run(
        create_app(settings, tuner=tuner),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections,
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amtune", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations, then serve the API")
    serve.add_argument("--host", help="default AMTUNE_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default AMTUNE_PORT or 8000")
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


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
