"""Opaque-cursor (keyset) pagination with a capped page size."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

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


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise Problem(400, "invalid_cursor", "The cursor is not one this API issued.") from exc
    if not isinstance(values, list):
        raise Problem(400, "invalid_cursor", "The cursor is not one this API issued.")
    return values


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: list[Any] | None

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
