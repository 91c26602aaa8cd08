"""Phases: the stretches of the plan's year and what each focuses on."""

from __future__ import annotations

import uuid

from fastapi import Response
from pydantic import BaseModel

from services.targets.phases import service
from services.targets.phases.service import PhaseIn, PhaseOut, PhaseUpdate
from shared.api import problem_responses, v1_router
from shared.auth import PlanWriter, Reader
from shared.db import Session
from shared.pagination import Paging

router = v1_router(tags=["phases"])


class PhaseList(BaseModel):
    items: list[PhaseOut]
    next_cursor: str | None = None


@router.post(
    "/plans/{plan_id}/phases",
    status_code=201,
    response_model=PhaseOut,
    summary="Add a phase",
    responses=problem_responses(404, 409),
)
async def create_phase(
    plan_id: uuid.UUID, body: PhaseIn, principal: PlanWriter, session: Session
) -> PhaseOut:
    """Adds a phase; its dates must lie inside the plan (`period_outside_plan`)."""
    return service.to_out(await service.create_phase(session, principal, plan_id, body))


@router.get(
    "/plans/{plan_id}/phases",
    response_model=PhaseList,
    summary="List phases",
    responses=problem_responses(404),
)
async def list_phases(plan_id: uuid.UUID, principal: Reader, session: Session, page: Paging) -> PhaseList:
    """The plan's phases in date order, a page at a time."""
    rows, cursor = await service.list_phases(session, plan_id, page)
    return PhaseList(items=[service.to_out(p) for p in rows], next_cursor=cursor)


@router.patch(
    "/phases/{phase_id}",
    response_model=PhaseOut,
    summary="Change a phase",
    responses=problem_responses(404, 409),
)
async def update_phase(
    phase_id: uuid.UUID, body: PhaseUpdate, principal: PlanWriter, session: Session
) -> PhaseOut:
    """Changes name, dates (inside the plan) or focus."""
    return service.to_out(await service.update_phase(session, principal, phase_id, body))


@router.delete(
    "/phases/{phase_id}", status_code=204, summary="Delete a phase", responses=problem_responses(404)
)
async def delete_phase(phase_id: uuid.UUID, principal: PlanWriter, session: Session) -> Response:
    """Removes the phase."""
    await service.delete_phase(session, principal, phase_id)
    return Response(status_code=204)
