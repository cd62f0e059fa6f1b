"""Helpers shared by the cross-field rules: one ValidationError per broken rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from amtune.app.errors import ValidationError


def reject(message: str) -> NoReturn:
    """Raise the single ValidationError of a cross-field rule (message names the field)."""
    raise ValidationError(message)


def given(container: Mapping[str, Any], member: str) -> bool:
    """Whether ``member`` is present (shape validation has already refused explicit nulls)."""
    return container.get(member) is not None


def as_map(container: Mapping[str, Any], member: str) -> Mapping[str, Any]:
    """An optional structure member after shape validation (``{}`` when absent)."""
    value = container.get(member)
    return value if isinstance(value, Mapping) else {}


def as_list(container: Mapping[str, Any], member: str) -> Sequence[Any]:
    """An optional list member after shape validation (``[]`` when absent)."""
    value = container.get(member)
    return value if isinstance(value, list | tuple) else []
