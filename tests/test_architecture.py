"""The layering a newcomer relies on to find a rule in one place, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "service" / "amtune"

SERVER = (
    "amtune.app",
    "amtune.api",
    "amtune.store",
    "amtune.engine",
    "amtune.settings",
    "amtune.observe",
)
FORBIDDEN = {
    # Transports call the application layer; they never reach past it to the rows.
    "api": ("amtune.store",),
    # The application layer is what every transport calls: it knows none of them.
    "app": ("amtune.api", "fastapi", "starlette"),
    # The store fetches and writes what the application layer decides: it decides nothing.
    "store": ("amtune.app", "amtune.api"),
    # The engine is pure: no I/O, no database, no web.
    "engine": ("amtune.store", "amtune.app", "amtune.api", "sqlalchemy", "fastapi", "httpx"),
    # Client code runs where no server is installed.
    "sdk": (*SERVER, "sqlalchemy", "fastapi"),
    "worker": (*SERVER, "sqlalchemy", "fastapi"),
    # Metrics and log context: every layer may use them, so they use no layer.
    "observe": ("amtune.store", "amtune.app", "amtune.api", "amtune.engine", "sqlalchemy"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    offenders = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for module in imported_modules(path):
            if module.startswith(FORBIDDEN[layer]):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offenders == []
