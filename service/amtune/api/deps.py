"""Request-scoped access to the application layer and the caller's identity."""

from __future__ import annotations

from fastapi import Request

from amtune.api.auth import authenticate
from amtune.app.context import Caller
from amtune.app.service import Tuner


def the_tuner(request: Request) -> Tuner:
    tuner: Tuner = request.app.state.tuner
    return tuner


async def tuner_of(request: Request) -> Tuner:
    """The dependency is async on purpose: FastAPI runs a plain ``def`` dependency on a
    worker thread, and under load that hand-off cost more than the request's own query."""
    return the_tuner(request)


async def caller_of(request: Request) -> Caller:
    """The REST face and the worker protocol: SigV4, or ``Bearer <AccessKeyId>:<Secret>``."""
    return await authenticate(request, the_tuner(request), allow_bearer=True)


async def aws_caller_of(request: Request) -> Caller:
    """The AWS JSON face: SigV4 only, as AWS accepts."""
    return await authenticate(request, the_tuner(request), allow_bearer=False)


async def cloudwatch_caller_of(request: Request) -> Caller:
    """The CloudWatch operation of the AWS face: SigV4 scoped to CloudWatch's "monitoring"."""
    return await authenticate(request, the_tuner(request), allow_bearer=False, service="monitoring")
