"""Opaque-cursor (keyset) pagination with a capped page size."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from shared.errors import Problem

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to read the next page; null at the end."
    )


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_cursor() -> Problem:
    return Problem(400, "invalid_cursor", "The cursor is not one this API issued.")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise _invalid_cursor() from exc
    if not isinstance(values, list):
        raise _invalid_cursor()
    return values


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: list[Any] | None

    def cursor_values(self, *parsers: Callable[[Any], Any]) -> tuple[Any, ...] | None:
        """The cursor's values read back by `parsers` (one per value), or None without a
        cursor; any cursor this API did not issue is 400 `invalid_cursor`, never a failure."""
        if self.after is None:
            return None
        if len(self.after) != len(parsers):
            raise _invalid_cursor()
        try:
            return tuple(parse(value) for parse, value in zip(parsers, self.after, strict=True))
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise _invalid_cursor() from exc

    def next_cursor(self, rows: list[Any], key: Any) -> str | None:
        """Call with limit+1 fetched rows; returns the cursor when a further page exists."""
        if len(rows) <= self.limit:
            return None
        return encode_cursor(list(key(rows[self.limit - 1])))


def page_params(
    request: Request,
    limit: Annotated[
        int | None, Query(ge=1, description="Page size (capped; see PACER_PAGE_SIZE_MAX).")
    ] = None,
    cursor: Annotated[str | None, Query(description="Opaque cursor from a previous page.")] = None,
) -> PageParams:
    settings = request.app.state.settings
    if limit is not None and limit > settings.page_size_max:
        raise Problem(
            422,
            "page_size_too_large",
            f"limit may be at most {settings.page_size_max}.",
            max_limit=settings.page_size_max,
        )
    return PageParams(
        limit=limit or settings.page_size_default, after=decode_cursor(cursor) if cursor else None
    )


Paging = Annotated[PageParams, Depends(page_params)]


# Strict readers of cursor values: a forged value of the wrong type or range is refused here,
# before it can reach the database as a parameter it would reject.
def cursor_text(value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not a text value")
    value.encode("utf-8")  # a lone surrogate cannot be sent
    return value


def cursor_uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(cursor_text(value))


def cursor_date(value: Any) -> date:
    return date.fromisoformat(cursor_text(value))


def cursor_datetime(value: Any) -> datetime:
    moment = datetime.fromisoformat(cursor_text(value))
    if moment.tzinfo is None:
        raise ValueError("a time without zone")
    return moment


def cursor_int(low: int, high: int) -> Callable[[Any], int]:
    def read(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError("not an integer in range")
        return value

    return read


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset order (ascending): its SQL expression, its value on a row, and
    how a cursor's value (JSON, dates and ids as text) becomes that value again."""

    expression: ColumnElement[Any] | InstrumentedAttribute[Any]
    of_row: Callable[[Any], Any]
    parse: Callable[[Any], Any] = cursor_text


def created_order(model: Any, id_column: str = "id") -> list[SortKey]:
    """Oldest first, ties by id: the order of rows that accumulate (findings, keys)."""
    column = getattr(model, id_column)
    as_id: Callable[[Any], Any] = cursor_uuid if id_column == "id" else cursor_text
    return [
        SortKey(model.created_at, lambda row: row.created_at, cursor_datetime),
        SortKey(column, lambda row: getattr(row, id_column), as_id),
    ]


async def keyset_page(
    session: AsyncSession, query: Select[Any], page: PageParams, order: Sequence[SortKey]
) -> tuple[list[Any], str | None]:
    """One page of `query`'s rows in `order`, after the page's cursor; and the next cursor."""
    expressions = [key.expression for key in order]
    after = page.cursor_values(*(key.parse for key in order))
    if after is not None:
        query = query.where(tuple_(*expressions) > after)
    rows = list((await session.execute(query.order_by(*expressions).limit(page.limit + 1))).scalars())
    return rows[: page.limit], page.next_cursor(rows, lambda row: [key.of_row(row) for key in order])
