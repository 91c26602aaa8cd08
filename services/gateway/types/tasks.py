"""Tasks, initiatives and risks of a plan (owned by the targets service)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from services.gateway.types.common import day, ids, moment, opt_id


@strawberry.type(description="Work dated to a quarter or month, owned by a department.")
class Task:
    id: strawberry.ID
    plan_id: strawberry.ID
    title: str
    description: str | None
    period: str
    starts_on: date | None
    ends_on: date | None
    department: str
    assignee: str | None
    status: str
    external_ref: str | None
    initiative_id: strawberry.ID | None
    target_ids: list[strawberry.ID]
    version: int | None
    updated_at: datetime | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Task:
        return cls(
            id=strawberry.ID(str(raw["id"])),
            plan_id=strawberry.ID(str(raw.get("plan_id"))),
            title=raw.get("title") or "",
            description=raw.get("description"),
            period=raw.get("period") or "",
            starts_on=day(raw.get("starts_on")),
            ends_on=day(raw.get("ends_on")),
            department=raw.get("department") or "",
            assignee=raw.get("assignee"),
            status=raw.get("status") or "",
            external_ref=raw.get("external_ref"),
            initiative_id=opt_id(raw.get("initiative_id")),
            target_ids=ids(raw.get("target_ids")),
            version=raw.get("version"),
            updated_at=moment(raw.get("updated_at")),
        )


@strawberry.type(description="One page of tasks; pass `nextCursor` as `after` for the next page.")
class TaskConnection:
    items: list[Task]
    next_cursor: str | None


@strawberry.type(description="A piece of work serving one or more targets.")
class Initiative:
    id: strawberry.ID
    plan_id: strawberry.ID
    name: str
    description: str | None
    department: str | None
    starts_on: date | None
    ends_on: date | None
    status: str | None
    version: int | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Initiative:
        return cls(
            id=strawberry.ID(str(raw["id"])),
            plan_id=strawberry.ID(str(raw.get("plan_id"))),
            name=raw.get("name") or "",
            description=raw.get("description"),
            department=raw.get("department"),
            starts_on=day(raw.get("starts_on")),
            ends_on=day(raw.get("ends_on")),
            status=raw.get("status"),
            version=raw.get("version"),
        )


@strawberry.type(description="Something the plan watches: likelihood and impact from 1 to 5.")
class Risk:
    id: strawberry.ID
    plan_id: strawberry.ID
    title: str
    category: str
    likelihood: int | None
    impact: int | None
    score: int | None = strawberry.field(description="likelihood × impact (1–25).")
    mitigation: str | None
    owner_department: str | None
    status: str
    target_ids: list[strawberry.ID]
    version: int | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Risk:
        return cls(
            id=strawberry.ID(str(raw["id"])),
            plan_id=strawberry.ID(str(raw.get("plan_id"))),
            title=raw.get("title") or "",
            category=raw.get("category") or "",
            likelihood=raw.get("likelihood"),
            impact=raw.get("impact"),
            score=raw.get("score"),
            mitigation=raw.get("mitigation"),
            owner_department=raw.get("owner_department"),
            status=raw.get("status") or "",
            target_ids=ids(raw.get("target_ids")),
            version=raw.get("version"),
        )
