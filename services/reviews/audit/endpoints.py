"""The reviews service's audit trail: who changed which review, finding or action item, when."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from services.reviews.reviews.models import SCHEMA
from shared.api import problem_responses, v1_router
from shared.audit import AuditEntry, read_trail
from shared.auth import Reader
from shared.db import Session
from shared.pagination import Page, Paging

router = v1_router(tags=["audit"])


@router.get("/audit", summary="Read the audit trail", responses=problem_responses(400))
async def audit_trail(
    principal: Reader,
    session: Session,
    page: Paging,
    entity_type: Annotated[str | None, Query(description="review | finding | action_item")] = None,
    entity_id: Annotated[str | None, Query()] = None,
) -> Page[AuditEntry]:
    """Newest first."""
    return await read_trail(session, SCHEMA, page, entity_type=entity_type, entity_id=entity_id)
