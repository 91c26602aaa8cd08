"""Queries over the reviews schema."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reviews.reviews.models import ActionItem, Finding, Review
from shared.pagination import PageParams, cursor_datetime, cursor_uuid


async def get_review(session: AsyncSession, review_id: uuid.UUID, *, lock: bool = False) -> Review | None:
    query = select(Review).where(Review.id == review_id)
    if lock:
        # Edits of one review are serialized, so a finalize cannot slip between check and write.
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def find_review(session: AsyncSession, plan_id: str, quarter: str) -> Review | None:
    query = select(Review).where(Review.plan_id == plan_id, Review.quarter == quarter)
    return (await session.execute(query)).scalar_one_or_none()


async def list_reviews(
    session: AsyncSession, page: PageParams, *, plan_id: str | None, quarter: str | None, status: str | None
) -> list[Review]:
    query = select(Review)
    if plan_id:
        query = query.where(Review.plan_id == plan_id)
    if quarter:
        query = query.where(Review.quarter == quarter)
    if status:
        query = query.where(Review.status == status)
    after = page.cursor_values(cursor_datetime, cursor_uuid)
    if after is not None:
        at, row_id = after
        query = query.where(or_(Review.created_at < at, and_(Review.created_at == at, Review.id < row_id)))
    query = query.order_by(Review.created_at.desc(), Review.id.desc()).limit(page.limit + 1)
    return list((await session.execute(query)).scalars().all())


def findings_query(review_id: uuid.UUID) -> Select[Finding]:
    return select(Finding).where(Finding.review_id == review_id)


async def findings_of(session: AsyncSession, review_id: uuid.UUID) -> Sequence[Finding]:
    query = findings_query(review_id).order_by(Finding.created_at, Finding.id)
    return (await session.execute(query)).scalars().all()


async def get_finding(session: AsyncSession, review_id: uuid.UUID, finding_id: uuid.UUID) -> Finding | None:
    query = select(Finding).where(Finding.id == finding_id, Finding.review_id == review_id)
    return (await session.execute(query)).scalar_one_or_none()


def action_items_query(review_id: uuid.UUID) -> Select[ActionItem]:
    return select(ActionItem).where(ActionItem.review_id == review_id)


async def action_items_of(session: AsyncSession, review_id: uuid.UUID) -> Sequence[ActionItem]:
    query = action_items_query(review_id).order_by(ActionItem.created_at, ActionItem.id)
    return (await session.execute(query)).scalars().all()


async def get_action_item(
    session: AsyncSession, review_id: uuid.UUID, item_id: uuid.UUID, *, lock: bool = False
) -> ActionItem | None:
    query = select(ActionItem).where(ActionItem.id == item_id, ActionItem.review_id == review_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()
