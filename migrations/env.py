"""One Alembic environment; each service's tables live in their own schema."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from shared.db import create_engine

SCHEMAS = ("auth", "metrics", "targets", "reviews")


def _url() -> str:
    url = context.config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("Set DATABASE_URL (or run `pacer migrate`) to migrate.")
    return str(url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        version_table="alembic_version",
        version_table_schema="public",
        include_schemas=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url(), pool_size=1)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("Offline (SQL script) migrations are not supported; run against a database.")
asyncio.run(_run_async())
