"""Target requests and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.numbers import ExactDecimal, PlainDecimal

TargetKind = Literal["absolute", "growth"]
TargetStatus = Literal["active", "archived"]
DecomposeBy = Literal["quarter", "month", "category", "channel", "region"]


class Scope(BaseModel):
    category: str | None = None
    channel: str | None = None
    region: str | None = None


class TargetCreate(BaseModel):
    """Every field is checked by the service so each missing piece gets its own problem code."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    metric: str | None = Field(None, description="A metric key of the metrics service, e.g. `gmv`.")
    scope: dict[str, Any] | None = Field(None, description='Filters: `{"category": "beauty"}`.')
    period: str | None = Field(None, description="`2025`, `2025Q2` or `2025-05`; or starts_on/ends_on.")
    starts_on: date | None = None
    ends_on: date | None = None
    kind: TargetKind | None = Field(None, description="Defaults to `growth` when growth_pct is given.")
    target_value: ExactDecimal | None = Field(None, description="The absolute target.")
    growth_pct: ExactDecimal | None = Field(None, description="Growth over last year's same period, e.g. 30.")
    department: str | None = None
    weight: ExactDecimal = Field(Decimal(1), ge=0)
    initiative_ids: list[uuid.UUID] = Field(default_factory=list)


class TargetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    target_value: ExactDecimal | None = None
    growth_pct: ExactDecimal | None = None
    department: str | None = None
    weight: ExactDecimal | None = Field(None, ge=0)
    status: TargetStatus | None = None
    initiative_ids: list[uuid.UUID] | None = None


class Tree(BaseModel):
    adds_up: bool = Field(description="Additive: the children sum to the parent; rate: all inherit it.")
    children_total: PlainDecimal | None


class TargetOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    metric: str
    unit: str | None
    scope: Scope
    period: str | None
    starts_on: date
    ends_on: date
    kind: TargetKind
    target_value: PlainDecimal
    growth_pct: PlainDecimal | None
    baseline_value: PlainDecimal | None
    direction: str
    additive: bool
    department: str | None
    weight: PlainDecimal
    status: TargetStatus
    version: int
    decomposed_by: str | None
    initiative_ids: list[uuid.UUID]
    children_ids: list[uuid.UUID]
    tree: Tree | None
    created_at: datetime
    updated_at: datetime


class DecomposeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: DecomposeBy
    values: list[str] | None = Field(None, description="The dimension values (for category/channel/region).")
    weights: Literal["even", "seasonal"] | dict[str, ExactDecimal] = Field(
        "even", description="`even`, `seasonal` (last year's actual shares) or `{child: share}`."
    )


class DecomposeOut(BaseModel):
    parent: TargetOut
    children: list[TargetOut]
    weights: dict[str, PlainDecimal] = Field(description="The normalised share of each child.")
