"""Targets with their progress, series, children and initiatives — all batched per request."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

import strawberry

from services.gateway.context import GatewayInfo
from services.gateway.loaders import Family, SeriesKey, ready_or_load, then
from services.gateway.lookahead import date_argument, selected
from services.gateway.types.common import Scope, day, dec, ids, moment, opt_id
from services.gateway.types.metrics import MetricDefinition, SeriesPoint
from services.gateway.types.tasks import Initiative

T = TypeVar("T")
# A field's value now, or an awaitable of it (see `ready_or_load`).
Resolved: TypeAlias = T | Awaitable[T]


@strawberry.enum(description="The colour of a target's forecast against its thresholds.")
class Health(enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    OFF_TRACK = "OFF_TRACK"
    ACHIEVED = "ACHIEVED"
    MISSED = "MISSED"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@strawberry.enum(description="Width of one point of a series, cut in the business time zone.")
class Bucket(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


@strawberry.type(description="Where a target stands as of a date (fractions: 1.05 = 105 %).")
class Progress:
    target_id: strawberry.ID
    as_of: date
    actual: Decimal | None
    expected_to_date: Decimal | None
    attainment: Decimal | None
    pace: Decimal | None
    forecast: Decimal | None
    forecast_low: Decimal | None
    forecast_high: Decimal | None
    health: Health
    stale: bool
    target_value: Decimal | None
    baseline_value: Decimal | None
    expected_method: str | None
    numerator: Decimal | None
    denominator: Decimal | None
    last_event_at: datetime | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Progress:
        return cls(
            target_id=strawberry.ID(str(raw["target_id"])),
            as_of=day(raw["as_of"]) or date.min,
            actual=dec(raw.get("actual")),
            expected_to_date=dec(raw.get("expected_to_date")),
            attainment=dec(raw.get("attainment")),
            pace=dec(raw.get("pace")),
            forecast=dec(raw.get("forecast")),
            forecast_low=dec(raw.get("forecast_low")),
            forecast_high=dec(raw.get("forecast_high")),
            health=Health(raw["health"]),
            stale=bool(raw.get("stale")),
            target_value=dec(raw.get("target_value")),
            baseline_value=dec(raw.get("baseline_value")),
            expected_method=raw.get("expected_method"),
            numerator=dec(raw.get("numerator")),
            denominator=dec(raw.get("denominator")),
            last_event_at=moment(raw.get("last_event_at")),
        )


@strawberry.type(description="Whether a decomposed target's children still add up to it.")
class TreeCheck:
    adds_up: bool
    children_total: Decimal | None


@strawberry.type(description="A SMART target: a metric, a scope, a period and a value.")
class Target:
    id: strawberry.ID
    plan_id: strawberry.ID
    parent_id: strawberry.ID | None
    name: str
    metric_key: str = strawberry.field(description="The key of the metric this target measures.")
    scope: Scope
    period: str | None
    starts_on: date
    ends_on: date
    kind: str = strawberry.field(description="absolute or growth.")
    target_value: Decimal | None
    growth_pct: Decimal | None
    baseline_value: Decimal | None
    direction: str | None
    additive: bool | None
    department: str | None
    weight: Decimal | None
    status: str | None
    version: int | None
    initiative_ids: list[strawberry.ID]
    children_ids: list[strawberry.ID]
    tree: TreeCheck | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Target:
        tree = raw.get("tree")
        return cls(
            id=strawberry.ID(str(raw["id"])),
            plan_id=strawberry.ID(str(raw["plan_id"])),
            parent_id=opt_id(raw.get("parent_id")),
            name=raw.get("name") or "",
            metric_key=raw["metric"],
            scope=Scope.from_json(raw.get("scope")),
            period=raw.get("period"),
            starts_on=day(raw["starts_on"]) or date.min,
            ends_on=day(raw["ends_on"]) or date.max,
            kind=raw.get("kind") or "absolute",
            target_value=dec(raw.get("target_value")),
            growth_pct=dec(raw.get("growth_pct")),
            baseline_value=dec(raw.get("baseline_value")),
            direction=raw.get("direction"),
            additive=raw.get("additive"),
            department=raw.get("department"),
            weight=dec(raw.get("weight")),
            status=raw.get("status"),
            version=raw.get("version"),
            initiative_ids=ids(raw.get("initiative_ids")),
            children_ids=ids(raw.get("children_ids")),
            tree=TreeCheck(adds_up=bool(tree.get("adds_up")), children_total=dec(tree.get("children_total")))
            if isinstance(tree, dict)
            else None,
        )

    # The per-target fields below are plain functions: after `prefetch` they find their batch
    # answered and return at once (no task per field and target); otherwise, or when a batch
    # failed, they hand GraphQL the loader's awaitable, which carries the error. Progress is the
    # exception: it usually comes later, from the plan-wide call its field waits for.

    @strawberry.field(
        graphql_type=MetricDefinition | None,
        description="The metric definition (one catalogue read per request).",
    )
    def metric(self, info: GatewayInfo) -> Resolved[MetricDefinition | None]:
        return ready_or_load(info.context.loaders.metric, self.metric_key)

    @strawberry.field(
        graphql_type=Progress | None,
        description="Progress as of a date (default: today in the business time zone). "
        "All targets of a request share one call to the targets service.",
    )
    def progress(self, info: GatewayInfo, as_of: date | None = None) -> Resolved[Progress | None]:
        raw = info.context.loaders.progress_for(self.progress_key(info, as_of))
        return then(raw, lambda found: Progress.from_json(found) if found else None)

    @strawberry.field(
        graphql_type=list[SeriesPoint] | None,
        description="The metric over the target's period and scope, one point per bucket. "
        "All series of a request share one call to the metrics service.",
    )
    def series(self, info: GatewayInfo, bucket: Bucket = Bucket.MONTH) -> Resolved[list[SeriesPoint] | None]:
        return ready_or_load(info.context.loaders.series, self.series_key(bucket))

    @strawberry.field(
        graphql_type=list["Target"] | None, description="The targets this one was decomposed into."
    )
    def children(self, info: GatewayInfo) -> Resolved[list[Target] | None]:
        family = info.context.loaders.family_ready(str(self.plan_id))
        if family is not None:
            return self._children_in(family)
        return then(info.context.loaders.family(str(self.plan_id)), self._children_in)

    def _children_in(self, family: Family) -> list[Target] | None:
        return [
            Target.from_json(raw) for raw in family.children(str(self.id), list(map(str, self.children_ids)))
        ]

    def progress_key(self, info: GatewayInfo, as_of: date | None) -> tuple[str, date]:
        return str(self.id), as_of or info.context.today()

    def series_key(self, bucket: Bucket) -> SeriesKey:
        return SeriesKey(
            metric=self.metric_key,
            start=self.starts_on,
            end=self.ends_on,
            filters=tuple(sorted(self.scope.filters().items())),
            bucket=bucket.value,
        )

    @strawberry.field(description="The initiatives that serve this target.")
    async def initiatives(self, info: GatewayInfo) -> list[Initiative] | None:
        if not self.initiative_ids:
            return []
        wanted = set(map(str, self.initiative_ids))
        plan_initiatives = await info.context.loaders.initiatives.load(str(self.plan_id))
        return [Initiative.from_json(raw) for raw in plan_initiatives if str(raw["id"]) in wanted]


def _as_bucket(value: Any) -> Bucket | None:
    if value is None:
        return Bucket.MONTH
    if isinstance(value, Bucket):
        return value
    return Bucket.__members__.get(str(value)) or next((b for b in Bucket if b.value == value), None)


async def _progress_of(
    info: GatewayInfo, targets: list[Target], plan_ids: set[str], active_in: str | None, as_of: date
) -> None:
    """The targets' progress: the keys of a plan whose plan-wide call was begun alongside the
    plan (see `Loaders.progress_of_plan`) are expected from it, and nothing waits for it here:
    each progress field waits for it itself, so the targets' other fields are completed
    meanwhile. The keys of other plans are asked for in one batch."""
    loaders = info.context.loaders
    uncovered: list[tuple[str, date]] = []
    for plan_id in plan_ids:
        keys = [t.progress_key(info, as_of) for t in targets if str(t.plan_id) == plan_id]
        begun = loaders.plan_progress_begun(plan_id, active_in, as_of)
        if begun is None:
            uncovered.extend(keys)
        else:
            loaders.expect_progress(keys, begun)
    if uncovered:
        await loaders.progress.load_many(uncovered)


async def prefetch(info: GatewayInfo, targets: list[Target], active_in: str | None = None) -> None:
    """Looks ahead at the fields selected on a list of targets and sends their batches now, so
    each target's series, metric, children and initiatives are answered before GraphQL reaches
    them (the list waits for them), and its progress is on its way (see `_progress_of`). Only
    a head start: a field whose arguments are not foreseen here (or whose batch failed) loads,
    or reports its error, through its loader as before — after these batches (fields of the
    children, say)."""
    if not targets:
        return
    loaders = info.context.loaders
    loads: list[Awaitable[Any]] = []
    plan_ids = {str(t.plan_id) for t in targets}
    for field in selected(info, "progress"):
        as_of = date_argument(field.arguments.get("asOf")) or info.context.today()
        loads.append(_progress_of(info, targets, plan_ids, active_in, as_of))
    for field in selected(info, "series"):
        bucket = _as_bucket(field.arguments.get("bucket"))
        if bucket is not None:
            loads.append(loaders.series.load_many([t.series_key(bucket) for t in targets]))
    if selected(info, "metric"):
        loads.append(loaders.metric.load_many([t.metric_key for t in targets]))
    if selected(info, "children"):
        loads.extend(loaders.family(plan_id) for plan_id in plan_ids)
    if selected(info, "initiatives"):
        loads.extend(loaders.initiatives.load(plan_id) for plan_id in plan_ids)
    await asyncio.gather(*loads, return_exceptions=True)
