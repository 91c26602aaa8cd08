"""The audit trail: who changed what, when."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from services.gateway.clients import ServiceName
from services.gateway.types.common import moment


@strawberry.enum(description="Kinds of audited entities; each lives in the service that owns it.")
class EntityType(enum.Enum):
    PLAN = "plan"
    PHASE = "phase"
    TARGET = "target"
    INITIATIVE = "initiative"
    TASK = "task"
    RISK = "risk"
    REVIEW = "review"
    FINDING = "finding"
    ACTION_ITEM = "action_item"

    @property
    def service(self) -> ServiceName:
        if self in (EntityType.REVIEW, EntityType.FINDING, EntityType.ACTION_ITEM):
            return "reviews"
        return "targets"


@strawberry.input(description="The entity whose trail to read.")
class EntityRef:
    type: EntityType
    id: strawberry.ID


@strawberry.type(description="One recorded change: `changes` maps each field to {from, to}.")
class AuditEntry:
    id: strawberry.ID
    at: datetime | None
    actor: str
    entity_type: str
    entity_id: strawberry.ID
    action: str
    changes: JSON
    request_id: str | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AuditEntry:
        changes: Any = raw.get("changes") or {}
        return cls(
            id=strawberry.ID(str(raw["id"])),
            at=moment(raw.get("at")),
            actor=raw.get("actor") or "",
            entity_type=raw.get("entity_type") or "",
            entity_id=strawberry.ID(str(raw.get("entity_id"))),
            action=raw.get("action") or "",
            changes=changes,
            request_id=raw.get("request_id"),
        )


@strawberry.type(description="One page of the trail; pass `nextCursor` as `after` for the next page.")
class AuditConnection:
    items: list[AuditEntry]
    next_cursor: str | None
