"""Risks the plan watches."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response
from pydantic import BaseModel

from services.targets.risks import service
from services.targets.risks.service import RiskCategory, RiskIn, RiskOut, RiskStatus, RiskUpdate
from shared.api import problem_responses, v1_router
from shared.auth import PlanWriter, Reader
from shared.db import Session
from shared.pagination import Paging

router = v1_router(tags=["risks"])


class RiskList(BaseModel):
    items: list[RiskOut]
    next_cursor: str | None = None


@router.post(
    "/plans/{plan_id}/risks",
    status_code=201,
    response_model=RiskOut,
    summary="Register a risk",
    responses=problem_responses(404, 409),
)
async def create_risk(plan_id: uuid.UUID, body: RiskIn, principal: PlanWriter, session: Session) -> RiskOut:
    """Registers a risk: category, likelihood and impact (1–5), mitigation, owner, targets."""
    return service.to_out(await service.create_risk(session, principal, plan_id, body))


@router.get(
    "/plans/{plan_id}/risks", response_model=RiskList, summary="List risks", responses=problem_responses(404)
)
async def list_risks(
    plan_id: uuid.UUID,
    principal: Reader,
    session: Session,
    page: Paging,
    status: Annotated[RiskStatus | None, Query()] = None,
    category: Annotated[RiskCategory | None, Query()] = None,
) -> RiskList:
    """The plan's risks, highest score (likelihood × impact) first, a page at a time."""
    rows, cursor = await service.list_risks(session, plan_id, page, status=status, category=category)
    return RiskList(items=[service.to_out(r) for r in rows], next_cursor=cursor)


@router.get(
    "/risks/{risk_id}", response_model=RiskOut, summary="Read a risk", responses=problem_responses(404)
)
async def read_risk(risk_id: uuid.UUID, principal: Reader, session: Session) -> RiskOut:
    """One risk."""
    return service.to_out(await service.get_risk(session, risk_id))


@router.patch(
    "/risks/{risk_id}", response_model=RiskOut, summary="Change a risk", responses=problem_responses(404, 409)
)
async def update_risk(
    risk_id: uuid.UUID, body: RiskUpdate, principal: PlanWriter, session: Session
) -> RiskOut:
    """Changes a risk, e.g. its status `open → mitigating → closed`."""
    return service.to_out(await service.update_risk(session, principal, risk_id, body))


@router.delete("/risks/{risk_id}", status_code=204, summary="Delete a risk", responses=problem_responses(404))
async def delete_risk(risk_id: uuid.UUID, principal: PlanWriter, session: Session) -> Response:
    """Removes the risk."""
    await service.delete_risk(session, principal, risk_id)
    return Response(status_code=204)
