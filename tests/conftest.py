"""One real PostgreSQL and one running Pacer stack for the whole test session.

Without DATABASE_URL an embedded PostgreSQL is started in a temporary directory; with it, the
given server is used. Either way a fresh database is created for the run and dropped after it.
The three services and the gateway run as real uvicorn processes on free ports, exactly as
`pacer run` starts them; tests speak to them over HTTP only.

Tests share the database, so each test builds its own data with unique names (plan codes,
metric dimension values) instead of relying on a clean slate.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth import Role, mint_dev_token
from shared.database_server import drop_database, ensure_database, start_embedded, with_database
from shared.migrate import upgrade
from shared.settings import Settings
from shared.stack import Stack

TEST_JWT_SECRET = "pacer-test-secret-0123456789abcdef0123456789"
BODY_READ_TIMEOUT_SECONDS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def admin_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    embedded = start_embedded(tmp_path_factory.mktemp("pg") / "data")
    try:
        yield embedded.admin_url
    finally:
        embedded.stop()


@contextmanager
def fresh_database(admin_database_url: str) -> Iterator[str]:
    """A new, migrated database on the server, dropped afterwards."""
    name = f"pacer_test_{uuid.uuid4().hex[:12]}"
    ensure_database(admin_database_url, name)
    url = with_database(admin_database_url, name)
    try:
        upgrade(url)
        yield url
    finally:
        drop_database(admin_database_url, name)


@pytest.fixture(scope="session")
def database_url(admin_database_url: str) -> Iterator[str]:
    with fresh_database(admin_database_url) as url:
        yield url


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(jwt_secret=TEST_JWT_SECRET, database_url=None)


@contextmanager
def running_stack(database_url: str, log_dir: Path) -> Iterator[Stack]:
    """The three services and the gateway on free ports, as `pacer run` starts them — but the
    metrics service with one worker: tests count what a process kept in memory
    (tests/metrics/test_workers.py runs it with several)."""
    ports = {name: free_port() for name in ("gateway", "targets", "metrics", "reviews")}
    running = Stack(
        database_url=database_url,
        ports=ports,
        log_dir=log_dir,
        extra_env={
            "PACER_JWT_SECRET": TEST_JWT_SECRET,
            "PACER_ENVIRONMENT": "development",
            "PACER_LOG_LEVEL": "INFO",
            "PACER_HTTP_TIMEOUT_SECONDS": "10",
            "PACER_BODY_READ_TIMEOUT_SECONDS": str(BODY_READ_TIMEOUT_SECONDS),
        },
    )
    running.start()
    try:
        running.wait_ready(timeout=90)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(database_url, tmp_path_factory.mktemp("logs")) as running:
        yield running


class Api:
    """Makes authenticated HTTP clients for the running services."""

    def __init__(self, stack: Stack, settings: Settings) -> None:
        self.stack = stack
        self.settings = settings
        self._clients: list[httpx.Client] = []

    def token(self, role: str = "planner", department: str | None = None, subject: str | None = None) -> str:
        return mint_dev_token(
            self.settings,
            subject=subject or f"test-{role}",
            role=Role(role),
            department=department or ("operations" if role == "member" else None),
        )

    def client(
        self,
        service: str,
        role: str | None = "planner",
        department: str | None = None,
        *,
        token: str | None = None,
    ) -> httpx.Client:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif role is not None:
            headers["Authorization"] = f"Bearer {self.token(role, department)}"
        client = httpx.Client(base_url=self.stack.url(service), headers=headers, timeout=60.0)
        self._clients.append(client)
        return client

    def log(self, service: str) -> str:
        running = self.stack.running[service]
        assert running.log_path is not None
        return Path(running.log_path).read_text()

    def close(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture(scope="session")
def api(stack: Stack, settings: Settings) -> Iterator[Api]:
    helper = Api(stack, settings)
    yield helper
    helper.close()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names this test creates."""
    return uuid.uuid4().hex[:8]


def every_item(client: httpx.Client, path: str, page_size: int = 50, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged list, read page by page through its cursors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = client.get(
            path, params=params | {"limit": page_size} | ({"cursor": cursor} if cursor else {})
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
