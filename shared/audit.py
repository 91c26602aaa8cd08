"""Audit trail: who changed what, when — written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog
from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from sqlalchemy import and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.api import problem_responses, v1_router
from shared.auth import Principal, Reader
from shared.db import Session
from shared.numbers import plain
from shared.pagination import Page, PageParams, Paging, cursor_datetime, cursor_int
from shared.tables import audit_table


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    entity_type: str
    entity_id: str
    action: str
    changes: dict[str, Any]
    request_id: str | None


_EXACT: dict[Any, Callable[[Any], Any]] = {Decimal: plain}


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """{field: {"from": old, "to": new}} for the fields that differ (all of them on create/delete).

    Decimals are recorded in plain digits, as the API answers them (FastAPI's encoder would make
    them floats and lose digits)."""
    old = jsonable_encoder(before or {}, custom_encoder=_EXACT)
    new = jsonable_encoder(after or {}, custom_encoder=_EXACT)
    changes: dict[str, Any] = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changes[key] = {"from": old.get(key), "to": new.get(key)}
    return changes


async def record(
    session: AsyncSession,
    schema: str,
    principal: Principal,
    *,
    entity_type: str,
    entity_id: object,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    await session.execute(
        insert(audit_table(schema)).values(
            actor=principal.subject,
            entity_type=entity_type,
            entity_id=str(entity_id),
            action=action,
            changes=diff(before, after),
            request_id=request_id,
        )
    )


async def record_update(
    session: AsyncSession,
    schema: str,
    principal: Principal,
    entity: Any,
    *,
    entity_type: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """A changed entity: its `version` and `updated_at` move on, and the change is recorded
    (the one place every service's edits go through)."""
    entity.version += 1
    entity.updated_at = datetime.now(UTC)
    await record(
        session,
        schema,
        principal,
        entity_type=entity_type,
        entity_id=entity.id,
        action="update",
        before=before,
        after=after,
    )


async def read_trail(
    session: AsyncSession,
    schema: str,
    page: PageParams,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
) -> Page[AuditEntry]:
    table = audit_table(schema)
    query = select(table)
    if entity_type:
        query = query.where(table.c.entity_type == entity_type)
    if entity_id:
        query = query.where(table.c.entity_id == entity_id)
    after = page.cursor_values(cursor_datetime, cursor_int(1, 2**63 - 1))
    if after is not None:
        at, row_id = after
        query = query.where(or_(table.c.at < at, and_(table.c.at == at, table.c.id < row_id)))
    query = query.order_by(table.c.at.desc(), table.c.id.desc()).limit(page.limit + 1)
    rows = (await session.execute(query)).mappings().all()
    items = [AuditEntry.model_validate(dict(r)) for r in rows[: page.limit]]
    return Page(
        items=items, next_cursor=page.next_cursor(list(rows), lambda r: (r["at"].isoformat(), r["id"]))
    )


def audit_router(schema: str, *, entity_types: str, summary: str) -> APIRouter:
    """`GET /v1/audit` over one service's trail: every service serves its own the same way."""
    router = v1_router(tags=["audit"])

    @router.get("/audit", summary=summary, responses=problem_responses(400))
    async def read_audit(
        principal: Reader,
        session: Session,
        page: Paging,
        # Plain defaults, not Annotated: the description is this factory's argument, which a
        # postponed annotation could not see.
        entity_type: str | None = Query(None, description=entity_types),
        entity_id: str | None = Query(None),
    ) -> Page[AuditEntry]:
        """Who changed what and when, newest first, with each field's before and after."""
        return await read_trail(session, schema, page, entity_type=entity_type, entity_id=entity_id)

    return router
