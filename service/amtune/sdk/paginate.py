"""``client.get_paginator(op).paginate(...)`` for the three List operations, as botocore does it.

All three use ``NextToken`` in and out and ``MaxResults`` as the page size. ``PaginationConfig``
takes ``PageSize``, ``MaxItems`` and ``StartingToken``; when ``MaxItems`` cuts a page short the
resume token says how many items of that page were already handed out, so resuming neither skips
nor repeats (the token format is botocore's: base64 JSON with ``boto_truncate_amount``). A service
that returns the same token twice raises :class:`PaginationError` instead of looping forever.
"""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from amtune.sdk.errors import PaginationError

#: snake_case operation -> the list member holding its items.
PAGINATED: dict[str, str] = {
    "list_hyper_parameter_tuning_jobs": "HyperParameterTuningJobSummaries",
    "list_training_jobs_for_hyper_parameter_tuning_job": "TrainingJobSummaries",
    "list_training_jobs": "TrainingJobSummaries",
    "list_training_job_metrics": "Metrics",
}


class Paginator:
    def __init__(self, method: Callable[..., dict[str, Any]], result_key: str) -> None:
        self._method = method
        self.result_key = result_key

    def paginate(self, **kwargs: Any) -> PageIterator:
        config: Mapping[str, Any] = kwargs.pop("PaginationConfig", None) or {}
        unknown = set(config) - {"MaxItems", "PageSize", "StartingToken"}
        if unknown:
            raise ValueError(f"Unknown PaginationConfig keys: {sorted(unknown)}")
        return PageIterator(
            self._method,
            self.result_key,
            kwargs,
            max_items=config.get("MaxItems"),
            page_size=config.get("PageSize"),
            starting_token=config.get("StartingToken"),
        )


class PageIterator:
    def __init__(
        self,
        method: Callable[..., dict[str, Any]],
        result_key: str,
        params: Mapping[str, Any],
        *,
        max_items: int | None,
        page_size: int | None,
        starting_token: str | None,
    ) -> None:
        self._method = method
        self.result_key = result_key
        self._params = dict(params)
        self._max_items = int(max_items) if max_items is not None else None
        self._page_size = page_size
        self._starting_token = starting_token
        self.resume_token: str | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        params = dict(self._params)
        if self._page_size is not None:
            params["MaxResults"] = self._page_size
        next_token, skip = decode_token(self._starting_token)
        seen_tokens: set[str] = set()
        handed_out = 0
        while True:
            request = dict(params)
            if next_token:
                request["NextToken"] = next_token
            page = self._method(**request)
            items: list[Any] = list(page.get(self.result_key, []))
            if skip:
                items = items[skip:]
                page = {**page, self.result_key: items}
                skip_offset, skip = skip, 0
            else:
                skip_offset = 0
            new_token = page.get("NextToken") or None
            if self._max_items is not None and handed_out + len(items) >= self._max_items:
                keep = self._max_items - handed_out
                truncated = keep < len(items)
                page = {**page, self.result_key: items[:keep]}
                page.pop("NextToken", None)
                if truncated:
                    self.resume_token = encode_token(next_token, skip_offset + keep)
                elif new_token:
                    self.resume_token = encode_token(new_token, 0)
                yield page
                return
            handed_out += len(items)
            yield page
            if not new_token:
                return
            if new_token in seen_tokens or new_token == next_token:
                raise PaginationError(f"The same next token was received twice: {new_token}")
            seen_tokens.add(new_token)
            next_token = new_token

    def search(self, expression: str) -> Iterator[Any]:
        """JMESPath over every page, flattening list results (needs ``jmespath``, as boto3)."""
        jmespath = importlib.import_module("jmespath")
        compiled = jmespath.compile(expression)
        for page in self:
            found = compiled.search(page)
            if isinstance(found, list):
                yield from found
            else:
                yield found

    def build_full_result(self) -> dict[str, Any]:
        """Every item of every page in one dict; ``NextToken`` only when MaxItems cut it short."""
        items: list[Any] = []
        for page in self:
            items.extend(page.get(self.result_key, []))
        result: dict[str, Any] = {self.result_key: items}
        if self.resume_token is not None:
            result["NextToken"] = self.resume_token
        return result


def encode_token(next_token: str | None, truncate_amount: int) -> str:
    payload: dict[str, Any] = {"NextToken": next_token}
    if truncate_amount:
        payload["boto_truncate_amount"] = truncate_amount
    if next_token is None and not truncate_amount:
        return ""
    return base64.b64encode(json.dumps(payload).encode()).decode()


def decode_token(token: str | None) -> tuple[str | None, int]:
    """(service NextToken, items to skip) from a StartingToken; a plain service token passes."""
    if not token:
        return None, 0
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
    except ValueError:
        return token, 0
    if not isinstance(payload, dict) or "NextToken" not in payload:
        return token, 0
    return payload.get("NextToken"), int(payload.get("boto_truncate_amount", 0))
