"""The metrics service's audit trail: who changed which metric definition, when."""

from __future__ import annotations

from shared.audit import audit_router

router = audit_router(
    "metrics", entity_types="metric_definition", summary="Read the audit trail of metric definitions"
)
