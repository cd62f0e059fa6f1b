"""One implementation of AMT's List paging: MaxResults, SortBy, SortOrder and NextToken."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.orm import InstrumentedAttribute, Session

from amtune.app.context import Caller, Context
from amtune.app.paging import Cursor
from amtune.store import repository

DEFAULT_MAX_RESULTS = 10


def list_page(
    ctx: Context,
    caller: Caller,
    request: dict[str, Any],
    *,
    query: Select[Any],
    sort_columns: Mapping[str, InstrumentedAttribute[Any]],
    default_sort: str,
    id_column: InstrumentedAttribute[int],
    render: Callable[[Session, list[Any]], list[dict[str, Any]]],
    result_key: str,
    default_order: str = "Ascending",
    scope: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    sort_by = request.get("SortBy") or default_sort
    descending = (request.get("SortOrder") or default_order) == "Descending"
    limit = int(request.get("MaxResults") or DEFAULT_MAX_RESULTS)
    # The token is bound to everything that shapes the result except the page size.
    bound = {k: v for k, v in request.items() if k not in ("NextToken", "MaxResults")}
    bound["_account"] = caller.account_id
    bound.update(scope or {})
    cursor = ctx.tokens.decode(request.get("NextToken"), bound)
    sort_column = sort_columns[sort_by]

    def work(session: Session) -> dict[str, Any]:
        rows = repository.page(
            session,
            query,
            sort_column,
            id_column,
            descending=descending,
            after=(cursor.value, cursor.row_id) if cursor else None,
            limit=limit,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        result: dict[str, Any] = {result_key: render(session, rows)}
        if more and rows:
            last = rows[-1]
            result["NextToken"] = ctx.tokens.encode(
                _cursor(last, sort_column.key, id_column.key), bound
            )
        return result

    return ctx.run(work, readonly=True)


def _cursor(row: Any, sort_key: str, id_key: str) -> Cursor:
    return Cursor(value=getattr(row, sort_key), row_id=getattr(row, id_key))


def name_filtered(
    query: Select[Any], request: Mapping[str, Any], name: InstrumentedAttribute[str]
) -> Select[Any]:
    """Apply ``NameContains`` as AWS does for every List operation: a substring of the name,
    case-insensitive, with no character taken as a pattern."""
    text = request.get("NameContains")
    if not text:
        return query
    return query.where(func.lower(name).contains(str(text).lower(), autoescape=True))


def time_filtered(
    query: Select[Any],
    request: Mapping[str, Any],
    created: InstrumentedAttribute[float],
    modified: InstrumentedAttribute[float],
) -> Select[Any]:
    """Apply the Creation/LastModified After/Before filters (epoch seconds, exclusive)."""
    for member, column, after in (
        ("CreationTimeAfter", created, True),
        ("CreationTimeBefore", created, False),
        ("LastModifiedTimeAfter", modified, True),
        ("LastModifiedTimeBefore", modified, False),
    ):
        if request.get(member) is not None:
            bound = float(request[member])
            query = query.where(column > bound if after else column < bound)
    return query
