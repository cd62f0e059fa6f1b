"""``amtune``: serve the API, migrate the database, export OpenAPI, run workers."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from amtune.settings import Settings

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
    from amtune.store.migrate import upgrade

    settings = _settings(args)
    upgrade(settings.database_url)
    log.info(
        "amtune serving on http://%s:%d (%s)",
        settings.host,
        settings.port,
        settings.database_url.split("@")[-1],
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
        # Longer than clients idle between calls, so a reused connection is rarely cut.
        timeout_keep_alive=75,
    )
    return 0


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
