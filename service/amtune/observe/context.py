"""Who a log line is about: the request being served, in a context variable.

The transport sets it when a request arrives; authentication adds the account; the route
template is read from the ASGI scope once routing has matched it. Threads that serve the
request's database work run in a copy of the context, so their lines carry it too.
"""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestInfo:
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    face: str = "other"
    method: str = ""
    path: str = ""
    account_id: str | None = None
    aws_operation: str | None = None
    scope: MutableMapping[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def operation(self) -> str:
        """The AWS operation, or the REST route template (never the raw path: bounded)."""
        if self.aws_operation is not None:
            return self.aws_operation
        route = self.scope.get("route") if self.scope is not None else None
        template = getattr(route, "path", None) or (
            self.scope.get("amtune.route") if self.scope is not None else None
        )
        if isinstance(template, str):
            return f"{self.method} {template}"
        return "unmatched"


CURRENT: ContextVar[RequestInfo | None] = ContextVar("amtune_request", default=None)


def current() -> RequestInfo | None:
    return CURRENT.get()


def current_request_id() -> str:
    info = CURRENT.get()
    return info.request_id if info is not None else str(uuid.uuid4())


def note_account(account_id: str) -> None:
    info = CURRENT.get()
    if info is not None:
        info.account_id = account_id


def note_error(code: str, message: str) -> None:
    info = CURRENT.get()
    if info is not None:
        info.error_code = code
        info.error_message = message
