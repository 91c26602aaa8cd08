"""Targets: a metric, a scope, a period and a value — absolute or growth over a frozen baseline."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.targets.plans.models import SCHEMA, utcnow
from shared.db import Base


class Target(Base):
    __tablename__ = "targets"
    __table_args__ = {"schema": SCHEMA}  # noqa: RUF012 - SQLAlchemy reads it as declared

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.plans.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(f"{SCHEMA}.targets.id", ondelete="CASCADE"), nullable=True
    )
    name: Mapped[str] = mapped_column(Text)
    metric: Mapped[str] = mapped_column(String(80))
    scope_category: Mapped[str | None] = mapped_column(Text, nullable=True)
    scope_channel: Mapped[str | None] = mapped_column(Text, nullable=True)
    scope_region: Mapped[str | None] = mapped_column(Text, nullable=True)
    period: Mapped[str | None] = mapped_column(String(10), nullable=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    target_value: Mapped[Decimal] = mapped_column(Numeric)
    growth_pct: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    baseline_value: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    direction: Mapped[str] = mapped_column(String(20))
    additive: Mapped[bool] = mapped_column(Boolean)
    # The metric definition as read when the target was committed: progress needs its
    # direction, precision, minimum denominator and expected frequency without another call.
    metric_definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    department: Mapped[str | None] = mapped_column(String(60), nullable=True)
    weight: Mapped[Decimal] = mapped_column(Numeric, default=Decimal(1))
    status: Mapped[str] = mapped_column(String(20), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    decomposed_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def scope(self) -> dict[str, str | None]:
        return {"category": self.scope_category, "channel": self.scope_channel, "region": self.scope_region}

    @property
    def filters(self) -> dict[str, str]:
        return {k: v for k, v in self.scope.items() if v is not None}
