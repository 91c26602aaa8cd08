"""Plans: the year a team runs on."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response

from services.targets.deps import IfMatch, get_plan, set_etag
from services.targets.plans import service
from services.targets.plans.schemas import PlanCreate, PlanOut, PlanStatus, PlanUpdate
from shared.api import problem_responses, v1_router
from shared.auth import PlanWriter, Reader
from shared.db import Session
from shared.pagination import Page, Paging

router = v1_router(tags=["plans"])


@router.post(
    "/plans",
    status_code=201,
    response_model=PlanOut,
    summary="Create a plan",
    responses=problem_responses(409),
)
async def create_plan(
    body: PlanCreate, principal: PlanWriter, session: Session, request: Request, response: Response
) -> PlanOut:
    """Creates a plan. Dates default to the fiscal year's calendar year, the time zone to the
    business zone, thresholds to on track ≥ 100 % and at risk ≥ 90 %. A taken code → 409
    `plan_code_taken`."""
    plan = await service.create_plan(session, principal, body, request.app.state.settings.business_tz)
    set_etag(response, plan.version)
    return service.to_out(plan)


@router.get("/plans", summary="List plans", responses=problem_responses(400))
async def list_plans(
    principal: Reader,
    session: Session,
    page: Paging,
    code: Annotated[str | None, Query(description="Only the plan with this code.")] = None,
    status: Annotated[PlanStatus | None, Query()] = None,
    fiscal_year: Annotated[int | None, Query(ge=1000, le=9999)] = None,
) -> Page[PlanOut]:
    """Plans ordered by code, paged. Every role may read."""
    return await service.list_plans(session, page, code=code, status=status, fiscal_year=fiscal_year)


@router.get(
    "/plans/{plan_id}", response_model=PlanOut, summary="Read a plan", responses=problem_responses(404)
)
async def read_plan(plan_id: uuid.UUID, principal: Reader, session: Session, response: Response) -> PlanOut:
    """The plan with its `ETag` (send it back as `If-Match` when you change it)."""
    plan = await get_plan(session, plan_id)
    set_etag(response, plan.version)
    return service.to_out(plan)


@router.patch(
    "/plans/{plan_id}",
    response_model=PlanOut,
    summary="Change a plan (If-Match required)",
    responses=problem_responses(404, 409, 412, 428),
)
async def update_plan(
    plan_id: uuid.UUID,
    body: PlanUpdate,
    principal: PlanWriter,
    session: Session,
    if_match: IfMatch,
    response: Response,
) -> PlanOut:
    """Changes name, dates, time zone, thresholds or status. Status moves `draft → active →
    closed` only (`illegal_status_transition`); a closed plan is read-only (409 `plan_closed`).
    Without If-Match → 428; stale → 412."""
    plan = await service.update_plan(session, principal, plan_id, body, if_match)
    set_etag(response, plan.version)
    return service.to_out(plan)
