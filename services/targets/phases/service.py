"""Phases of a plan (Q1 research & data clean-up, Q2 campaigns, Q3–Q4 adjust & retain)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.deps import AUDIT_SCHEMA, check_inside_plan, get_plan, require_open_plan, snapshot
from services.targets.phases.models import Phase
from services.targets.plans.models import utcnow
from shared import audit
from shared.auth import Principal
from shared.errors import Problem, not_found
from shared.pagination import PageParams, SortKey, cursor_date, cursor_uuid, keyset_page

AUDITED = ("name", "starts_on", "ends_on", "focus")


class PhaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    starts_on: date
    ends_on: date
    focus: str | None = None


class PhaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    starts_on: date | None = None
    ends_on: date | None = None
    focus: str | None = None


class PhaseOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    name: str
    starts_on: date
    ends_on: date
    focus: str | None


def to_out(phase: Phase) -> PhaseOut:
    return PhaseOut.model_validate(phase, from_attributes=True)


def _check(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise Problem(422, "invalid_period", f"The phase ends ({ends_on}) before it starts ({starts_on}).")


async def create_phase(
    session: AsyncSession, principal: Principal, plan_id: uuid.UUID, body: PhaseIn
) -> Phase:
    plan = await get_plan(session, plan_id)
    require_open_plan(plan)
    _check(body.starts_on, body.ends_on)
    check_inside_plan(plan, body.starts_on, body.ends_on, "phase")
    phase = Phase(id=uuid.uuid4(), plan_id=plan.id, **body.model_dump())
    session.add(phase)
    await session.flush()
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="phase",
        entity_id=phase.id,
        action="create",
        after=snapshot(phase, AUDITED),
    )
    await session.commit()
    return phase


_PHASE_ORDER = [
    SortKey(Phase.starts_on, lambda phase: phase.starts_on, cursor_date),
    SortKey(Phase.id, lambda phase: phase.id, cursor_uuid),
]


async def list_phases(
    session: AsyncSession, plan_id: uuid.UUID, page: PageParams
) -> tuple[list[Phase], str | None]:
    await get_plan(session, plan_id)
    return await keyset_page(session, select(Phase).where(Phase.plan_id == plan_id), page, _PHASE_ORDER)


async def get_phase(session: AsyncSession, phase_id: uuid.UUID) -> Phase:
    phase = (
        await session.execute(select(Phase).where(Phase.id == phase_id).with_for_update())
    ).scalar_one_or_none()
    if phase is None:
        raise not_found("phase", phase_id)
    return phase


async def update_phase(
    session: AsyncSession, principal: Principal, phase_id: uuid.UUID, body: PhaseUpdate
) -> Phase:
    phase = await get_phase(session, phase_id)
    plan = await get_plan(session, phase.plan_id)
    require_open_plan(plan)
    before = snapshot(phase, AUDITED)
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is not None or name == "focus":
            setattr(phase, name, value)
    _check(phase.starts_on, phase.ends_on)
    check_inside_plan(plan, phase.starts_on, phase.ends_on, "phase")
    phase.updated_at = utcnow()
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="phase",
        entity_id=phase.id,
        action="update",
        before=before,
        after=snapshot(phase, AUDITED),
    )
    await session.commit()
    return phase


async def delete_phase(session: AsyncSession, principal: Principal, phase_id: uuid.UUID) -> None:
    phase = await get_phase(session, phase_id)
    require_open_plan(await get_plan(session, phase.plan_id))
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="phase",
        entity_id=phase.id,
        action="delete",
        before=snapshot(phase, AUDITED),
    )
    await session.delete(phase)
    await session.commit()
