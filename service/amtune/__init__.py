"""amtune: self-hosted hyperparameter tuning with the SageMaker AMT API.

``amtune.client`` and ``amtune.Worker`` are the Python SDK; they are imported lazily so that
``import amtune`` stays cheap for the server and the worker agent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amtune.sdk import Worker, client

__version__ = "0.1.0"
__all__ = ["Worker", "__version__", "client"]


def __getattr__(name: str) -> Any:
    if name in ("client", "Worker"):
        import amtune.sdk

        return getattr(amtune.sdk, name)
    raise AttributeError(f"module 'amtune' has no attribute {name!r}")
