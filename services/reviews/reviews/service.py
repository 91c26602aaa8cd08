"""Retrospectives: create, snapshot, findings, action items, promote, finalize, drift, report.

Every write locks its review row (or action item row) first, so a finalize and an edit, or two
promotes, are serialized; the audit entry is written in the same transaction as the change.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.reviews.reviews import repository, snapshot
from services.reviews.reviews.models import SCHEMA, ActionItem, Finding, Review
from services.reviews.reviews.schemas import (
    ActionItemCreate,
    ActionItemOut,
    Change,
    Drift,
    FindingCreate,
    FindingOut,
    PromoteOut,
    ReviewCreate,
    ReviewOut,
    ReviewSummary,
    ScoreOut,
    Snapshot,
)
from services.reviews.reviews.upstream import Upstream
from shared import audit
from shared.auth import Principal
from shared.errors import Problem, not_found
from shared.pagination import Page, PageParams, created_order, keyset_page
from shared.periods import Period, next_quarter, parse_quarter, zone
from shared.settings import get_settings


def _finalized(review: Review) -> Problem:
    return Problem(
        409,
        "review_finalized",
        f"Review {review.id} was finalized on {review.finalized_at:%Y-%m-%d}; it can no longer change.",
        review_id=str(review.id),
    )


def _require_draft(review: Review) -> None:
    if review.status == "finalized":
        raise _finalized(review)


def _touch(review: Review) -> None:
    review.version += 1
    review.updated_at = datetime.now(UTC)


def _finding_out(row: Finding) -> FindingOut:
    return FindingOut.model_validate(row, from_attributes=True)


def _action_item_out(row: ActionItem) -> ActionItemOut:
    return ActionItemOut.model_validate(row, from_attributes=True)


def _review_out(review: Review, findings: list[FindingOut], items: list[ActionItemOut]) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        plan_id=review.plan_id,
        plan_code=review.plan_code,
        plan_name=review.plan_name,
        quarter=review.quarter,
        status=review.status,
        version=review.version,
        snapshot=Snapshot.model_validate(review.snapshot) if review.snapshot else None,
        scorecard=(
            {k: ScoreOut.model_validate(v) for k, v in review.scorecard.items()} if review.scorecard else None
        ),
        changes=(
            [Change.model_validate(c) for c in review.snapshot_changes]
            if review.snapshot_changes is not None
            else None
        ),
        findings=findings,
        action_items=items,
        created_by=review.created_by,
        created_at=review.created_at,
        updated_at=review.updated_at,
        finalized_at=review.finalized_at,
        finalized_by=review.finalized_by,
    )


def _summary(review: Review) -> ReviewSummary:
    return ReviewSummary(
        id=review.id,
        plan_id=review.plan_id,
        plan_code=review.plan_code,
        quarter=review.quarter,
        status=review.status,
        version=review.version,
        has_snapshot=review.snapshot is not None,
        created_at=review.created_at,
        updated_at=review.updated_at,
        finalized_at=review.finalized_at,
    )


def _audit_view(review: Review) -> dict[str, Any]:
    return {
        "plan_id": review.plan_id,
        "quarter": review.quarter,
        "status": review.status,
        "version": review.version,
    }


async def _load(session: AsyncSession, review_id: uuid.UUID, *, lock: bool = False) -> Review:
    review = await repository.get_review(session, review_id, lock=lock)
    if review is None:
        raise not_found("review", review_id)
    return review


async def _full(session: AsyncSession, review: Review) -> ReviewOut:
    findings = [_finding_out(f) for f in await repository.findings_of(session, review.id)]
    items = [_action_item_out(i) for i in await repository.action_items_of(session, review.id)]
    return _review_out(review, findings, items)


def _exists(existing: Review) -> Problem:
    return Problem(
        409,
        "review_exists",
        f"Plan {existing.plan_id} already has a review for {existing.quarter}.",
        existing_id=str(existing.id),
    )


# ---- reviews ------------------------------------------------------------------------------------


async def create_review(
    session: AsyncSession, principal: Principal, upstream: Upstream, body: ReviewCreate
) -> ReviewOut:
    quarter = parse_quarter(body.quarter)
    existing = await repository.find_review(session, body.plan_id, quarter.label or body.quarter)
    if existing is not None:
        raise _exists(existing)
    plan = await upstream.plan(body.plan_id)
    plan_days = Period(date.fromisoformat(plan["starts_on"]), date.fromisoformat(plan["ends_on"]))
    if not plan_days.contains(quarter):
        raise Problem(
            422,
            "quarter_outside_plan",
            f"{quarter} is not inside plan {plan.get('code', body.plan_id)} "
            f"({plan_days.start.isoformat()}..{plan_days.end.isoformat()}).",
        )
    review = Review(
        id=uuid.uuid4(),
        plan_id=str(plan.get("id", body.plan_id)),
        plan_code=plan.get("code"),
        plan_name=plan.get("name"),
        quarter=quarter.label or body.quarter,
        status="draft",
        version=1,
        created_by=principal.subject,
    )
    session.add(review)
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent create won the unique (plan_id, quarter): answer with the one that exists.
        await session.rollback()
        winner = await repository.find_review(session, body.plan_id, quarter.label or body.quarter)
        if winner is None:
            raise
        raise _exists(winner) from None
    await session.refresh(review)
    await audit.record(
        session,
        SCHEMA,
        principal,
        entity_type="review",
        entity_id=review.id,
        action="create",
        after=_audit_view(review),
    )
    await session.commit()
    return _review_out(review, [], [])


async def list_reviews(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    plan_id: str | None,
    quarter: str | None,
    status: str | None,
) -> Page[ReviewSummary]:
    rows = await repository.list_reviews(session, page, plan_id=plan_id, quarter=quarter, status=status)
    return Page(
        items=[_summary(r) for r in rows[: page.limit]],
        next_cursor=page.next_cursor(rows, lambda r: (r.created_at.isoformat(), str(r.id))),
    )


async def get_review(
    session: AsyncSession,
    principal: Principal,
    review_id: uuid.UUID,
    *,
    upstream: Upstream | None = None,
) -> ReviewOut:
    """The review; with `upstream`, also how far today's actuals drifted from its snapshot."""
    review = await _load(session, review_id)
    out = await _full(session, review)
    if upstream is not None and review.snapshot is not None:
        out.drift = await _drift(review, upstream)
    return out


# ---- snapshot -----------------------------------------------------------------------------------


def _as_of(quarter: Period, timezone: str, requested: date | None) -> date:
    """The quarter's last day, or today (in the plan's time zone) while the quarter runs; a
    requested day must lie inside the quarter."""
    if requested is not None:
        if not quarter.start <= requested <= quarter.end:
            raise Problem(
                422,
                "as_of_outside_quarter",
                f"as_of {requested.isoformat()} is not inside {quarter}.",
            )
        return requested
    today = datetime.now(zone(timezone)).date()
    return min(quarter.end, today)


async def take_snapshot(
    session: AsyncSession,
    principal: Principal,
    upstream: Upstream,
    review_id: uuid.UUID,
    requested_as_of: date | None = None,
) -> ReviewOut:
    review = await _load(session, review_id)
    _require_draft(review)
    plan_id, quarter = review.plan_id, review.quarter
    # Remote calls first, outside any row lock: one plan, one target list, one progress batch,
    # one catalogue and one metrics query batch — whatever the number of targets.
    await session.rollback()
    plan = await upstream.plan(plan_id)
    as_of = _as_of(
        parse_quarter(quarter), plan.get("timezone") or get_settings().business_tz, requested_as_of
    )
    targets = await upstream.targets_active_in(plan_id, quarter)
    progress = await upstream.progress(plan_id, quarter, as_of)
    catalogue = await upstream.catalogue()
    queries = snapshot.plan_queries(targets, catalogue, as_of)
    results = await upstream.query(queries) if queries else {}
    items = snapshot.build_items(targets, progress, catalogue, results, as_of)
    taken = Snapshot(taken_at=datetime.now(UTC), as_of=as_of, items=items)

    review = await _load(session, review_id, lock=True)
    _require_draft(review)
    previous = Snapshot.model_validate(review.snapshot) if review.snapshot else None
    # None after a first snapshot; a list (possibly empty: nothing moved) after a retake.
    changes = snapshot.diff_items(previous.items, items) if previous else None
    before = {
        "as_of": previous.as_of if previous else None,
        "targets": len(previous.items) if previous else 0,
    }
    review.snapshot = taken.model_dump(mode="json")
    review.scorecard = {k: v.model_dump(mode="json") for k, v in snapshot.score(items).items()}
    review.snapshot_changes = (
        None if changes is None else [c.model_dump(mode="json", by_alias=True) for c in changes]
    )
    _touch(review)
    await audit.record(
        session,
        SCHEMA,
        principal,
        entity_type="review",
        entity_id=review.id,
        action="resnapshot" if previous else "snapshot",
        before=before,
        after={"as_of": as_of, "targets": len(items), "changes": len(changes or [])},
    )
    await session.commit()
    return await _full(session, review)


async def _drift(review: Review, upstream: Upstream) -> Drift:
    frozen = Snapshot.model_validate(review.snapshot)
    progress = await upstream.progress(review.plan_id, review.quarter, frozen.as_of)
    items = snapshot.drift_items(frozen.items, progress)
    return Drift(
        checked_at=datetime.now(UTC),
        as_of=frozen.as_of,
        drifted=any(i.drift for i in items),
        items=items,
    )


async def drift(
    session: AsyncSession, principal: Principal, upstream: Upstream, review_id: uuid.UUID
) -> Drift:
    review = await _load(session, review_id)
    if review.snapshot is None:
        raise Problem(409, "snapshot_required", f"Review {review_id} has no snapshot to compare with.")
    return await _drift(review, upstream)


# ---- findings and action items ------------------------------------------------------------------


async def add_finding(
    session: AsyncSession, principal: Principal, upstream: Upstream, review_id: uuid.UUID, body: FindingCreate
) -> FindingOut:
    principal.require_department(body.department)
    await upstream.require_department(body.department)
    review = await _load(session, review_id, lock=True)
    _require_draft(review)
    if review.snapshot is not None:
        known = {i["target_id"] for i in review.snapshot["items"]}
        unknown = [t for t in body.target_ids if t not in known]
        if unknown:
            raise Problem(
                422,
                "unknown_target",
                "A finding may only name targets of the review's snapshot.",
                target_ids=unknown,
            )
    row = Finding(
        id=uuid.uuid4(),
        review_id=review.id,
        kind=body.kind,
        text=body.text,
        target_ids=list(dict.fromkeys(body.target_ids)),
        department=body.department,
        created_by=principal.subject,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    _touch(review)
    await session.flush()
    await audit.record(
        session,
        SCHEMA,
        principal,
        entity_type="finding",
        entity_id=row.id,
        action="create",
        after={"review_id": review.id, **body.model_dump()},
    )
    await session.commit()
    return _finding_out(row)


async def list_findings(
    session: AsyncSession, principal: Principal, review_id: uuid.UUID, page: PageParams
) -> Page[FindingOut]:
    await _load(session, review_id)
    query = repository.findings_query(review_id)
    rows, cursor = await keyset_page(session, query, page, created_order(Finding))
    return Page(items=[_finding_out(f) for f in rows], next_cursor=cursor)


async def add_action_item(
    session: AsyncSession,
    principal: Principal,
    upstream: Upstream,
    review_id: uuid.UUID,
    body: ActionItemCreate,
) -> ActionItemOut:
    await upstream.require_department(body.department)
    review = await _load(session, review_id, lock=True)
    _require_draft(review)
    if (
        body.finding_id is not None
        and await repository.get_finding(session, review.id, body.finding_id) is None
    ):
        raise Problem(
            422, "finding_not_found", f"Finding {body.finding_id} is not part of review {review_id}."
        )
    row = ActionItem(
        id=uuid.uuid4(),
        review_id=review.id,
        finding_id=body.finding_id,
        title=body.title,
        description=body.description,
        department=body.department,
        assignee=body.assignee,
        due_on=body.due_on,
        status="open",
        created_by=principal.subject,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    _touch(review)
    await session.flush()
    await audit.record(
        session,
        SCHEMA,
        principal,
        entity_type="action_item",
        entity_id=row.id,
        action="create",
        after={"review_id": review.id, **body.model_dump()},
    )
    await session.commit()
    return _action_item_out(row)


async def list_action_items(
    session: AsyncSession, principal: Principal, review_id: uuid.UUID, page: PageParams
) -> Page[ActionItemOut]:
    await _load(session, review_id)
    query = repository.action_items_query(review_id)
    rows, cursor = await keyset_page(session, query, page, created_order(ActionItem))
    return Page(items=[_action_item_out(i) for i in rows], next_cursor=cursor)


def external_ref(review_id: uuid.UUID, item_id: uuid.UUID) -> str:
    """The task's key on the targets side: the same action item always names the same task."""
    return f"review:{review_id}:action:{item_id}"


async def _require_inside_plan(upstream: Upstream, plan_id: str, quarter: Period) -> None:
    """A quarter outside the review's plan (after a Q4 review) needs the plan that runs it."""
    plan = await upstream.plan(plan_id)
    starts_on, ends_on = date.fromisoformat(str(plan["starts_on"])), date.fromisoformat(str(plan["ends_on"]))
    if not (starts_on <= quarter.start and quarter.end <= ends_on):
        raise Problem(
            409,
            "next_plan_required",
            f"{quarter.label} is not inside plan {plan.get('code')} ({starts_on}..{ends_on}): "
            f'promote with {{"plan_id": …}} of the plan that runs {quarter.label}.',
            period=quarter.label,
        )


async def promote(
    session: AsyncSession,
    principal: Principal,
    upstream: Upstream,
    review_id: uuid.UUID,
    item_id: uuid.UUID,
    plan_id: uuid.UUID | None = None,
) -> PromoteOut:
    """Turns an action item into a task of the next quarter, exactly once.

    The task goes to the review's plan, or to `plan_id` — needed when the next quarter lies
    outside the review's plan (a Q4 review: next year's plan); the finding's targets belong to
    the review's plan, so a task in another plan names them in its description instead.

    Allowed after finalize too: it changes nothing the review froze, it schedules next quarter's
    work. The plan is chosen and committed first (`task_plan_id`), so a retry after any failure
    asks the same plan (external_ref is unique within a plan) and naming another is 409
    `promoted_to_another_plan`; a plan that refuses the task (4xx) frees the choice. The action
    item row stays locked while the targets service is asked, so concurrent promotes queue; the
    deterministic external_ref makes the targets service return the same task to any retry. If
    the call fails, the item stays unpromoted."""
    review = await _load(session, review_id)
    item = await repository.get_action_item(session, review_id, item_id, lock=True)
    if item is None:
        raise not_found("action_item", item_id)
    if item.task_id is not None:
        out = _action_item_out(item)
        await session.rollback()
        return PromoteOut(action_item=out, task_id=out.task_id or "", created=False)
    next_period = next_quarter(review.quarter)
    period = next_period.label or ""
    if item.task_plan_id is not None:
        # An earlier attempt chose the plan (and may have created the task there).
        if plan_id is not None and str(plan_id) != item.task_plan_id:
            raise Problem(
                409,
                "promoted_to_another_plan",
                f"This action item is being promoted into plan {item.task_plan_id}; retry with that plan.",
                task_plan_id=item.task_plan_id,
            )
    else:
        destination = str(plan_id) if plan_id is not None else review.plan_id
        if plan_id is None:
            await _require_inside_plan(upstream, review.plan_id, next_period)
        item.task_plan_id = destination
        await session.commit()  # the choice survives whatever happens to the call below
        item = await repository.get_action_item(session, review_id, item_id, lock=True)
        assert item is not None
        if item.task_id is not None:  # a concurrent promote finished meanwhile
            out = _action_item_out(item)
            await session.rollback()
            return PromoteOut(action_item=out, task_id=out.task_id or "", created=False)
    assert item.task_plan_id is not None
    destination = item.task_plan_id
    finding = await repository.get_finding(session, review.id, item.finding_id) if item.finding_id else None
    description = item.description or ""
    if finding is not None:
        description = (
            description + "\n\n" if description else ""
        ) + f"From the {review.quarter} review: {finding.text}"
        if finding.target_ids and destination != review.plan_id:
            description += f"\nTargets of plan {review.plan_id}: {', '.join(finding.target_ids)}."
    task: dict[str, Any] = {
        "title": item.title,
        "period": period,
        "department": item.department,
        "external_ref": external_ref(review.id, item.id),
        "description": description or f"Action item of the {review.quarter} review.",
    }
    if item.assignee:
        task["assignee"] = item.assignee
    if finding is not None and finding.target_ids and destination == review.plan_id:
        task["target_ids"] = finding.target_ids
    try:
        result = await upstream.create_task(destination, task)
    except Problem as refused:
        if 400 <= refused.status < 500:
            # The plan refused the task (it does not run the quarter, say): nothing was
            # created there, so the choice of plan is undone and another may be named.
            item.task_plan_id = None
            await session.commit()
        raise
    before = _action_item_out(item).model_dump(mode="json")
    item.task_id = str(result["id"])
    item.task_period = period
    item.status = "promoted"
    item.promoted_at = datetime.now(UTC)
    after = _action_item_out(item).model_dump(mode="json")
    await audit.record(
        session,
        SCHEMA,
        principal,
        entity_type="action_item",
        entity_id=item.id,
        action="promote",
        before=before,
        after=after,
    )
    await session.commit()
    return PromoteOut(
        action_item=_action_item_out(item), task_id=item.task_id, created=bool(result.get("created", True))
    )


# ---- finalize and report ------------------------------------------------------------------------


async def finalize(session: AsyncSession, principal: Principal, review_id: uuid.UUID) -> ReviewOut:
    review = await _load(session, review_id, lock=True)
    _require_draft(review)
    if review.snapshot is None:
        raise Problem(
            409, "snapshot_required", "Take a snapshot before finalizing: a review freezes its numbers."
        )
    before = _audit_view(review)
    review.status = "finalized"
    review.finalized_at = datetime.now(UTC)
    review.finalized_by = principal.subject
    _touch(review)
    await audit.record(
        session,
        SCHEMA,
        principal,
        entity_type="review",
        entity_id=review.id,
        action="finalize",
        before=before,
        after=_audit_view(review),
    )
    await session.commit()
    return await _full(session, review)
