"""Plan requests and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.numbers import ExactDecimal

PlanStatus = Literal["draft", "active", "closed"]
Dimension = Literal["category", "channel", "region"]


class Thresholds(BaseModel):
    on_track: ExactDecimal = Field(
        Decimal("1.00"), gt=0, description="Forecast/target at or above: ON_TRACK."
    )
    at_risk: ExactDecimal = Field(Decimal("0.90"), gt=0, description="Forecast/target at or above: AT_RISK.")


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    fiscal_year: int = Field(ge=2000, le=2100)
    starts_on: date | None = Field(None, description="Defaults to 1 January of the fiscal year.")
    ends_on: date | None = Field(None, description="Defaults to 31 December of the fiscal year.")
    timezone: str | None = Field(None, description="Business time zone; defaults to PACER_BUSINESS_TZ.")
    status: Literal["draft", "active"] = "draft"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    required_scope: list[Dimension] = Field(
        default_factory=list,
        description="Dimensions every target of this plan must scope (when its metric has them).",
    )


class PlanUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    timezone: str | None = None
    status: PlanStatus | None = None
    thresholds: Thresholds | None = None
    required_scope: list[Dimension] | None = None


class PlanOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    description: str | None
    fiscal_year: int
    starts_on: date
    ends_on: date
    timezone: str
    status: PlanStatus
    version: int
    thresholds: Thresholds
    required_scope: list[str]
    created_at: datetime
    updated_at: datetime
