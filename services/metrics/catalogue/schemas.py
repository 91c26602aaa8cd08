"""Metric definitions as the API shows and accepts them."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.numbers import PlainDecimal


class Unit(enum.StrEnum):
    MONEY = "money"
    COUNT = "count"
    RATIO = "ratio"
    PERCENT = "percent"
    SCORE = "score"


class Kind(enum.StrEnum):
    BASE = "base"
    DERIVED = "derived"


class Direction(enum.StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Aggregation(enum.StrEnum):
    SUM = "sum"
    AVG = "avg"
    LAST = "last"
    MAX = "max"
    MIN = "min"


class Dimension(enum.StrEnum):
    CATEGORY = "category"
    CHANNEL = "channel"
    REGION = "region"


class EvaluationDimension(enum.StrEnum):
    FINANCIAL = "financial"
    OPERATIONAL = "operational"
    USER = "user"


DIMENSIONS: tuple[str, ...] = tuple(d.value for d in Dimension)
KEY_PATTERN = r"^[a-z][a-z0-9_]*$"


class MetricDefinition(BaseModel):
    key: str = Field(description="Stable identifier used in events, formulas and targets.")
    name: str
    description: str
    unit: Unit
    kind: Kind
    formula: str | None = Field(description="Derived metrics only, e.g. `orders / uv`.")
    direction: Direction
    aggregation: Aggregation = Field(
        description="How a base metric aggregates over days (derived metrics compute from sums)."
    )
    additive: bool = Field(description="True iff base and aggregated by sum: splittable by weights.")
    expected_frequency_hours: int = Field(description="No event for longer than this → stale.")
    min_denominator: PlainDecimal | None = Field(
        description="Derived: below this denominator volume progress reports INSUFFICIENT_DATA."
    )
    value_min: PlainDecimal | None
    value_max: PlainDecimal | None
    dimensions: list[Dimension]
    domain: str
    evaluation_dimension: EvaluationDimension | None
    version: int
    created_at: datetime
    updated_at: datetime


class MetricCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=64, pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    unit: Unit
    kind: Kind = Kind.BASE
    formula: str | None = Field(None, max_length=500)
    direction: Direction = Direction.HIGHER_IS_BETTER
    aggregation: Aggregation = Aggregation.SUM
    expected_frequency_hours: int = Field(24, ge=1, le=24 * 400)
    min_denominator: PlainDecimal | None = Field(None, ge=0, allow_inf_nan=False)
    value_min: PlainDecimal | None = Field(None, allow_inf_nan=False)
    value_max: PlainDecimal | None = Field(None, allow_inf_nan=False)
    dimensions: list[Dimension] = Field(default_factory=lambda: list(Dimension))
    domain: str = Field("other", min_length=1, max_length=64)
    evaluation_dimension: EvaluationDimension | None = None


class MetricUpdate(BaseModel):
    """Fields to change; `key` and `kind` are fixed once created."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    unit: Unit | None = None
    formula: str | None = Field(None, max_length=500)
    direction: Direction | None = None
    aggregation: Aggregation | None = None
    expected_frequency_hours: int | None = Field(None, ge=1, le=24 * 400)
    min_denominator: PlainDecimal | None = Field(None, ge=0, allow_inf_nan=False)
    value_min: PlainDecimal | None = Field(None, allow_inf_nan=False)
    value_max: PlainDecimal | None = Field(None, allow_inf_nan=False)
    dimensions: list[Dimension] | None = None
    domain: str | None = Field(None, min_length=1, max_length=64)
    evaluation_dimension: EvaluationDimension | None = None
