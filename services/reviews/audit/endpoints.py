"""The reviews service's audit trail: who changed which review, finding or action item, when."""

from __future__ import annotations

from services.reviews.reviews.models import SCHEMA
from shared.audit import audit_router

router = audit_router(
    SCHEMA, entity_types="review, finding, action_item", summary="Read the audit trail of reviews"
)
