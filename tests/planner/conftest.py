"""Run the real `pacer` executable against the running test stack, and load a small demo year."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.settings import Settings
from shared.stack import Stack
from tests.conftest import TEST_JWT_SECRET, Api, fresh_database, running_stack

PACER = str(Path(sys.executable).with_name("pacer"))
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def planner_stack(admin_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A database and processes of the planner tests' own: they load a whole demo year and check
    its seasonal shape, which other tests' events would tilt (demo targets are unscoped)."""
    with (
        fresh_database(admin_database_url) as url,
        running_stack(url, tmp_path_factory.mktemp("planner-logs")) as running,
    ):
        yield running


@pytest.fixture(scope="session")
def api(planner_stack: Stack, settings: Settings) -> Iterator[Api]:
    """Overrides the suite's `api` for the tests in this folder: same helper, own stack."""
    helper = Api(planner_stack, settings)
    yield helper
    helper.close()


def stack_env(api: Api, **extra: str) -> dict[str, str]:
    """The environment a script would have: the stack's URLs and the development secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACER_")}
    env.update(
        PACER_JWT_SECRET=TEST_JWT_SECRET,
        PACER_TARGETS_URL=api.stack.url("targets"),
        PACER_METRICS_URL=api.stack.url("metrics"),
        PACER_REVIEWS_URL=api.stack.url("reviews"),
        PACER_GATEWAY_URL=api.stack.url("gateway"),
        COLUMNS="200",
    )
    env.update(extra)
    return env


def pacer(api: Api, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PACER, *args],
        capture_output=True,
        text=True,
        env=stack_env(api, **env),
        cwd=REPO,
        timeout=timeout,
    )


@dataclass(frozen=True)
class DemoPlan:
    code: str
    id: str
    first_load: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def demo_plan(api: Api) -> Iterator[DemoPlan]:
    """The small demo year (two categories, two channels), loaded once through `pacer demo`."""
    code = f"DEMO-{uuid.uuid4().hex[:6]}"
    loaded = pacer(api, "demo", "--small", "--plan-code", code, timeout=600)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    plans: list[dict[str, Any]] = (
        api.client("targets").get("/v1/plans", params={"code": code}).json()["items"]
    )
    yield DemoPlan(code=code, id=plans[0]["id"], first_load=loaded)
