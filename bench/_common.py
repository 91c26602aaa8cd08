"""What the metrics benchmarks share: the machine, a fresh database and a running metrics service."""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from shared.auth import Role, mint_dev_token
from shared.database_server import drop_database, ensure_database, start_embedded, with_database
from shared.db import asyncpg_dsn
from shared.migrate import upgrade
from shared.settings import Settings
from shared.stack import Stack

ROOT = Path(__file__).resolve().parents[1]
JWT_SECRET = "pacer-bench-secret-0123456789abcdef0123456789"


@dataclass
class Running:
    database_url: str
    metrics_url: str
    token: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin_token() -> str:
    return mint_dev_token(Settings(jwt_secret=JWT_SECRET), subject="bench", role=Role.ADMIN)


@contextmanager
def metrics_service(
    database_url: str | None, metrics_url: str | None, token: str | None, workers: int
) -> Iterator[Running]:
    """A running metrics service: the given one, or a fresh database + our own process."""
    if metrics_url:
        if not token or not database_url:
            raise SystemExit("--url needs --token (an ingest API key or admin JWT) and DATABASE_URL.")
        yield Running(database_url, metrics_url.rstrip("/"), token)
        return
    embedded = None
    scratch = Path(tempfile.mkdtemp(prefix="pacer-bench-"))  # the server's data and the logs
    admin_url = database_url or os.environ.get("DATABASE_URL")
    if not admin_url:
        embedded = start_embedded(scratch / "pg")
        admin_url = embedded.admin_url
    name = f"pacer_bench_{uuid.uuid4().hex[:10]}"
    ensure_database(admin_url, name)
    url = with_database(admin_url, name)
    stack: Stack | None = None
    try:
        upgrade(url)
        port = free_port()
        ports = {"metrics": port, "targets": free_port(), "reviews": free_port(), "gateway": free_port()}
        stack = Stack(
            database_url=url,
            ports=ports,
            log_dir=scratch / "logs",
            # Answers computed every time: a repeated batch would otherwise come from the
            # service's cache of query answers and time nothing but a memory read.
            extra_env={
                "PACER_JWT_SECRET": JWT_SECRET,
                "PACER_LOG_LEVEL": "WARNING",
                "PACER_QUERY_CACHE_MB": "0",
            },
            workers={"metrics": workers},
        )
        stack.start(names=("metrics",))
        stack.wait_ready(timeout=90, names=("metrics",))
        yield Running(url, stack.url("metrics"), admin_token())
    finally:
        if stack is not None:
            stack.stop()
        drop_database(admin_url, name)
        if embedded is not None:
            embedded.stop()
        # An embedded server's data is hundreds of MB a run; nothing of it is kept.
        shutil.rmtree(scratch, ignore_errors=True)


async def postgres_version(database_url: str) -> str:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return str(await conn.fetchval("show server_version"))
    finally:
        await conn.close()


def machine(pg_version: str) -> str:
    ram = psutil.virtual_memory().total / 2**30
    cpu = platform.processor() or platform.machine()
    return (
        f"{os.cpu_count()} cores ({cpu}), {ram:.0f} GiB RAM, Python {platform.python_version()}, "
        f"PostgreSQL {pg_version}, {platform.system()} {platform.release()}"
    )


def write_section(heading: str, body: str) -> None:
    """Replaces (or appends) `### heading` under `## Metrics` in docs/benchmarks.md."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if "\n## Metrics\n" not in f"\n{text}":
        text = text.rstrip("\n") + "\n\n## Metrics\n\nMeasured by `bench/ingest.py` and `bench/query.py`.\n"
    block = f"### {heading}\n\n{body.strip()}\n"
    metrics_start = text.index("## Metrics\n")
    next_section = re.search(r"^## (?!Metrics)", text[metrics_start + 1 :], flags=re.M)
    metrics_end = metrics_start + 1 + next_section.start() if next_section else len(text)
    section = text[metrics_start:metrics_end]
    pattern = re.compile(rf"^### {re.escape(heading)}\n.*?(?=^### |\Z)", flags=re.M | re.S)
    section = (
        pattern.sub(block + "\n", section)
        if pattern.search(section)
        else section.rstrip("\n") + "\n\n" + block + "\n"
    )
    text = text[:metrics_start] + section.rstrip("\n") + "\n\n" + text[metrics_end:].lstrip("\n")
    path.write_text(text.rstrip("\n") + "\n")
