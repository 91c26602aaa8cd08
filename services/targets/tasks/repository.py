"""Task queries: the set-based bulk insert and the filtered, keyset-paged list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.tasks.models import Task

# One statement for any number of rows: the arrays are unnested server-side, and a row whose
# external_ref already exists in the plan is skipped by the unique constraint — never a
# duplicate, even when two imports race. Rows arrive sorted by external_ref so concurrent
# imports take their row locks in the same order and cannot deadlock.
_BULK_INSERT = text(
    """
    insert into targets.tasks (
        id, plan_id, title, description, period, starts_on, ends_on, department, assignee,
        status, external_ref, initiative_id, target_ids, version, created_at, updated_at
    )
    select u.id, :plan_id, u.title, u.description, u.period, u.starts_on, u.ends_on,
           u.department, u.assignee, u.status, u.external_ref, u.initiative_id,
           coalesce(string_to_array(nullif(u.target_ids, ''), ',')::uuid[], '{}'::uuid[]),
           1, now(), now()
    from unnest(
        cast(:ids as uuid[]), cast(:titles as text[]), cast(:descriptions as text[]),
        cast(:periods as text[]), cast(:starts as date[]), cast(:ends as date[]),
        cast(:departments as text[]), cast(:assignees as text[]), cast(:statuses as text[]),
        cast(:refs as text[]), cast(:initiatives as uuid[]), cast(:target_ids as text[])
    ) as u(id, title, description, period, starts_on, ends_on, department, assignee, status,
           external_ref, initiative_id, target_ids)
    on conflict (plan_id, external_ref) do nothing
    returning id
    """
)


async def insert_many(
    session: AsyncSession, plan_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> set[uuid.UUID]:
    """Inserts the rows that are new; returns the ids actually inserted."""
    if not rows:
        return set()
    params: dict[str, Any] = {
        "plan_id": plan_id,
        "ids": [r["id"] for r in rows],
        "titles": [r["title"] for r in rows],
        "descriptions": [r["description"] for r in rows],
        "periods": [r["period"] for r in rows],
        "starts": [r["starts_on"] for r in rows],
        "ends": [r["ends_on"] for r in rows],
        "departments": [r["department"] for r in rows],
        "assignees": [r["assignee"] for r in rows],
        "statuses": [r["status"] for r in rows],
        "refs": [r["external_ref"] for r in rows],
        "initiatives": [r["initiative_id"] for r in rows],
        "target_ids": [",".join(str(t) for t in r["target_ids"]) for r in rows],
    }
    result = await session.execute(_BULK_INSERT, params)
    return {row[0] for row in result}


async def by_external_refs(session: AsyncSession, plan_id: uuid.UUID, refs: Sequence[str]) -> dict[str, Task]:
    if not refs:
        return {}
    rows = await session.execute(select(Task).where(Task.plan_id == plan_id, Task.external_ref.in_(refs)))
    return {t.external_ref: t for t in rows.scalars() if t.external_ref is not None}


def filtered(
    plan_id: uuid.UUID,
    *,
    window: tuple[date, date] | None,
    period: str | None,
    department: str | None,
    status: str | None,
    assignee: str | None,
    initiative_id: uuid.UUID | None,
    target_id: uuid.UUID | None,
    external_ref: str | None,
) -> Select[Task]:
    query = select(Task).where(Task.plan_id == plan_id)
    if window:
        # A quarter filter keeps the quarter's own tasks and the month tasks inside it.
        query = query.where(Task.starts_on >= window[0], Task.ends_on <= window[1])
    if period:
        query = query.where(Task.period == period)
    if department:
        query = query.where(Task.department == department)
    if status:
        query = query.where(Task.status == status)
    if assignee:
        query = query.where(Task.assignee == assignee)
    if initiative_id:
        query = query.where(Task.initiative_id == initiative_id)
    if target_id:
        query = query.where(Task.target_ids.contains([target_id]))
    if external_ref:
        query = query.where(Task.external_ref == external_ref)
    return query


async def page_of(
    session: AsyncSession, query: Select[Task], after: tuple[Any, ...] | None, limit: int
) -> list[Task]:
    if after is not None:
        query = query.where(tuple_(Task.starts_on, Task.id) > after)
    rows = await session.execute(query.order_by(Task.starts_on, Task.id).limit(limit + 1))
    return list(rows.scalars())
