"""The metric catalogue's table (the migration 0002_metrics creates it)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, Numeric, String, Table, Text, func
from sqlalchemy.dialects.postgresql import ARRAY

SCHEMA = "metrics"

metadata = MetaData(schema=SCHEMA)

metric_definitions = Table(
    "metric_definitions",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("unit", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("formula", Text),
    Column("direction", String(24), nullable=False),
    Column("aggregation", String(8), nullable=False),
    Column("expected_frequency_hours", Integer, nullable=False),
    Column("min_denominator", Numeric(asdecimal=True)),
    Column("value_min", Numeric(asdecimal=True)),
    Column("value_max", Numeric(asdecimal=True)),
    Column("dimensions", ARRAY(Text), nullable=False),
    Column("domain", String(64), nullable=False),
    Column("evaluation_dimension", String(16)),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
