"""Values the service cannot store or act on: unsafe strings and numbers too long to hold.

Python's JSON parser accepts ``"\\u0000"`` and lone ``"\\ud800"`` escapes. PostgreSQL text and
JSONB refuse NUL, and a lone surrogate cannot be encoded as UTF-8, so either would surface as a
500 far from the request. Every string in the request (known members, unknown members and map
keys alike, since the service may store the body verbatim) is scanned once, iteratively so that
deeply nested garbage cannot exhaust the stack.

An integer literal of thousands of digits cannot be held either: Python refuses to convert
more than 4,300 digits, and no member of any request is a number past a double's range. The
transports' JSON decoder (``api.bodies``) therefore turns such a literal into an
:class:`OversizedNumber`, which no member's type accepts, so the check that meets it names the
field; this scan refuses it wherever else it sits.

Identifiers (worker ids, metric names, ARNs) must not contain control characters at all; free
text such as a failure reason may contain tabs and line breaks, and nothing else below U+0020.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
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

MAX_INTEGER_DIGITS = 400
"""Longer integer literals are :class:`OversizedNumber` (a double ends at 309 digits)."""

NUMBER_CONSTRAINT = f"Member must be a number of at most {MAX_INTEGER_DIGITS} digits"
IDENTIFIER_CONSTRAINT = "Member must not contain control characters"
TEXT_CONSTRAINT = "Member must not contain control characters other than tab and line breaks"

_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True)
class OversizedNumber:
    """An integer literal longer than :data:`MAX_INTEGER_DIGITS` digits, as the client sent it."""

    digits: int

    def __str__(self) -> str:
        return f"<an integer of {self.digits} digits>"


def has_control_characters(text: str, *, lines_allowed: bool = False) -> bool:
    """Control characters (and the unstorable NUL and lone surrogates) in ``text``."""
    pattern = _CONTROL_BUT_LINES if lines_allowed else _CONTROL
    return pattern.search(text) is not None


def check_text_safety(request: Any, path: str = "") -> None:
    """Raise a ValidationError naming the member paths whose values cannot be stored."""
    errors: list[str] = []
    stack: list[tuple[Any, str]] = [(request, path)]
    while stack:
        value, here = stack.pop()
        if isinstance(value, str):
            if is_unsafe_text(value):
                errors.append(f"Value at '{here}' failed to satisfy constraint: {_CONSTRAINT}")
        elif isinstance(value, OversizedNumber):
            errors.append(
                f"Value {value} at '{here}' failed to satisfy constraint: {NUMBER_CONSTRAINT}"
            )
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
