"""Progress answers (the arithmetic is `shared.progress`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.numbers import PlainDecimal
from shared.progress import Health


class ProgressOut(BaseModel):
    target_id: uuid.UUID
    metric: str
    direction: str
    starts_on: date
    ends_on: date
    as_of: date
    actual: PlainDecimal | None
    expected_to_date: PlainDecimal | None
    attainment: PlainDecimal | None = Field(
        description="actual / target (target / actual when lower is better)."
    )
    pace: PlainDecimal | None = Field(description="actual / expected_to_date, direction-aware.")
    forecast: PlainDecimal | None
    forecast_low: PlainDecimal | None
    forecast_high: PlainDecimal | None
    health: Health
    stale: bool
    target_value: PlainDecimal
    baseline_value: PlainDecimal | None
    expected_method: str
    numerator: PlainDecimal | None
    denominator: PlainDecimal | None
    last_event_at: datetime | None
    elapsed_share: PlainDecimal | None
    growth_to_date: PlainDecimal | None


class ProgressBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date | None = Field(None, description="Defaults to today in each plan's time zone.")
    target_ids: list[uuid.UUID] | None = Field(None, max_length=2000)
    plan_id: uuid.UUID | None = None
    active_in: str | None = Field(None, description="With plan_id: targets overlapping e.g. 2025Q2.")

    @model_validator(mode="after")
    def _one_selector(self) -> ProgressBatchRequest:
        if (self.target_ids is None) == (self.plan_id is None):
            raise ValueError("Give either target_ids or plan_id.")
        return self


class ProgressBatchOut(BaseModel):
    results: list[ProgressOut]


class HistoryDay(BaseModel):
    date: date
    actual: PlainDecimal | None
    expected_to_date: PlainDecimal | None
    attainment: PlainDecimal | None
    pace: PlainDecimal | None
    forecast: PlainDecimal | None
    forecast_low: PlainDecimal | None
    forecast_high: PlainDecimal | None
    health: Health


class HistoryOut(BaseModel):
    target_id: uuid.UUID
    as_of: date
    expected_method: str
    days: list[HistoryDay]
