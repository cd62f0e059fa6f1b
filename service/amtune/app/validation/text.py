"""Strings the service cannot store: NUL characters and unpaired surrogates.

Python's JSON parser accepts ``"\\u0000"`` and lone ``"\\ud800"`` escapes. PostgreSQL text and
JSONB refuse NUL, and a lone surrogate cannot be encoded as UTF-8, so either would surface as a
500 far from the request. Every string in the request (known members, unknown members and map
keys alike, since the service may store the body verbatim) is scanned once, iteratively so that
deeply nested garbage cannot exhaust the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amtune.app.validation.shapes import (
    element_path,
    is_unsafe_text,
    join_path,
    printable,
    raise_if_any,
)

_CONSTRAINT = "Member must not contain NUL characters or unpaired surrogates"
_MAX_REPORTED = 10


def check_text_safety(request: Any, path: str = "") -> None:
    """Raise a ValidationError naming the member paths whose strings cannot be stored."""
    errors: list[str] = []
    stack: list[tuple[Any, str]] = [(request, path)]
    while stack:
        value, here = stack.pop()
        if isinstance(value, str):
            if is_unsafe_text(value):
                errors.append(f"Value at '{here}' failed to satisfy constraint: {_CONSTRAINT}")
        elif isinstance(value, Mapping):
            for key, item in value.items():
                key_path = join_path(here, printable(str(key)))
                if isinstance(key, str) and is_unsafe_text(key):
                    errors.append(
                        f"Key at '{key_path}' failed to satisfy constraint: {_CONSTRAINT}"
                    )
                stack.append((item, key_path))
        elif isinstance(value, list | tuple):
            stack.extend((item, element_path(here, i)) for i, item in enumerate(value))
    raise_if_any(sorted(errors)[:_MAX_REPORTED])
