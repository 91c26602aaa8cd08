"""Shared migration steps: every service schema carries an audit trail and idempotency keys."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB


def create_service_schema(schema: str) -> None:
    op.execute(f"create schema if not exists {schema}")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("entity_type", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("changes", JSONB, nullable=False),
        sa.Column("request_id", sa.Text),
        schema=schema,
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id", "at"], schema=schema)
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.Text, primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=schema,
    )


def drop_service_schema(schema: str) -> None:
    op.execute(f"drop schema if exists {schema} cascade")
