"""Fixtures of the proof tests: a metrics process of their own that may be killed, and keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.stack import SERVICES, Stack
from tests.conftest import Api, free_port

METRICS_SPEC = next(spec for spec in SERVICES if spec.name == "metrics")


class DisposableMetrics:
    """A second metrics process on the session database: killing it leaves the session stack alone."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    @property
    def url(self) -> str:
        return self.stack.url("metrics")

    def start(self) -> None:
        self.stack.start_service(METRICS_SPEC)
        self.stack.wait_ready(timeout=60, names=("metrics",))

    def kill(self) -> None:
        self.stack.stop_service("metrics", kill=True)

    def log(self) -> str:
        assert self.stack.log_dir is not None
        return (self.stack.log_dir / "metrics.log").read_text(errors="replace")


@pytest.fixture
def disposable_metrics(api: Api, database_url: str, tmp_path: Path) -> Iterator[DisposableMetrics]:
    session_stack = api.stack
    ports = dict(session_stack.ports) | {"metrics": free_port()}
    own = Stack(
        database_url=database_url,
        ports=ports,
        log_dir=tmp_path,
        extra_env=dict(session_stack.extra_env),
    )
    metrics = DisposableMetrics(own)
    metrics.start()
    try:
        yield metrics
    finally:
        own.stop()


def make_api_key(api: Api, scope: str, name: str) -> str:
    response = api.client("targets", role="admin").post(
        "/v1/api-keys", json={"name": name, "scopes": [scope]}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


@pytest.fixture(scope="session")
def ingest_key(api: Api) -> str:
    return make_api_key(api, "ingest", "erp-proof")
