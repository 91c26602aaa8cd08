"""Review JSON in and out. Decimals travel as strings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.numbers import PlainDecimal

FindingKind = Literal["cause", "success", "lesson"]


class ReviewCreate(BaseModel):
    plan_id: str = Field(min_length=1, max_length=100, description="The plan under review (targets service).")
    quarter: str = Field(
        pattern=r"^\d{4}Q[1-4]$", description="The quarter under review, e.g. `2025Q2`.", examples=["2025Q2"]
    )


class SnapshotRequest(BaseModel):
    as_of: date | None = Field(
        None,
        description="A day inside the quarter; defaults to the quarter's last day, or today while it runs.",
    )


class AttributionPart(BaseModel):
    value: str | None = Field(description="The child (e.g. a category); null is the rest no child explains.")
    target: PlainDecimal = Field(description="The child's planned value to date.")
    actual: PlainDecimal | None
    variance: PlainDecimal = Field(description="The child's contribution to the target's variance.")
    share: PlainDecimal | None = Field(
        description="variance / the target's variance: how much of the gap it explains."
    )
    planned_share: PlainDecimal | None = Field(
        None, description="The child's share of the plan (last year's mix, child target, or volume)."
    )


class FunnelFigures(BaseModel):
    uv: PlainDecimal
    conversion_rate: PlainDecimal
    aov: PlainDecimal
    gmv: PlainDecimal


class DriverAttribution(BaseModel):
    traffic: PlainDecimal
    conversion: PlainDecimal
    basket: PlainDecimal
    total: PlainDecimal = Field(description="The variance: traffic + conversion + basket, exactly.")
    method: Literal["lmdi", "sequential"]
    planned: FunnelFigures
    actual: FunnelFigures


class Attribution(BaseModel):
    by_dimension: dict[str, list[AttributionPart]] = Field(default_factory=dict)
    methods: dict[str, Literal["children", "last_year_mix", "rate_by_volume"]] = Field(
        default_factory=dict, description="How each dimension was attributed."
    )
    drivers: DriverAttribution | None = None


class SnapshotItem(BaseModel):
    target_id: str
    name: str
    metric: str
    unit: str | None = Field(
        None, description="money | count | ratio | percent | score (from the catalogue)."
    )
    scope: dict[str, str | None]
    period: str | None
    starts_on: date | None
    ends_on: date | None
    parent_id: str | None
    department: str | None
    weight: PlainDecimal
    direction: str | None
    evaluation_dimension: str | None
    target_value: PlainDecimal | None
    planned: PlainDecimal | None = Field(
        description="What the plan expected by as_of: the target value, or expected_to_date for a "
        "target whose period runs past as_of."
    )
    actual: PlainDecimal | None
    attainment: PlainDecimal | None
    variance: PlainDecimal | None = Field(
        description="actual − planned (raw; direction tells good from bad)."
    )
    variance_pct: PlainDecimal | None = Field(description="variance / planned, a fraction (-0.12 = -12 %).")
    health: str | None
    stale: bool = False
    attribution: Attribution = Field(default_factory=Attribution)


class Snapshot(BaseModel):
    taken_at: datetime
    as_of: date
    items: list[SnapshotItem]


class ScoreOut(BaseModel):
    attainment: PlainDecimal | None
    targets: int
    unscored: int
    weight: PlainDecimal


class Change(BaseModel):
    target_id: str
    field: str
    from_: Any = Field(alias="from", serialization_alias="from")
    to: Any

    model_config = {"populate_by_name": True}


class FindingCreate(BaseModel):
    kind: FindingKind
    text: str = Field(min_length=1, max_length=5000)
    target_ids: list[str] = Field(default_factory=list, max_length=200)
    department: str | None = Field(None, max_length=64)


class FindingOut(BaseModel):
    id: uuid.UUID
    review_id: uuid.UUID
    kind: FindingKind
    text: str
    target_ids: list[str]
    department: str | None
    created_by: str
    created_at: datetime


class ActionItemCreate(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    department: str = Field(min_length=1, max_length=64, description="The owning department.")
    due_on: date | None = None
    finding_id: uuid.UUID | None = None
    assignee: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)


class ActionItemOut(BaseModel):
    id: uuid.UUID
    review_id: uuid.UUID
    title: str
    description: str | None
    department: str
    assignee: str | None
    due_on: date | None
    finding_id: uuid.UUID | None
    status: Literal["open", "promoted"]
    task_id: str | None
    task_period: str | None
    task_plan_id: str | None = Field(
        description="The plan of the task: the review's, or the one named when promoting (Q4)."
    )
    promoted_at: datetime | None
    created_at: datetime


class PromoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: uuid.UUID | None = Field(
        None,
        description="The plan that runs the next quarter, when it is not the review's own (a Q4 "
        "review's action items belong to next year's plan). A retry must name the same plan.",
    )


class PromoteOut(BaseModel):
    action_item: ActionItemOut
    task_id: str
    created: bool = Field(description="False when the task already existed (a retry or a second click).")


class DriftItem(BaseModel):
    target_id: str
    name: str
    snapshot_actual: PlainDecimal | None
    current_actual: PlainDecimal | None
    drift: PlainDecimal | None
    drift_pct: PlainDecimal | None
    snapshot_health: str | None
    current_health: str | None


class Drift(BaseModel):
    checked_at: datetime
    as_of: date
    drifted: bool = Field(description="True when any actual differs from the frozen snapshot.")
    items: list[DriftItem]


class ReviewOut(BaseModel):
    id: uuid.UUID
    plan_id: str
    plan_code: str | None
    plan_name: str | None
    quarter: str
    status: Literal["draft", "finalized"]
    version: int
    snapshot: Snapshot | None
    scorecard: dict[str, ScoreOut] | None
    changes: list[Change] | None = Field(None, description="What moved in the last re-snapshot.")
    findings: list[FindingOut]
    action_items: list[ActionItemOut]
    drift: Drift | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime
    finalized_at: datetime | None
    finalized_by: str | None


class ReviewSummary(BaseModel):
    id: uuid.UUID
    plan_id: str
    plan_code: str | None
    quarter: str
    status: Literal["draft", "finalized"]
    version: int
    has_snapshot: bool
    created_at: datetime
    updated_at: datetime
    finalized_at: datetime | None
