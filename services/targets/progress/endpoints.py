"""Progress of targets as of a date: one batched metrics query, one pure computation."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query

from services.targets.deps import Metrics
from services.targets.progress import service
from services.targets.progress.schemas import HistoryOut, ProgressBatchOut, ProgressBatchRequest, ProgressOut
from shared.api import problem_responses, v1_router
from shared.auth import Reader
from shared.db import Session

router = v1_router(tags=["progress"])

AsOf = Annotated[date | None, Query(description="Defaults to today in the plan's time zone.")]


@router.get(
    "/targets/{target_id}/progress",
    response_model=ProgressOut,
    summary="Progress of a target as of a date",
    responses=problem_responses(404, 503),
)
async def progress(
    target_id: uuid.UUID, principal: Reader, session: Session, metrics: Metrics, as_of: AsOf = None
) -> ProgressOut:
    """Actual, expected to date (seasonal from last year's daily profile, else linear),
    attainment, pace, forecast with its band, health and staleness."""
    return await service.progress_of_one(session, metrics, target_id, as_of)


@router.post(
    "/progress",
    response_model=ProgressBatchOut,
    summary="Progress of many targets in one call",
    responses=problem_responses(404, 503),
)
async def progress_batch(
    body: ProgressBatchRequest, principal: Reader, session: Session, metrics: Metrics
) -> ProgressBatchOut:
    """`{"as_of", "target_ids": [...]}` or `{"as_of", "plan_id", "active_in": "2025Q2"}`; all the
    numbers come from ONE batched metrics query (chunked only beyond 250 targets)."""
    results = await service.progress_batch(
        session,
        metrics,
        as_of=body.as_of,
        target_ids=body.target_ids,
        plan_id=body.plan_id,
        active_in=body.active_in,
    )
    return ProgressBatchOut(results=results)


@router.get(
    "/targets/{target_id}/history",
    response_model=HistoryOut,
    summary="Progress and health for each day so far",
    responses=problem_responses(404, 503),
)
async def history(
    target_id: uuid.UUID, principal: Reader, session: Session, metrics: Metrics, as_of: AsOf = None
) -> HistoryOut:
    """Health over time: one bucketed metrics query, the same computation per day."""
    return await service.history(session, metrics, target_id, as_of)
