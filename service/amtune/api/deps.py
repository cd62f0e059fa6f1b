"""Request-scoped access to the application layer and the caller's identity."""

from __future__ import annotations

from fastapi import Request

from amtune.app.context import Caller
from amtune.app.service import Tuner


def tuner_of(request: Request) -> Tuner:
    tuner: Tuner = request.app.state.tuner
    return tuner


def caller_of(request: Request) -> Caller:
    """Until teams and SigV4 land, every request acts for the one configured account."""
    return tuner_of(request).default_caller()
