"""Quarterly reviews: thin routes over service.py."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Query, Response

from services.reviews.reviews import report, service
from services.reviews.reviews.schemas import (
    ActionItemCreate,
    ActionItemOut,
    Drift,
    FindingCreate,
    FindingOut,
    PromoteIn,
    PromoteOut,
    ReviewCreate,
    ReviewOut,
    ReviewSummary,
    SnapshotRequest,
)
from services.reviews.reviews.upstream import Downstream
from shared.api import problem_responses, v1_router
from shared.auth import FindingWriter, Reader, ReviewWriter
from shared.db import Session
from shared.pagination import Page, Paging

router = v1_router(tags=["reviews"])


@router.post(
    "/reviews",
    status_code=201,
    response_model=ReviewOut,
    summary="Open the review of a plan's quarter",
    responses=problem_responses(404, 409, 503),
)
async def create_review(
    body: ReviewCreate, principal: ReviewWriter, session: Session, upstream: Downstream
) -> ReviewOut:
    """One review per plan and quarter. The plan must exist (asked of the targets service) and
    contain the quarter. A second review for the same quarter answers 409 `review_exists` with
    `existing_id`."""
    return await service.create_review(session, principal, upstream, body)


@router.get("/reviews", summary="List reviews", responses=problem_responses(400))
async def list_reviews(
    principal: Reader,
    session: Session,
    page: Paging,
    plan_id: Annotated[str | None, Query(description="Only this plan's reviews.")] = None,
    quarter: Annotated[str | None, Query(pattern=r"^\d{4}Q[1-4]$", description="e.g. 2025Q2")] = None,
    status: Annotated[Literal["draft", "finalized"] | None, Query()] = None,
) -> Page[ReviewSummary]:
    """Newest first, paged with an opaque cursor."""
    return await service.list_reviews(
        session, principal, page, plan_id=plan_id, quarter=quarter, status=status
    )


@router.get(
    "/reviews/{review_id}",
    response_model=ReviewOut,
    summary="Read a review",
    responses=problem_responses(404, 503),
)
async def get_review(
    review_id: uuid.UUID,
    principal: Reader,
    session: Session,
    upstream: Downstream,
    drift: Annotated[
        bool, Query(description="Also compare today's actuals with the snapshot (asks the targets service).")
    ] = False,
) -> ReviewOut:
    """The review with its snapshot, scorecard, findings and action items."""
    return await service.get_review(session, principal, review_id, upstream=upstream if drift else None)


@router.post(
    "/reviews/{review_id}/snapshot",
    response_model=ReviewOut,
    summary="Take (or retake) the snapshot",
    responses=problem_responses(404, 409, 503),
)
async def take_snapshot(
    review_id: uuid.UUID,
    principal: ReviewWriter,
    session: Session,
    upstream: Downstream,
    body: SnapshotRequest | None = None,
) -> ReviewOut:
    """Every target active in the quarter with target, actual, attainment, variance and health
    as of the quarter end (or today while it runs), attributed by dimension and, for GMV, by
    driver; plus the scorecard. Retaking it while draft replaces it and lists what moved in
    `changes`. A finalized review answers 409 `review_finalized`. An `as_of` inside the quarter
    may be given (422 `as_of_outside_quarter` otherwise)."""
    return await service.take_snapshot(session, principal, upstream, review_id, body.as_of if body else None)


@router.get(
    "/reviews/{review_id}/drift",
    response_model=Drift,
    summary="How far today's actuals drifted from the snapshot",
    responses=problem_responses(404, 409, 503),
)
async def drift(review_id: uuid.UUID, principal: Reader, session: Session, upstream: Downstream) -> Drift:
    """Late events never change a frozen snapshot; this compares it with a fresh progress call
    for the same as_of date."""
    return await service.drift(session, principal, upstream, review_id)


@router.post(
    "/reviews/{review_id}/findings",
    status_code=201,
    response_model=FindingOut,
    summary="Record a finding",
    responses=problem_responses(404, 409),
)
async def add_finding(
    review_id: uuid.UUID,
    body: FindingCreate,
    principal: FindingWriter,
    session: Session,
    upstream: Downstream,
) -> FindingOut:
    """A cause, success or lesson, about some of the snapshot's targets. Members may record
    findings for their own department only; the department must exist (422
    `unknown_department`)."""
    return await service.add_finding(session, principal, upstream, review_id, body)


@router.get(
    "/reviews/{review_id}/findings",
    response_model=Page[FindingOut],
    summary="List a review's findings",
    responses=problem_responses(404),
)
async def list_findings(
    review_id: uuid.UUID, principal: Reader, session: Session, page: Paging
) -> Page[FindingOut]:
    """Oldest first, a page at a time (the review itself carries all of them too)."""
    return await service.list_findings(session, principal, review_id, page)


@router.post(
    "/reviews/{review_id}/action-items",
    status_code=201,
    response_model=ActionItemOut,
    summary="Record an action item",
    responses=problem_responses(404, 409),
)
async def add_action_item(
    review_id: uuid.UUID,
    body: ActionItemCreate,
    principal: ReviewWriter,
    session: Session,
    upstream: Downstream,
) -> ActionItemOut:
    """What to do next quarter, with an owning department (one that exists: 422
    `unknown_department`) and due date, optionally following a finding of the same review."""
    return await service.add_action_item(session, principal, upstream, review_id, body)


@router.get(
    "/reviews/{review_id}/action-items",
    response_model=Page[ActionItemOut],
    summary="List a review's action items",
    responses=problem_responses(404),
)
async def list_action_items(
    review_id: uuid.UUID, principal: Reader, session: Session, page: Paging
) -> Page[ActionItemOut]:
    """Oldest first, a page at a time (the review itself carries all of them too)."""
    return await service.list_action_items(session, principal, review_id, page)


@router.post(
    "/reviews/{review_id}/action-items/{item_id}/promote",
    response_model=PromoteOut,
    summary="Make an action item a task of the next quarter (exactly once)",
    responses={
        **problem_responses(404, 409, 503),
        201: {"description": "The task was created"},
    },
)
async def promote(
    review_id: uuid.UUID,
    item_id: uuid.UUID,
    principal: ReviewWriter,
    session: Session,
    upstream: Downstream,
    response: Response,
    body: PromoteIn | None = None,
) -> PromoteOut:
    """Creates the task in the targets service with `external_ref`
    `review:{review_id}:action:{item_id}`: retries, double clicks and concurrent calls yield one
    task (201 the first time, 200 after). Allowed after finalize. When the targets service is
    down: 503 `service_unavailable` and the action item stays unpromoted.

    The task goes to the review's plan; when the next quarter lies outside it (a Q4 review),
    the body names the plan that runs it, `{"plan_id": …}` — without one, 409
    `next_plan_required`."""
    out = await service.promote(
        session, principal, upstream, review_id, item_id, body.plan_id if body is not None else None
    )
    response.status_code = 201 if out.created else 200
    return out


@router.post(
    "/reviews/{review_id}/finalize",
    response_model=ReviewOut,
    summary="Finalize: freeze the review",
    responses=problem_responses(404, 409),
)
async def finalize(review_id: uuid.UUID, principal: ReviewWriter, session: Session) -> ReviewOut:
    """After this, snapshot, findings and action items answer 409 `review_finalized`. Needs a
    snapshot (409 `snapshot_required`)."""
    return await service.finalize(session, principal, review_id)


@router.get(
    "/reviews/{review_id}/report.md",
    summary="The review as a Markdown report",
    response_class=Response,
    responses={**problem_responses(404), 200: {"content": {"text/markdown": {}}}},
)
async def report_markdown(review_id: uuid.UUID, principal: Reader, session: Session) -> Response:
    """Headline, scorecard, targets with health, attribution, findings, action items and tasks."""
    review = await service.get_review(session, principal, review_id)
    return Response(report.render(review), media_type="text/markdown; charset=utf-8")
