"""A tiny declarative checker for request shapes, reporting problems the way AWS does.

AWS (Coral) validates every member against the constraints of the service model and answers
with one ``ValidationException`` listing all violations::

    2 validation errors detected: Value 'x' at 'a.b' failed to satisfy constraint: ...; Value ...

botocore checks only required members, types and minimums before sending, so the server is
the only place where maximums, patterns and enums are enforced.

Conventions of this checker (documented because clients see them):

* Paths are the lowerCamelCase member names joined by dots; list elements are
  ``<list>.<N>.member`` with N 1-based; map entries are ``<map>.<N>.member.key`` and
  ``<map>.<N>.member.value`` with N the 1-based position of the entry in the request.
* An explicit JSON ``null`` for a known member is refused with ``Member must not be null``,
  like a missing required member. No AWS client sends ``null`` (botocore, the CLI and the
  other SDKs omit unset members), and refusing it means the service can test presence with
  ``"Member" in request`` without ever meeting a ``None``.
* Unknown members are ignored (AWS would reject them at the protocol layer).
* A known member of the wrong JSON type is reported as ``Member must be of type <t>``
  (AWS answers a ``SerializationException`` there; a validation error naming the field is more
  useful and keeps every bad input a ``ValidationException``). Booleans are never numbers.
* One violation per member: a string that is too long or too short is not also matched
  against its pattern. That is what AWS answers for a 40-character tuning-job name
  ("1 validation error detected: ... length less than or equal to 32")
  even though such a name breaks the pattern too.
* Integers are Java ``int`` on the AWS side, so they are bounded by 2**31-1 even where the
  model gives no maximum; that also keeps them inside a 32-bit database column.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from amtune.app.errors import ValidationError

JAVA_INT_MIN = -(2**31)
JAVA_INT_MAX = 2**31 - 1
JAVA_LONG_MIN = -(2**63)
JAVA_LONG_MAX = 2**63 - 1

# What Java's "." refuses to match; AWS patterns are Java regular expressions.
_JAVA_DOT = "[^\\n\\r\\u0085\\u2028\\u2029]"


def _translate_java_regex(pattern: str) -> str:
    """Rewrite the ``.`` wildcards of a Java pattern so Python matches the same strings."""
    out: list[str] = []
    in_class = False
    escaped = False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == "[" and not in_class:
            in_class = True
            out.append(char)
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        elif char == "." and not in_class:
            out.append(_JAVA_DOT)
        else:
            out.append(char)
    return "".join(out)


@dataclass(frozen=True)
class Pattern:
    """A pattern shown to the client as ``text`` and checked by ``matches`` (a full match)."""

    text: str
    matches: Callable[[str], bool]

    @classmethod
    def java(cls, text: str) -> Pattern:
        """A model pattern; ASCII classes like ``\\d`` as in Java, full-string match."""
        compiled = re.compile(_translate_java_regex(text), re.ASCII)
        return cls(text, lambda value: compiled.fullmatch(value) is not None)


@dataclass(frozen=True)
class Str:
    min_len: int | None = None
    max_len: int | None = None
    pattern: Pattern | None = None
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Int:
    """A Java ``int`` (or ``long`` when ``long`` is set) member."""

    min: int | None = None
    max: int | None = None
    long: bool = False


@dataclass(frozen=True)
class Num:
    """A JSON number that must be finite: Java ``float``/``double`` members and timestamps."""

    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Bool:
    pass


@dataclass(frozen=True)
class Member:
    name: str
    shape: Shape
    required: bool = False


@dataclass(frozen=True)
class Struct:
    members: tuple[Member, ...]


@dataclass(frozen=True)
class ListOf:
    item: Shape
    min_len: int | None = None
    max_len: int | None = None


@dataclass(frozen=True)
class MapOf:
    key: Str
    value: Shape
    min_len: int | None = None
    max_len: int | None = None


Shape: TypeAlias = Str | Int | Num | Bool | Struct | ListOf | MapOf


def required(name: str, shape: Shape) -> Member:
    return Member(name, shape, required=True)


def optional(name: str, shape: Shape) -> Member:
    return Member(name, shape, required=False)


def lower_camel(name: str) -> str:
    """``HyperParameterTuningJobName`` -> ``hyperParameterTuningJobName`` (AWS path segments)."""
    return name[:1].lower() + name[1:]


def join_path(parent: str, name: str) -> str:
    segment = lower_camel(name)
    return f"{parent}.{segment}" if parent else segment


def element_path(parent: str, index: int) -> str:
    """Path of the ``index``-th (0-based) element of a list, in AWS's 1-based style."""
    segment = f"{index + 1}.member"
    return f"{parent}.{segment}" if parent else segment


_UNSAFE_CHAR = re.compile("[\x00\ud800-\udfff]")


def is_unsafe_text(text: str) -> bool:
    """NUL or an unpaired surrogate: not storable in PostgreSQL, not encodable as UTF-8."""
    return _UNSAFE_CHAR.search(text) is not None


def printable(text: str) -> str:
    """``text`` with NUL and unpaired surrogates escaped, so a message can always be sent."""
    return _UNSAFE_CHAR.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


MAX_RENDERED_VALUE = 1024
"""Longer echoed values are cut (with ``...``) so one oversized member cannot bloat a reply."""


def render_value(value: Any) -> str:
    """The ``Value ...`` part of a message: quoted like AWS, with Java-ish container text."""
    if value is None:
        return "null"
    text = _plain(value, MAX_RENDERED_VALUE)
    if len(text) > MAX_RENDERED_VALUE:
        text = text[: MAX_RENDERED_VALUE - 3] + "..."
    return f"'{text}'"


@dataclass(frozen=True)
class _Literal:
    text: str


def _plain(value: Any, limit: int) -> str:
    """Java-like ``toString`` of a JSON value (``[a, b]``, ``{k=v}``, ``true``, ``null``).

    Iterative and stops once ``limit`` characters are produced, so deep or huge values
    (garbage in a known member) cost neither the stack nor much time.
    """
    parts: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, _Literal):
            text = item.text
        elif isinstance(item, Mapping):
            entries = list(itertools.islice(item.items(), limit + 1))
            stack.append(_Literal("}"))
            for index in reversed(range(len(entries))):
                key, entry = entries[index]
                stack.extend((entry, _Literal("="), key))
                if index:
                    stack.append(_Literal(", "))
            text = "{"
        elif isinstance(item, list | tuple):
            items = list(itertools.islice(item, limit + 1))
            stack.append(_Literal("]"))
            for index in reversed(range(len(items))):
                stack.append(items[index])
                if index:
                    stack.append(_Literal(", "))
            text = "["
        elif item is None:
            text = "null"
        elif isinstance(item, bool):
            text = "true" if item else "false"
        elif isinstance(item, int) and item.bit_length() > 3 * limit:
            text = "<a very large integer>"  # str() would be slow, or refuse past 4300 digits
        else:
            text = printable(str(item)[: limit + 1])
        parts.append(text)
        size += len(text)
    return "".join(parts)


def violation(value: Any, path: str, constraint: str) -> str:
    """One AWS-style violation line."""
    return f"Value {render_value(value)} at '{path}' failed to satisfy constraint: {constraint}"


def raise_if_any(errors: Sequence[str]) -> None:
    """Raise one ValidationError listing every violation, as AWS joins them."""
    if not errors:
        return
    if len(errors) == 1:
        raise ValidationError(f"1 validation error detected: {errors[0]}")
    raise ValidationError(f"{len(errors)} validation errors detected: " + "; ".join(errors))


def is_int(value: Any) -> bool:
    """A JSON integer; ``True``/``False`` are not numbers."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return (isinstance(value, int | float)) and not isinstance(value, bool)


@dataclass
class Checker:
    """Walks a value against a shape, collecting violations in request order."""

    errors: list[str] = field(default_factory=list)

    def check(self, shape: Shape, value: Any, path: str) -> None:
        if isinstance(shape, Str):
            self._check_str(shape, value, path)
        elif isinstance(shape, Int):
            self._check_int(shape, value, path)
        elif isinstance(shape, Num):
            self._check_num(shape, value, path)
        elif isinstance(shape, Bool):
            if not isinstance(value, bool):
                self.errors.append(violation(value, path, "Member must be of type boolean"))
        elif isinstance(shape, Struct):
            self.check_struct(shape, value, path)
        elif isinstance(shape, ListOf):
            self._check_list(shape, value, path)
        else:
            self._check_map(shape, value, path)

    def check_struct(self, shape: Struct, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            self.errors.append(violation(value, path, "Member must be of type structure"))
            return
        for member in shape.members:
            member_path = join_path(path, member.name)
            member_value = value.get(member.name)
            if member_value is None:
                if member.required or member.name in value:
                    self.errors.append(violation(None, member_path, "Member must not be null"))
                continue
            self.check(member.shape, member_value, member_path)

    def _check_length(
        self, value: Any, size: int, path: str, min_len: int | None, max_len: int | None
    ) -> bool:
        if max_len is not None and size > max_len:
            self.errors.append(
                violation(value, path, f"Member must have length less than or equal to {max_len}")
            )
            return False
        if min_len is not None and size < min_len:
            self.errors.append(
                violation(
                    value, path, f"Member must have length greater than or equal to {min_len}"
                )
            )
            return False
        return True

    def _check_str(self, shape: Str, value: Any, path: str) -> None:
        if not isinstance(value, str):
            self.errors.append(violation(value, path, "Member must be of type string"))
            return
        if shape.enum is not None:
            if value not in shape.enum:
                allowed = ", ".join(shape.enum)
                self.errors.append(
                    violation(value, path, f"Member must satisfy enum value set: [{allowed}]")
                )
            return
        if not self._check_length(value, len(value), path, shape.min_len, shape.max_len):
            return
        if shape.pattern is not None and not shape.pattern.matches(value):
            self.errors.append(
                violation(
                    value,
                    path,
                    f"Member must satisfy regular expression pattern: {shape.pattern.text}",
                )
            )

    def _check_bounds(self, value: float, path: str, low: float | None, high: float | None) -> None:
        if high is not None and value > high:
            self.errors.append(
                violation(value, path, f"Member must have value less than or equal to {high}")
            )
        elif low is not None and value < low:
            self.errors.append(
                violation(value, path, f"Member must have value greater than or equal to {low}")
            )

    def _check_int(self, shape: Int, value: Any, path: str) -> None:
        if not is_int(value):
            self.errors.append(violation(value, path, "Member must be of type integer"))
            return
        low = (
            shape.min if shape.min is not None else (JAVA_LONG_MIN if shape.long else JAVA_INT_MIN)
        )
        high = (
            shape.max if shape.max is not None else (JAVA_LONG_MAX if shape.long else JAVA_INT_MAX)
        )
        self._check_bounds(value, path, low, high)

    def _check_num(self, shape: Num, value: Any, path: str) -> None:
        if not is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
            self.errors.append(violation(value, path, "Member must be of type number"))
            return
        self._check_bounds(value, path, _compact(shape.min), _compact(shape.max))

    def _check_list(self, shape: ListOf, value: Any, path: str) -> None:
        if not isinstance(value, list | tuple):
            self.errors.append(violation(value, path, "Member must be of type list"))
            return
        # Items of an oversized list are not looked at: the message stays bounded.
        if not self._check_length(value, len(value), path, shape.min_len, shape.max_len):
            return
        for index, item in enumerate(value):
            item_path = element_path(path, index)
            if item is None:
                self.errors.append(violation(None, item_path, "Member must not be null"))
            else:
                self.check(shape.item, item, item_path)

    def _check_map(self, shape: MapOf, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            self.errors.append(violation(value, path, "Member must be of type map"))
            return
        if not self._check_length(value, len(value), path, shape.min_len, shape.max_len):
            return
        for index, (key, item) in enumerate(value.items()):
            entry = element_path(path, index)
            self.check(shape.key, key, f"{entry}.key")
            if item is None:
                self.errors.append(violation(None, f"{entry}.value", "Member must not be null"))
            else:
                self.check(shape.value, item, f"{entry}.value")


def _compact(bound: float | None) -> float | None:
    """Show whole-number bounds as integers (``100``, not ``100.0``) in messages."""
    if bound is not None and float(bound).is_integer():
        return int(bound)
    return bound


def check_shape(shape: Struct, request: Any, path: str = "") -> None:
    """Validate ``request`` against ``shape``; raise one ValidationError listing all problems."""
    checker = Checker()
    if not isinstance(request, Mapping):
        raise ValidationError("1 validation error detected: the request body must be a JSON object")
    checker.check_struct(shape, request, path)
    raise_if_any(checker.errors)
