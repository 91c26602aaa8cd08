"""Risks: category, likelihood × impact, mitigation, owner department, status, linked targets."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.deps import AUDIT_SCHEMA, check_departments, get_plan, require_open_plan, snapshot
from services.targets.risks.models import Risk
from services.targets.targets.models import Target
from shared import audit
from shared.auth import Principal
from shared.errors import Problem, not_found
from shared.pagination import PageParams, SortKey, cursor_int, cursor_uuid, keyset_page

RiskCategory = Literal["traffic_spike", "policy_regulation", "competition", "supply_chain", "tech", "other"]
RiskStatus = Literal["open", "mitigating", "closed"]
AUDITED = (
    "title",
    "category",
    "likelihood",
    "impact",
    "mitigation",
    "owner_department",
    "status",
    "target_ids",
)


class RiskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    category: RiskCategory
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    mitigation: str | None = None
    owner_department: str | None = None
    status: RiskStatus = "open"
    target_ids: list[uuid.UUID] = Field(default_factory=list)


class RiskUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=300)
    category: RiskCategory | None = None
    likelihood: int | None = Field(None, ge=1, le=5)
    impact: int | None = Field(None, ge=1, le=5)
    mitigation: str | None = None
    owner_department: str | None = None
    status: RiskStatus | None = None
    target_ids: list[uuid.UUID] | None = None


class RiskOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    title: str
    category: RiskCategory
    likelihood: int
    impact: int
    score: int = Field(description="likelihood × impact (1–25).")
    mitigation: str | None
    owner_department: str | None
    status: RiskStatus
    target_ids: list[uuid.UUID]
    version: int


def to_out(risk: Risk) -> RiskOut:
    return RiskOut(
        id=risk.id,
        plan_id=risk.plan_id,
        title=risk.title,
        category=risk.category,
        likelihood=risk.likelihood,
        impact=risk.impact,
        score=risk.likelihood * risk.impact,
        mitigation=risk.mitigation,
        owner_department=risk.owner_department,
        status=risk.status,
        target_ids=list(risk.target_ids),
        version=risk.version,
    )


async def _check_targets(session: AsyncSession, plan_id: uuid.UUID, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(ids))
    found = set(
        (
            await session.execute(select(Target.id).where(Target.id.in_(wanted), Target.plan_id == plan_id))
        ).scalars()
    )
    if found != set(wanted):
        raise Problem(422, "unknown_target", "Linked targets must belong to the same plan.")
    return wanted


async def create_risk(session: AsyncSession, principal: Principal, plan_id: uuid.UUID, body: RiskIn) -> Risk:
    plan = await get_plan(session, plan_id)
    require_open_plan(plan)
    await check_departments(session, [body.owner_department])
    target_ids = await _check_targets(session, plan.id, body.target_ids)
    risk = Risk(id=uuid.uuid4(), plan_id=plan.id, version=1, **body.model_dump(exclude={"target_ids"}))
    risk.target_ids = target_ids
    session.add(risk)
    await session.flush()
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="risk",
        entity_id=risk.id,
        action="create",
        after=snapshot(risk, AUDITED),
    )
    await session.commit()
    return risk


# Highest score (likelihood × impact) first: ascending on its negation, ties by id.
_RISK_ORDER = [
    SortKey(
        -(Risk.likelihood * Risk.impact), lambda risk: -(risk.likelihood * risk.impact), cursor_int(-25, -1)
    ),
    SortKey(Risk.id, lambda risk: risk.id, cursor_uuid),
]


async def list_risks(
    session: AsyncSession,
    plan_id: uuid.UUID,
    page: PageParams,
    *,
    status: str | None,
    category: str | None,
) -> tuple[list[Risk], str | None]:
    await get_plan(session, plan_id)
    query = select(Risk).where(Risk.plan_id == plan_id)
    if status:
        query = query.where(Risk.status == status)
    if category:
        query = query.where(Risk.category == category)
    return await keyset_page(session, query, page, _RISK_ORDER)


async def get_risk(session: AsyncSession, risk_id: uuid.UUID, *, for_update: bool = False) -> Risk:
    query = select(Risk).where(Risk.id == risk_id)
    if for_update:
        query = query.with_for_update()
    risk = (await session.execute(query)).scalar_one_or_none()
    if risk is None:
        raise not_found("risk", risk_id)
    return risk


async def update_risk(
    session: AsyncSession, principal: Principal, risk_id: uuid.UUID, body: RiskUpdate
) -> Risk:
    risk = await get_risk(session, risk_id, for_update=True)
    require_open_plan(await get_plan(session, risk.plan_id))
    before = snapshot(risk, AUDITED)
    changes = body.model_dump(exclude_unset=True, exclude={"target_ids"})
    if "owner_department" in changes:
        await check_departments(session, [changes["owner_department"]])
    for name, value in changes.items():
        if value is not None or name in ("mitigation", "owner_department"):
            setattr(risk, name, value)
    if body.target_ids is not None:
        risk.target_ids = await _check_targets(session, risk.plan_id, body.target_ids)
    await audit.record_update(
        session,
        AUDIT_SCHEMA,
        principal,
        risk,
        entity_type="risk",
        before=before,
        after=snapshot(risk, AUDITED),
    )
    await session.commit()
    return risk


async def delete_risk(session: AsyncSession, principal: Principal, risk_id: uuid.UUID) -> None:
    risk = await get_risk(session, risk_id, for_update=True)
    require_open_plan(await get_plan(session, risk.plan_id))
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="risk",
        entity_id=risk.id,
        action="delete",
        before=snapshot(risk, AUDITED),
    )
    await session.delete(risk)
    await session.commit()
