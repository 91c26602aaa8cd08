"""Tables every service keeps in its own schema with the same shape: audit trail, idempotency keys."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB


@lru_cache
def audit_table(schema: str) -> Table:
    return Table(
        "audit_log",
        MetaData(schema=schema),
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor", Text, nullable=False),
        Column("entity_type", String(40), nullable=False),
        Column("entity_id", Text, nullable=False),
        Column("action", String(40), nullable=False),
        Column("changes", JSONB, nullable=False),
        Column("request_id", Text),
    )


@lru_cache
def idempotency_table(schema: str) -> Table:
    return Table(
        "idempotency_keys",
        MetaData(schema=schema),
        Column("principal", Text, primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("method", String(10), nullable=False),
        Column("path", Text, nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer),
        Column("response", JSONB),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
