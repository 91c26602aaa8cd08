"""Plans and their phases, with everything a planning page hangs off them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from services.gateway.context import GatewayInfo
from services.gateway.types.common import day, dec, moment
from services.gateway.types.reviews import Review
from services.gateway.types.targets import Target, prefetch
from services.gateway.types.tasks import Initiative, Risk, Task, TaskConnection


@strawberry.type(description="Health thresholds on the forecast attainment (fractions).")
class Thresholds:
    on_track: Decimal | None
    at_risk: Decimal | None


@strawberry.type(description="A stage of the year, e.g. Q2 campaigns.")
class Phase:
    id: strawberry.ID
    name: str
    starts_on: date | None
    ends_on: date | None
    focus: str | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Phase:
        return cls(
            id=strawberry.ID(str(raw["id"])),
            name=raw.get("name") or "",
            starts_on=day(raw.get("starts_on")),
            ends_on=day(raw.get("ends_on")),
            focus=raw.get("focus"),
        )


@strawberry.type(description="An annual plan.")
class Plan:
    id: strawberry.ID
    code: str
    name: str
    description: str | None
    fiscal_year: int | None
    starts_on: date | None
    ends_on: date | None
    timezone: str | None
    status: str | None
    version: int | None
    thresholds: Thresholds | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Plan:
        thresholds = raw.get("thresholds")
        return cls(
            id=strawberry.ID(str(raw["id"])),
            code=raw.get("code") or "",
            name=raw.get("name") or "",
            description=raw.get("description"),
            fiscal_year=raw.get("fiscal_year"),
            starts_on=day(raw.get("starts_on")),
            ends_on=day(raw.get("ends_on")),
            timezone=raw.get("timezone"),
            status=raw.get("status"),
            version=raw.get("version"),
            thresholds=Thresholds(
                on_track=dec(thresholds.get("on_track")), at_risk=dec(thresholds.get("at_risk"))
            )
            if isinstance(thresholds, dict)
            else None,
            created_at=moment(raw.get("created_at")),
            updated_at=moment(raw.get("updated_at")),
        )

    @strawberry.field
    async def phases(self, info: GatewayInfo) -> list[Phase] | None:
        return [Phase.from_json(raw) for raw in await info.context.loaders.phases.load(str(self.id))]

    @strawberry.field(
        description="The plan's targets; `activeIn` keeps those whose period overlaps a quarter "
        "(e.g. 2025Q2), `topLevelOnly` those that are no other target's child."
    )
    async def targets(
        self, info: GatewayInfo, active_in: str | None = None, top_level_only: bool = False
    ) -> list[Target] | None:
        rows = await info.context.loaders.plan_targets.load((str(self.id), active_in))
        targets = [Target.from_json(raw) for raw in rows]
        shown = [t for t in targets if t.parent_id is None] if top_level_only else targets
        await prefetch(info, shown, active_in)
        return shown

    @strawberry.field(description="One page of the plan's tasks, filtered by quarter, department, status.")
    async def tasks(
        self,
        info: GatewayInfo,
        quarter: str | None = None,
        department: str | None = None,
        status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> TaskConnection | None:
        page = await info.context.upstream.get(
            "targets",
            f"/v1/plans/{self.id}/tasks",
            quarter=quarter,
            department=department,
            status=status,
            limit=first,
            cursor=after,
        )
        return TaskConnection(
            items=[Task.from_json(raw) for raw in page.get("items", [])], next_cursor=page.get("next_cursor")
        )

    @strawberry.field
    async def initiatives(self, info: GatewayInfo) -> list[Initiative] | None:
        return [
            Initiative.from_json(raw) for raw in await info.context.loaders.initiatives.load(str(self.id))
        ]

    @strawberry.field
    async def risks(self, info: GatewayInfo) -> list[Risk] | None:
        return [Risk.from_json(raw) for raw in await info.context.loaders.risks.load(str(self.id))]

    @strawberry.field(description="The plan's quarterly retrospectives.")
    async def reviews(self, info: GatewayInfo) -> list[Review] | None:
        return [Review.from_json(raw) for raw in await info.context.loaders.plan_reviews.load(str(self.id))]


@strawberry.type(description="One page of plans; pass `nextCursor` as `after` for the next page.")
class PlanConnection:
    items: list[Plan]
    next_cursor: str | None
