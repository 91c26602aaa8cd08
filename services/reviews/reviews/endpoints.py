"""Quarterly reviews (skeleton: replaced by the reviews service work)."""

from __future__ import annotations

from typing import Any

from shared.api import problem_responses, v1_router
from shared.auth import Reader
from shared.pagination import Page, Paging

router = v1_router(tags=["reviews"])


@router.get("/reviews", summary="List reviews", responses=problem_responses())
async def list_reviews(principal: Reader, page: Paging) -> Page[Any]:
    return Page(items=[], next_cursor=None)
