"""Plans: creation with calendar-year defaults, the draft → active → closed workflow,
optimistic concurrency on every change."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.deps import AUDIT_SCHEMA, check_version, get_plan, snapshot
from services.targets.phases.models import Phase
from services.targets.plans.models import Plan
from services.targets.plans.schemas import PlanCreate, PlanOut, PlanUpdate, Thresholds
from services.targets.targets.models import Target
from services.targets.tasks.models import Task
from shared import audit
from shared.auth import Principal
from shared.errors import Problem
from shared.pagination import Page, PageParams, cursor_text
from shared.periods import zone

ALLOWED_TRANSITIONS: dict[str, set[str]] = {"draft": {"active"}, "active": {"closed"}, "closed": set()}
AUDITED = (
    "code",
    "name",
    "description",
    "fiscal_year",
    "starts_on",
    "ends_on",
    "timezone",
    "status",
    "on_track_threshold",
    "at_risk_threshold",
    "required_scope",
)


def to_out(plan: Plan) -> PlanOut:
    return PlanOut(
        id=plan.id,
        code=plan.code,
        name=plan.name,
        description=plan.description,
        fiscal_year=plan.fiscal_year,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        timezone=plan.timezone,
        status=plan.status,
        version=plan.version,
        thresholds=Thresholds(on_track=plan.on_track_threshold, at_risk=plan.at_risk_threshold),
        required_scope=list(plan.required_scope),
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


def _check_thresholds(thresholds: Thresholds) -> None:
    if thresholds.at_risk > thresholds.on_track:
        raise Problem(422, "invalid_thresholds", "at_risk may not exceed on_track.")


def _check_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise Problem(422, "invalid_period", f"The plan ends ({ends_on}) before it starts ({starts_on}).")


async def create_plan(session: AsyncSession, principal: Principal, body: PlanCreate, default_tz: str) -> Plan:
    starts_on = body.starts_on or date(body.fiscal_year, 1, 1)
    ends_on = body.ends_on or date(body.fiscal_year, 12, 31)
    _check_dates(starts_on, ends_on)
    _check_thresholds(body.thresholds)
    timezone = body.timezone or default_tz
    zone(timezone)
    plan = Plan(
        id=uuid.uuid4(),
        code=body.code,
        name=body.name,
        description=body.description,
        fiscal_year=body.fiscal_year,
        starts_on=starts_on,
        ends_on=ends_on,
        timezone=timezone,
        status=body.status,
        version=1,
        on_track_threshold=body.thresholds.on_track,
        at_risk_threshold=body.thresholds.at_risk,
        required_scope=sorted(set(body.required_scope)),
    )
    session.add(plan)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Problem(
            409, "plan_code_taken", f"A plan with code '{body.code}' exists.", code_value=body.code
        ) from exc
    await audit.record(
        session,
        AUDIT_SCHEMA,
        principal,
        entity_type="plan",
        entity_id=plan.id,
        action="create",
        after=snapshot(plan, AUDITED),
    )
    await session.commit()
    return plan


async def list_plans(
    session: AsyncSession,
    page: PageParams,
    *,
    code: str | None = None,
    status: str | None = None,
    fiscal_year: int | None = None,
) -> Page[PlanOut]:
    query = select(Plan)
    if code:
        query = query.where(Plan.code == code)
    if status:
        query = query.where(Plan.status == status)
    if fiscal_year:
        query = query.where(Plan.fiscal_year == fiscal_year)
    after = page.cursor_values(cursor_text)
    if after is not None:
        query = query.where(Plan.code > after[0])
    rows = list((await session.execute(query.order_by(Plan.code).limit(page.limit + 1))).scalars())
    return Page(
        items=[to_out(p) for p in rows[: page.limit]],
        next_cursor=page.next_cursor(rows, lambda p: (p.code,)),
    )


async def _contents_outside(session: AsyncSession, plan_id: uuid.UUID, starts_on: date, ends_on: date) -> int:
    count = 0
    for model in (Target, Phase, Task):
        outside = or_(model.starts_on < starts_on, model.ends_on > ends_on)
        count += (
            await session.execute(select(func.count()).where(and_(model.plan_id == plan_id, outside)))
        ).scalar_one()
    return count


async def update_plan(
    session: AsyncSession, principal: Principal, plan_id: uuid.UUID, body: PlanUpdate, if_match: int | None
) -> Plan:
    plan = await get_plan(session, plan_id, for_update=True)
    check_version(if_match, plan.version)
    was_closed = plan.status == "closed"
    before = snapshot(plan, AUDITED)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if changes.get("status") and changes["status"] != plan.status:
        if changes["status"] not in ALLOWED_TRANSITIONS[plan.status]:
            raise Problem(
                409,
                "illegal_status_transition",
                f"A {plan.status} plan cannot become {changes['status']}.",
                allowed=sorted(ALLOWED_TRANSITIONS[plan.status]),
            )
        plan.status = changes["status"]
    if changes.get("timezone"):
        zone(changes["timezone"])
        plan.timezone = changes["timezone"]
    if "starts_on" in changes or "ends_on" in changes:
        starts_on = changes.get("starts_on") or plan.starts_on
        ends_on = changes.get("ends_on") or plan.ends_on
        _check_dates(starts_on, ends_on)
        if await _contents_outside(session, plan.id, starts_on, ends_on):
            raise Problem(
                409,
                "plan_dates_exclude_contents",
                "Targets, phases or tasks of this plan lie outside the new dates; move them first.",
            )
        plan.starts_on, plan.ends_on = starts_on, ends_on
    if body.thresholds is not None:
        _check_thresholds(body.thresholds)
        plan.on_track_threshold = body.thresholds.on_track
        plan.at_risk_threshold = body.thresholds.at_risk
    for name in ("name", "description"):
        if name in changes and (changes[name] is not None or name == "description"):
            setattr(plan, name, changes[name])
    if body.required_scope is not None:
        plan.required_scope = sorted(set(body.required_scope))
    after = snapshot(plan, AUDITED)
    if after != before and was_closed:
        # A closed year is read-only: new thresholds would recolour every target of it.
        raise Problem(409, "plan_closed", f"Plan {plan.code} is closed; it is read-only.")
    if after != before:
        await audit.record_update(
            session, AUDIT_SCHEMA, principal, plan, entity_type="plan", before=before, after=after
        )
    await session.commit()
    return plan
