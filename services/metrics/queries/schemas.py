"""Batched metric queries: what a dashboard or the progress computation asks in one round trip."""

from __future__ import annotations

import enum
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.metrics.catalogue.schemas import Dimension
from shared.http import MAX_QUERIES_PER_CALL

MAX_QUERIES = MAX_QUERIES_PER_CALL

DimensionFilter = str | list[str] | None


class SeriesFormat(enum.StrEnum):
    POINTS = "points"
    COMPACT = "compact"


class Bucket(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


class QueryFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: DimensionFilter = Field(None, description="A value or a list of values.")
    channel: DimensionFilter = None
    region: DimensionFilter = None


class ProfileRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    through: date = Field(description="The day `done` counts up to, inclusive (any date).")


class MetricQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="Echoed in the result.")
    metric: str = Field(min_length=1, max_length=64)
    start: date = Field(description="First business day, inclusive.")
    end: date = Field(description="Last business day, inclusive.")
    filters: QueryFilters | None = None
    group_by: list[Dimension] | None = None
    bucket: Bucket | None = None
    series_format: SeriesFormat = Field(
        SeriesFormat.POINTS,
        description="`compact` (day buckets only): the series as columns in `series_compact` "
        "instead of one object per day in `series`.",
    )
    profile: ProfileRequest | None = Field(
        None,
        description="Also summarise how the range's volume is spread over its days (`profile` in "
        "the result) — what seasonal pacing needs, without shipping every day. Not with `group_by`.",
    )
    last_event: bool = Field(
        True,
        description="`false`: `last_event_at` is null and the latest event of the query's base "
        "metrics is not looked up for it (a batch in which no query asks for one skips that "
        "statement) — for callers that only draw values or series.",
    )


class QueryBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queries: list[MetricQuery] = Field(max_length=MAX_QUERIES)


class GroupValue(BaseModel):
    key: dict[str, str | None]
    value: str | None
    numerator: str | None
    denominator: str | None


class SeriesPoint(BaseModel):
    start: date
    end: date
    value: str | None
    numerator: str | None
    denominator: str | None


class CompactSeries(BaseModel):
    """A day series as columns: entry i is the day `start` + i; same numbers as `series`."""

    start: date
    bucket: Bucket
    values: list[str | None]
    numerators: list[str | None]
    denominators: list[str | None]


class Profile(BaseModel):
    """How [start, end]'s volume is spread over its days, summarised.

    A day's weight is its value for additive metrics (base, summed), the denominator of the
    top-level division for ratio metrics; a day at or below zero weighs nothing, and other
    metrics have no weight (`total` 0). Sums are exact.
    """

    through: date
    total: str = Field(description="The weight of every day of the range.")
    done: str = Field(description="The weight of the range's days up to and including `through`.")
    first_day: date | None = Field(description="The first day with weight; null when none has.")
    last_day: date | None = Field(description="The last day with weight; null when none has.")
    weeks: list[str | None] = Field(
        description="The metric's value over each full seven-day run from `start` (a last, "
        "shorter run left out), as a query of that run answers it."
    )


class QueryResult(BaseModel):
    id: str
    metric: str
    value: str | None = Field(description="Decimal as a string; null when undefined (denominator 0).")
    numerator: str | None = Field(description="Derived ratios: the formula's top-level numerator.")
    denominator: str | None
    groups: list[GroupValue] | None
    series: list[SeriesPoint] | None = Field(description="Every bucket in [start, end], clipped to it.")
    series_compact: CompactSeries | None = Field(
        None, description='Only with `"series_format": "compact"` (then `series` is null).'
    )
    profile: Profile | None = Field(None, description='Only with `"profile"` in the query.')
    last_event_at: datetime | None = Field(
        description="Latest event of the metric under the filters (any date); "
        'derived: the oldest of its parts. Null when there is none, or with `"last_event": false`.'
    )


class QueryResults(BaseModel):
    results: list[QueryResult]
