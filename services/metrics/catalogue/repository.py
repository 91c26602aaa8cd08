"""Queries of the metric catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.catalogue.models import metric_definitions as table


async def all_definitions(session: AsyncSession) -> Sequence[RowMapping]:
    return (await session.execute(select(table).order_by(table.c.key))).mappings().all()


async def page_of_definitions(session: AsyncSession, after: str | None, limit: int) -> Sequence[RowMapping]:
    query = select(table).order_by(table.c.key).limit(limit)
    if after is not None:
        query = query.where(table.c.key > after)
    return (await session.execute(query)).mappings().all()


async def get_definition(session: AsyncSession, key: str, *, for_update: bool = False) -> RowMapping | None:
    query = select(table).where(table.c.key == key)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().one_or_none()


async def insert_definition(session: AsyncSession, values: dict[str, Any]) -> RowMapping | None:
    """The new row, or None when the key exists already."""

    statement = pg_insert(table).values(**values).on_conflict_do_nothing().returning(*table.c)
    return (await session.execute(statement)).mappings().one_or_none()


async def update_definition(session: AsyncSession, key: str, values: dict[str, Any]) -> RowMapping:
    statement = (
        update(table)
        .where(table.c.key == key)
        .values(**values, version=table.c.version + 1, updated_at=func.now())
        .returning(*table.c)
    )
    return (await session.execute(statement)).mappings().one()
