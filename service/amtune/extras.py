"""Which optional parts of amtune are installed (standard library only).

``pip install amtune`` is the client (SDK and ``amtune worker``, needing httpx only); the
service's packages come with the ``server`` extra and ``amtune demo`` also needs scikit-learn
(the ``demo`` extra). Commands check here first, so a missing extra is a one-line message
naming what to install, not a traceback.
"""

from __future__ import annotations

import importlib.util

#: Import names of the ``server`` extra's packages (pyproject.toml).
SERVER_MODULES = (
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "pydantic",
    "pydantic_settings",
    "numpy",
    "scipy",
    "cryptography",
)

#: What ``amtune demo`` needs on top of the server: the model it tunes.
DEMO_MODULES = (*SERVER_MODULES, "sklearn")


def missing(modules: tuple[str, ...]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here, in order."""
    return [name for name in modules if importlib.util.find_spec(name) is None]
