"""The audit trail of plans, targets, initiatives, tasks, risks and phases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from services.targets.deps import AUDIT_SCHEMA
from shared.api import problem_responses, v1_router
from shared.audit import AuditEntry, read_trail
from shared.auth import Reader
from shared.db import Session
from shared.pagination import Page, Paging

router = v1_router(tags=["audit"])


@router.get("/audit", summary="Read the audit trail", responses=problem_responses(400))
async def read_audit(
    principal: Reader,
    session: Session,
    page: Paging,
    entity_type: Annotated[
        str | None, Query(description="plan, target, initiative, task, risk, phase, department")
    ] = None,
    entity_id: Annotated[str | None, Query()] = None,
) -> Page[AuditEntry]:
    """Who changed what and when, newest first, with each field's before and after."""
    return await read_trail(session, AUDIT_SCHEMA, page, entity_type=entity_type, entity_id=entity_id)
