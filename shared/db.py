"""Async SQLAlchemy engine and a session per request (asyncpg driver)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from shared.http import json_value


def async_url(url: str) -> str:
    """Any postgres URL (postgres://, postgresql://, postgresql+psycopg://) as an asyncpg URL."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """The same URL as a plain libpq DSN, for raw asyncpg connections (COPY)."""
    parsed = make_url(async_url(url))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _plain_numerics(dbapi_connection: Any, _record: Any) -> None:
    """`numeric` read in PostgreSQL's text form: asyncpg's binary reading gives 400000 as
    Decimal('4.0E+5'), which every answer would then spell that way. The text form is the
    plain one ('400000', '0.00010'), exact all the same."""
    dbapi_connection.run_async(
        lambda connection: connection.set_type_codec(
            "numeric", schema="pg_catalog", encoder=str, decoder=Decimal, format="text"
        )
    )


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        json_deserializer=json_value,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": "pacer"}},
    )
    event.listen(engine.sync_engine, "connect", _plain_numerics)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    """Base of every ORM model; each service sets its own schema on its tables."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; the service function decides where the transaction commits."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]
