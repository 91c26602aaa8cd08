"""Metric definitions from the metrics service's catalogue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import strawberry

from services.gateway.types.common import day, dec


@strawberry.type(description="A metric of the catalogue: a base event sum or a formula over base sums.")
class MetricDefinition:
    key: str
    name: str
    description: str | None
    unit: str = strawberry.field(description="money, count, ratio, percent or score.")
    kind: str = strawberry.field(description="base or derived.")
    formula: str | None
    direction: str = strawberry.field(description="higher_is_better or lower_is_better.")
    aggregation: str = strawberry.field(description="How a base metric aggregates over days.")
    additive: bool
    expected_frequency_hours: int | None
    min_denominator: Decimal | None
    value_min: Decimal | None
    value_max: Decimal | None
    dimensions: list[str]
    domain: str | None
    evaluation_dimension: str | None
    version: int | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> MetricDefinition:
        return cls(
            key=raw["key"],
            name=raw.get("name") or raw["key"],
            description=raw.get("description"),
            unit=raw.get("unit") or "",
            kind=raw.get("kind") or "",
            formula=raw.get("formula"),
            direction=raw.get("direction") or "",
            aggregation=raw.get("aggregation") or "",
            additive=bool(raw.get("additive")),
            expected_frequency_hours=raw.get("expected_frequency_hours"),
            min_denominator=dec(raw.get("min_denominator")),
            value_min=dec(raw.get("value_min")),
            value_max=dec(raw.get("value_max")),
            dimensions=list(raw.get("dimensions") or []),
            domain=raw.get("domain"),
            evaluation_dimension=raw.get("evaluation_dimension"),
            version=raw.get("version"),
        )


@strawberry.type(description="One bucket of a metric series; start and end are inclusive business dates.")
class SeriesPoint:
    start: date
    end: date
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None


def series_points(raw: dict[str, Any]) -> list[SeriesPoint]:
    """The points of a query result's series."""
    return [
        SeriesPoint(
            start=day(point["start"]) or date.min,
            end=day(point["end"]) or date.max,
            value=dec(point.get("value")),
            numerator=dec(point.get("numerator")),
            denominator=dec(point.get("denominator")),
        )
        for point in raw.get("series") or []
    ]
