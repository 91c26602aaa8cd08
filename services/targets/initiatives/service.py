"""Initiatives: the key measures that serve targets, with a department and dates."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.deps import (
    AUDIT_SCHEMA,
    check_departments,
    check_inside_plan,
    get_plan,
    require_open_plan,
    snapshot,
)
from services.targets.initiatives.models import Initiative, target_initiatives
from services.targets.plans.models import Plan
from services.targets.targets.models import Target
from shared import audit
from shared.auth import Principal
from shared.errors import Problem, not_found
from shared.pagination import PageParams, SortKey, cursor_uuid, keyset_page

InitiativeStatus = Literal["planned", "in_progress", "done", "cancelled"]
AUDITED = ("name", "description", "department", "starts_on", "ends_on", "status")


class InitiativeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    department: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    status: InitiativeStatus = "planned"
    target_ids: list[uuid.UUID] = Field(default_factory=list)


class InitiativeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    department: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    status: InitiativeStatus | None = None
    target_ids: list[uuid.UUID] | None = None


class InitiativeOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    name: str
    description: str | None
    department: str | None
    starts_on: date | None
    ends_on: date | None
    status: InitiativeStatus
    target_ids: list[uuid.UUID]
    version: int


async def hydrate(session: AsyncSession, rows: Sequence[Initiative]) -> list[InitiativeOut]:
    links: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if rows:
        result = await session.execute(
            select(target_initiatives.c.initiative_id, target_initiatives.c.target_id)
            .where(target_initiatives.c.initiative_id.in_([r.id for r in rows]))
            .order_by(target_initiatives.c.target_id)
        )
        for initiative_id, target_id in result:
            links[initiative_id].append(target_id)
    return [
        InitiativeOut(
            id=r.id,
            plan_id=r.plan_id,
            name=r.name,
            description=r.description,
            department=r.department,
            starts_on=r.starts_on,
            ends_on=r.ends_on,
            status=r.status,
            target_ids=links[r.id],
            version=r.version,
        )
        for r in rows
    ]


def _check_dates(plan: Plan, starts_on: date | None, ends_on: date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise Problem(
            422, "invalid_period", f"The initiative ends ({ends_on}) before it starts ({starts_on})."
        )
    check_inside_plan(plan, starts_on or plan.starts_on, ends_on or plan.ends_on, "initiative")


async def _link(
    session: AsyncSession, plan_id: uuid.UUID, initiative_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> None:
    wanted = set(ids)
    found = set(
        (
            await session.execute(select(Target.id).where(Target.id.in_(wanted), Target.plan_id == plan_id))
        ).scalars()
    )
    if found != wanted:
        raise Problem(422, "unknown_target", "Linked targets must belong to the same plan.")
    await session.execute(
        delete(target_initiatives).where(target_initiatives.c.initiative_id == initiative_id)
    )
    if wanted:
        await session.execute(
            insert(target_initiatives),
            [{"target_id": t, "initiative_id": initiative_id} for t in sorted(wanted)],
        )


async def create_initiative(
    session: AsyncSession, principal: Principal, plan_id: uuid.UUID, body: InitiativeIn
) -> InitiativeOut:
    plan = await get_plan(session, plan_id)
    require_open_plan(plan)
    _check_dates(plan, body.starts_on, body.ends_on)
    await check_departments(session, [body.department])
    initiative = Initiative(
        id=uuid.uuid4(), plan_id=plan.id, version=1, **body.model_dump(exclude={"target_ids"})
    )
    session.add(initiative)
    await session.flush()
    await _link(session, plan.id, initiative.id, body.target_ids)
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="initiative",
        entity_id=initiative.id,
        action="create",
        after=snapshot(initiative, AUDITED) | {"target_ids": sorted(set(body.target_ids))},
    )
    await session.commit()
    return (await hydrate(session, [initiative]))[0]


_INITIATIVE_ORDER = [
    SortKey(Initiative.name, lambda initiative: initiative.name),
    SortKey(Initiative.id, lambda initiative: initiative.id, cursor_uuid),
]


async def list_initiatives(
    session: AsyncSession, plan_id: uuid.UUID, page: PageParams
) -> tuple[list[InitiativeOut], str | None]:
    await get_plan(session, plan_id)
    query = select(Initiative).where(Initiative.plan_id == plan_id)
    rows, cursor = await keyset_page(session, query, page, _INITIATIVE_ORDER)
    return await hydrate(session, rows), cursor


async def get_initiative(
    session: AsyncSession, initiative_id: uuid.UUID, *, for_update: bool = False
) -> Initiative:
    query = select(Initiative).where(Initiative.id == initiative_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise not_found("initiative", initiative_id)
    return row


async def read_initiative(session: AsyncSession, initiative_id: uuid.UUID) -> InitiativeOut:
    return (await hydrate(session, [await get_initiative(session, initiative_id)]))[0]


async def update_initiative(
    session: AsyncSession, principal: Principal, initiative_id: uuid.UUID, body: InitiativeUpdate
) -> InitiativeOut:
    initiative = await get_initiative(session, initiative_id, for_update=True)
    plan = await get_plan(session, initiative.plan_id)
    require_open_plan(plan)
    before = snapshot(initiative, AUDITED)
    changes = body.model_dump(exclude_unset=True, exclude={"target_ids"})
    if "department" in changes:
        await check_departments(session, [changes["department"]])
    for name, value in changes.items():
        if value is not None or name in ("description", "department", "starts_on", "ends_on"):
            setattr(initiative, name, value)
    _check_dates(plan, initiative.starts_on, initiative.ends_on)
    if body.target_ids is not None:
        await _link(session, plan.id, initiative.id, body.target_ids)
    await audit.record_update(
        session,
        AUDIT_SCHEMA,
        principal,
        initiative,
        entity_type="initiative",
        before=before,
        after=snapshot(initiative, AUDITED),
    )
    await session.commit()
    return (await hydrate(session, [initiative]))[0]


async def delete_initiative(session: AsyncSession, principal: Principal, initiative_id: uuid.UUID) -> None:
    initiative = await get_initiative(session, initiative_id, for_update=True)
    require_open_plan(await get_plan(session, initiative.plan_id))
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="initiative",
        entity_id=initiative.id,
        action="delete",
        before=snapshot(initiative, AUDITED),
    )
    await session.delete(initiative)
    await session.commit()
