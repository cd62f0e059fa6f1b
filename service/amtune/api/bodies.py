"""Request bodies into typed values: the one JSON decoder and typed parse of every face.

A body is decoded once, by :func:`decode_json`, on both faces: integer literals too long to hold
become :class:`~amtune.app.validation.text.OversizedNumber` instead of failing the whole
decode, so the member's own check names the field. The worker routes then validate the decoded
value against their strict pydantic model (:func:`parse_body`); the AWS shapes are checked by the
application layer's shape checker. Both report through one renderer (``api.errors``).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.responses import Response

from amtune.app.validation.text import MAX_INTEGER_DIGITS, OversizedNumber

Model = TypeVar("Model", bound=BaseModel)

_MISSING: list[dict[str, Any]] = [
    {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
]


def _integer(literal: str) -> int | OversizedNumber:
    digits = len(literal) - literal.startswith("-")
    if digits > MAX_INTEGER_DIGITS:
        return OversizedNumber(digits)
    return int(literal)


def decode_json(raw: bytes | str) -> Any:
    """The JSON value of ``raw``; raises :class:`json.JSONDecodeError` when it is not JSON.

    Non-standard ``NaN`` and ``Infinity`` are decoded (as Python's parser does), so that they
    fail on the member that must be finite and the error names it."""
    return json.loads(raw, parse_int=_integer)


def decode_error(exc: json.JSONDecodeError) -> RequestValidationError:
    """Text that is not JSON, reported as FastAPI reports it for its own routes."""
    error = {
        "type": "json_invalid",
        "loc": ("body", exc.pos),
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": exc.msg},
    }
    return RequestValidationError([error])


def parse_body(model: type[Model], raw: bytes, *, required: bool) -> Model | None:
    """The body as its typed model, or None when an optional body is absent (empty or null).

    Raises :class:`RequestValidationError` with pydantic's errors located under ``body``."""
    if not raw:
        if required:
            raise RequestValidationError(_MISSING)
        return None
    try:
        decoded = decode_json(raw)
    except json.JSONDecodeError as exc:
        raise decode_error(exc) from None
    if decoded is None and not required:
        return None  # a required body of null fails on the model, as FastAPI reports it
    try:
        # from_attributes as FastAPI validates its bodies, so both word their errors alike
        # (a decoded JSON value has no attributes to read).
        return model.model_validate(decoded, from_attributes=True)
    except PydanticValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


class _DecodedRequest(Request):
    """A request whose ``json()`` is :func:`decode_json`, for FastAPI's body handling."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = decode_json(await self.body())
        return self._json


class DecodingRoute(APIRoute):
    """FastAPI's route, reading JSON bodies with :func:`decode_json` (the router's route_class)."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def with_decoder(request: Request) -> Response:
            return await handler(_DecodedRequest(request.scope, request.receive))

        return with_decoder
