"""Targets: SMART, measured by a metric of the metrics service, decomposable."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from services.targets.deps import IfMatch, Metrics, set_etag
from services.targets.targets import decomposition, service
from services.targets.targets.schemas import (
    DecomposeOut,
    DecomposeRequest,
    TargetCreate,
    TargetOut,
    TargetStatus,
    TargetUpdate,
)
from shared.api import problem_responses, v1_router
from shared.auth import PlanWriter, Reader
from shared.db import Session
from shared.pagination import Page, Paging

router = v1_router(tags=["targets"])


@router.post(
    "/plans/{plan_id}/targets",
    status_code=201,
    response_model=TargetOut,
    summary="Create a SMART target",
    responses=problem_responses(404, 409, 503),
)
async def create_target(
    plan_id: uuid.UUID,
    body: TargetCreate,
    principal: PlanWriter,
    session: Session,
    metrics: Metrics,
    response: Response,
) -> TargetOut:
    """Creates a target: metric + scope + period + absolute value or growth % over last year's
    same period (read from the metrics service and frozen). Refusals: `missing_metric`,
    `unknown_metric`, `invalid_scope`, `missing_scope`, `missing_period`, `invalid_period`,
    `period_outside_plan`, `missing_value`, `value_out_of_range`, `no_baseline_history`."""
    target = await service.create_target(session, principal, metrics, plan_id, body)
    _, out = await service.read_target(session, target.id)
    set_etag(response, out.version)
    return out


@router.get(
    "/plans/{plan_id}/targets",
    response_model=Page[TargetOut],
    summary="List a plan's targets",
    responses=problem_responses(404),
)
async def list_targets(
    plan_id: uuid.UUID,
    principal: Reader,
    session: Session,
    page: Paging,
    active_in: Annotated[
        str | None, Query(description="Only targets whose period overlaps this one, e.g. 2025Q2.")
    ] = None,
    metric: Annotated[str | None, Query()] = None,
    department: Annotated[str | None, Query()] = None,
    parent_id: Annotated[uuid.UUID | None, Query(description="Only the children of this target.")] = None,
    roots_only: Annotated[bool, Query(description="Only targets that are not children.")] = False,
    status: Annotated[TargetStatus | None, Query()] = None,
) -> Response:
    """Targets ordered by start date, paged, with links and decomposition trees."""
    body = await service.list_targets_json(
        session,
        plan_id,
        page,
        active_in=active_in,
        metric=metric,
        department=department,
        parent_id=parent_id,
        roots_only=roots_only,
        status=status,
    )
    return Response(body, media_type="application/json")


@router.get(
    "/targets/{target_id}",
    response_model=TargetOut,
    summary="Read a target",
    responses=problem_responses(404),
)
async def read_target(
    target_id: uuid.UUID, principal: Reader, session: Session, response: Response
) -> TargetOut:
    """The target with its `ETag`; a decomposed target reports `tree.adds_up`."""
    _, out = await service.read_target(session, target_id)
    set_etag(response, out.version)
    return out


@router.patch(
    "/targets/{target_id}",
    response_model=TargetOut,
    summary="Change a target (If-Match required)",
    responses=problem_responses(404, 409, 412, 428),
)
async def update_target(
    target_id: uuid.UUID,
    body: TargetUpdate,
    principal: PlanWriter,
    session: Session,
    if_match: IfMatch,
    response: Response,
    metrics: Metrics,
) -> TargetOut:
    """Changes name, value (absolute) or growth_pct (growth, from the frozen baseline),
    department, weight, status or initiatives. Without If-Match → 428; stale → 412. A new
    value is checked against the metric's possible range as the catalogue has it now."""
    await service.update_target(session, principal, target_id, body, if_match, metrics)
    _, out = await service.read_target(session, target_id)
    set_etag(response, out.version)
    return out


@router.delete(
    "/targets/{target_id}",
    status_code=204,
    summary="Delete a target and its children",
    responses=problem_responses(404, 409, 412),
)
async def delete_target(
    target_id: uuid.UUID, principal: PlanWriter, session: Session, if_match: IfMatch
) -> Response:
    """Deletes the target with its decomposition subtree (If-Match optional, checked when sent)."""
    await service.delete_target(session, principal, target_id, if_match)
    return Response(status_code=204)


@router.post(
    "/targets/{target_id}/decompose",
    status_code=201,
    response_model=DecomposeOut,
    summary="Decompose a target into quarters, months or dimension values",
    responses=problem_responses(404, 409, 503),
)
async def decompose(
    target_id: uuid.UUID,
    body: DecomposeRequest,
    principal: PlanWriter,
    session: Session,
    metrics: Metrics,
) -> DecomposeOut:
    """Splits an additive target exactly (children add up to the parent to the last unit) by
    even, explicit or seasonal weights; a rate target's children inherit the rate. Refusals:
    `already_decomposed`, `no_seasonal_history`, `invalid_weights`, `invalid_scope`."""
    return await decomposition.decompose(session, principal, metrics, target_id, body)
