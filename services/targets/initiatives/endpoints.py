"""Initiatives: the key measures (search optimisation, overseas supply chain, membership points)."""

from __future__ import annotations

import uuid

from fastapi import Response
from pydantic import BaseModel

from services.targets.initiatives import service
from services.targets.initiatives.service import InitiativeIn, InitiativeOut, InitiativeUpdate
from shared.api import problem_responses, v1_router
from shared.auth import PlanWriter, Reader
from shared.db import Session
from shared.pagination import Paging

router = v1_router(tags=["initiatives"])


class InitiativeList(BaseModel):
    items: list[InitiativeOut]
    next_cursor: str | None = None


@router.post(
    "/plans/{plan_id}/initiatives",
    status_code=201,
    response_model=InitiativeOut,
    summary="Add an initiative",
    responses=problem_responses(404, 409),
)
async def create_initiative(
    plan_id: uuid.UUID, body: InitiativeIn, principal: PlanWriter, session: Session
) -> InitiativeOut:
    """Adds an initiative linked to targets of the same plan (`unknown_target` otherwise)."""
    return await service.create_initiative(session, principal, plan_id, body)


@router.get(
    "/plans/{plan_id}/initiatives",
    response_model=InitiativeList,
    summary="List initiatives",
    responses=problem_responses(404),
)
async def list_initiatives(
    plan_id: uuid.UUID, principal: Reader, session: Session, page: Paging
) -> InitiativeList:
    """The plan's initiatives with their linked targets, by name, a page at a time."""
    items, cursor = await service.list_initiatives(session, plan_id, page)
    return InitiativeList(items=items, next_cursor=cursor)


@router.get(
    "/initiatives/{initiative_id}",
    response_model=InitiativeOut,
    summary="Read an initiative",
    responses=problem_responses(404),
)
async def read_initiative(initiative_id: uuid.UUID, principal: Reader, session: Session) -> InitiativeOut:
    """One initiative with its linked targets."""
    return await service.read_initiative(session, initiative_id)


@router.patch(
    "/initiatives/{initiative_id}",
    response_model=InitiativeOut,
    summary="Change an initiative",
    responses=problem_responses(404, 409),
)
async def update_initiative(
    initiative_id: uuid.UUID, body: InitiativeUpdate, principal: PlanWriter, session: Session
) -> InitiativeOut:
    """Changes fields or the linked targets."""
    return await service.update_initiative(session, principal, initiative_id, body)


@router.delete(
    "/initiatives/{initiative_id}",
    status_code=204,
    summary="Delete an initiative",
    responses=problem_responses(404),
)
async def delete_initiative(initiative_id: uuid.UUID, principal: PlanWriter, session: Session) -> Response:
    """Removes the initiative and its links (tasks keep existing, unlinked)."""
    await service.delete_initiative(session, principal, initiative_id)
    return Response(status_code=204)
