"""Quarterly retrospectives from the reviews service."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from services.gateway.context import GatewayInfo
from services.gateway.types.common import Scope, day, dec, ids, moment, opt_id
from services.gateway.types.targets import Health


@strawberry.enum(description="What a finding records.")
class FindingKind(enum.Enum):
    CAUSE = "cause"
    SUCCESS = "success"
    LESSON = "lesson"


@strawberry.type(description="One target in a review's snapshot, with its variance and attribution.")
class SnapshotItem:
    target_id: strawberry.ID
    name: str | None
    metric: str | None
    scope: Scope
    target_value: Decimal | None
    actual: Decimal | None
    attainment: Decimal | None
    variance: Decimal | None
    variance_pct: Decimal | None
    health: Health | None
    direction: str | None
    attribution: JSON | None = strawberry.field(
        description="The variance by dimension (category, channel, region) and, for GMV, by driver "
        "(traffic, conversion, basket). Decimals are strings."
    )

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SnapshotItem:
        health = raw.get("health")
        return cls(
            target_id=strawberry.ID(str(raw["target_id"])),
            name=raw.get("name"),
            metric=raw.get("metric"),
            scope=Scope.from_json(raw.get("scope")),
            target_value=dec(raw.get("target_value")),
            actual=dec(raw.get("actual")),
            attainment=dec(raw.get("attainment")),
            variance=dec(raw.get("variance")),
            variance_pct=dec(raw.get("variance_pct")),
            health=Health(health) if health else None,
            direction=raw.get("direction"),
            attribution=raw.get("attribution"),
        )


@strawberry.type(description="Target against actual for every target active in the quarter, frozen.")
class Snapshot:
    taken_at: datetime | None
    as_of: date | None
    items: list[SnapshotItem]


@strawberry.type(description="Attainment of one evaluation dimension.")
class ScorecardEntry:
    attainment: Decimal | None
    targets: int


@strawberry.type(description="Attainment by evaluation dimension: financial, operational, user.")
class Scorecard:
    financial: ScorecardEntry | None
    operational: ScorecardEntry | None
    user: ScorecardEntry | None
    overall: ScorecardEntry | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Scorecard:
        def entry(name: str) -> ScorecardEntry | None:
            value = raw.get(name)
            if not isinstance(value, dict):
                return None
            return ScorecardEntry(
                attainment=dec(value.get("attainment")), targets=int(value.get("targets") or 0)
            )

        return cls(
            financial=entry("financial"),
            operational=entry("operational"),
            user=entry("user"),
            overall=entry("overall"),
        )


@strawberry.type(description="A cause, success or lesson recorded in a review.")
class Finding:
    id: strawberry.ID
    kind: FindingKind
    text: str
    target_ids: list[strawberry.ID]
    department: str | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Finding:
        return cls(
            id=strawberry.ID(str(raw["id"])),
            kind=FindingKind(raw["kind"]),
            text=raw.get("text") or "",
            target_ids=ids(raw.get("target_ids")),
            department=raw.get("department"),
        )


@strawberry.type(description="Something to do next quarter; it can become a task exactly once.")
class ActionItem:
    id: strawberry.ID
    title: str
    description: str | None
    department: str | None
    assignee: str | None
    due_on: date | None
    finding_id: strawberry.ID | None
    status: str | None
    task_id: strawberry.ID | None
    task_plan_id: strawberry.ID | None = strawberry.field(
        description="The plan of its task: the review's, or the one named when promoting (after Q4)."
    )

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ActionItem:
        return cls(
            id=strawberry.ID(str(raw["id"])),
            title=raw.get("title") or "",
            description=raw.get("description"),
            department=raw.get("department"),
            assignee=raw.get("assignee"),
            due_on=day(raw.get("due_on")),
            finding_id=opt_id(raw.get("finding_id")),
            status=raw.get("status"),
            task_id=opt_id(raw.get("task_id")),
            task_plan_id=opt_id(raw.get("task_plan_id")),
        )


_DETAIL_FIELDS = ("snapshot", "scorecard", "findings", "action_items")


@strawberry.type(description="The retrospective of one plan and quarter.")
class Review:
    id: strawberry.ID
    plan_id: strawberry.ID
    quarter: str
    status: str
    version: int | None
    raw: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Review:
        return cls(
            id=strawberry.ID(str(raw["id"])),
            plan_id=strawberry.ID(str(raw.get("plan_id"))),
            quarter=raw.get("quarter") or "",
            status=raw.get("status") or "",
            version=raw.get("version"),
            raw=raw,
        )

    async def _detail(self, info: GatewayInfo) -> dict[str, Any]:
        """List answers may leave out the heavy parts; then the full review is read once."""
        if all(name in self.raw for name in _DETAIL_FIELDS):
            return self.raw
        return await info.context.loaders.review.load(str(self.id))

    @strawberry.field(description="The frozen target-versus-actual table; null before the snapshot.")
    async def snapshot(self, info: GatewayInfo) -> Snapshot | None:
        raw = (await self._detail(info)).get("snapshot")
        if not raw:
            return None
        return Snapshot(
            taken_at=moment(raw.get("taken_at")),
            as_of=day(raw.get("as_of")),
            items=[SnapshotItem.from_json(item) for item in raw.get("items") or []],
        )

    @strawberry.field
    async def scorecard(self, info: GatewayInfo) -> Scorecard | None:
        raw = (await self._detail(info)).get("scorecard")
        return Scorecard.from_json(raw) if isinstance(raw, dict) else None

    @strawberry.field
    async def findings(self, info: GatewayInfo) -> list[Finding] | None:
        return [Finding.from_json(raw) for raw in (await self._detail(info)).get("findings") or []]

    @strawberry.field
    async def action_items(self, info: GatewayInfo) -> list[ActionItem] | None:
        return [ActionItem.from_json(raw) for raw in (await self._detail(info)).get("action_items") or []]

    @strawberry.field(description="Targets changed since the snapshot was taken, as the service reports it.")
    async def drift(self, info: GatewayInfo) -> JSON | None:
        drift: Any = (await self._detail(info)).get("drift")
        return drift

    @strawberry.field(description="The review as a Markdown report a person can read.")
    async def report(self, info: GatewayInfo) -> str | None:
        response = await info.context.upstream.request("reviews", "GET", f"/v1/reviews/{self.id}/report.md")
        return response.text
