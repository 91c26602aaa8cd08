"""The audit trail of plans, targets, initiatives, tasks, risks, phases and departments."""

from __future__ import annotations

from services.targets.deps import AUDIT_SCHEMA
from shared.audit import audit_router

router = audit_router(
    AUDIT_SCHEMA,
    entity_types="plan, target, initiative, task, risk, phase, department",
    summary="Read the audit trail of plans, targets, tasks and the rest",
)
