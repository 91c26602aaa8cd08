"""Conversions from the services' JSON (decimals as strings, ISO dates) to GraphQL values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry


def dec(value: Any) -> Decimal | None:
    """A JSON decimal (a string, or a number parsed exactly) as Decimal; never through float."""
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def ids(values: Any) -> list[strawberry.ID]:
    return [strawberry.ID(str(v)) for v in (values or [])]


def opt_id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


def text(value: Any) -> str | None:
    return None if value is None else str(value)


@strawberry.type(description="Filters on the metric dimensions; an absent dimension means all of it.")
class Scope:
    category: str | None = None
    channel: str | None = None
    region: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> Scope:
        raw = raw or {}
        return cls(category=raw.get("category"), channel=raw.get("channel"), region=raw.get("region"))

    def filters(self) -> dict[str, str]:
        return {
            name: value
            for name, value in (
                ("category", self.category),
                ("channel", self.channel),
                ("region", self.region),
            )
            if value is not None
        }


@strawberry.input(description="Filters on the metric dimensions; leave a dimension out to mean all of it.")
class ScopeInput:
    category: str | None = None
    channel: str | None = None
    region: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"category": self.category, "channel": self.channel, "region": self.region}
