"""A push the database refuses midway changes nothing, and leaves the service able to take the
next push on the same connection.

A metrics process of its own (one worker, so one pool), started for this module: its
connections have taken no push yet, as after a restart.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from shared.stack import Stack
from tests.conftest import TEST_JWT_SECRET, Api, free_port
from tests.metrics.conftest import connection_setups, event, ingest_batches
from tests.proof.support import fetch


@pytest.fixture(scope="module")
def metrics(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(
        database_url=database_url,
        ports={name: free_port() for name in ("gateway", "targets", "metrics", "reviews")},
        log_dir=tmp_path_factory.mktemp("ingest-failures"),
        extra_env={"PACER_JWT_SECRET": TEST_JWT_SECRET, "PACER_LOG_LEVEL": "WARNING"},
        workers={"metrics": 1},
    )
    running.start(("metrics",))
    try:
        running.wait_ready(timeout=90)
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(metrics: Stack, api: Api) -> Iterator[httpx.Client]:
    """An admin's client of this module's own metrics process."""
    with httpx.Client(
        base_url=metrics.url("metrics"), headers={"Authorization": f"Bearer {api.token('admin')}"}
    ) as admin:
        yield admin


@pytest.fixture
def refused_metric(api: Api, database_url: str, unique: str) -> Iterator[str]:
    """A metric whose events the database refuses to store (a trigger raises), as a constraint
    or a full disk would refuse them: the push fails after its rows were staged."""
    key = f"refused_{unique.replace('-', '_')}"
    created = api.client("metrics", role="planner").post(
        "/v1/metrics", json={"key": key, "name": "Refused", "unit": "count", "dimensions": ["category"]}
    )
    assert created.status_code == 201, created.text
    function = f"public.refuse_{key}"
    fetch(
        database_url,
        f"create function {function}() returns trigger language plpgsql as "
        "$$ begin raise exception 'refused for the test'; end $$",
    )
    fetch(
        database_url,
        f"create trigger {key} before insert on metrics.events for each row "
        f"when (new.metric = '{key}') execute function {function}()",
    )
    try:
        yield key
    finally:
        fetch(database_url, f"drop trigger {key} on metrics.events")
        fetch(database_url, f"drop function {function}()")


@pytest.fixture
def key_refused_at_commit(database_url: str, unique: str) -> Iterator[str]:
    """An Idempotency-Key whose push fails at commit, after every statement succeeded: a deferred
    trigger on the kept answers raises, as a commit can fail when the server goes away."""
    key = f"refused-at-commit-{unique}"
    name = f"refuse_commit_{unique}"
    try:
        fetch(
            database_url,
            f"create function public.{name}() returns trigger language plpgsql as "
            "$$ begin raise exception 'refused at commit for the test'; end $$",
        )
        fetch(
            database_url,
            f"create constraint trigger {name} after update on metrics.idempotency_keys "
            f"deferrable initially deferred for each row when (new.key = '{key}') "
            f"execute function public.{name}()",
        )
        yield key
    finally:
        fetch(database_url, f"drop trigger if exists {name} on metrics.idempotency_keys")
        fetch(database_url, f"drop function if exists public.{name}()")


def test_a_push_whose_commit_fails_stores_nothing_and_is_not_counted_as_stored(
    client: httpx.Client, database_url: str, key_refused_at_commit: str, unique: str
) -> None:
    category = f"commit-{unique}"
    events = {"events": [event(f"{unique}-c", "gmv", "7", "2025-05-06T12:00:00Z", category=category)]}
    before = ingest_batches(client)
    refused = client.post(
        "/v1/events",
        json=events,
        # The service closes a connection after a 500: the next request must not reuse it.
        headers={"Idempotency-Key": key_refused_at_commit, "Connection": "close"},
    )
    assert refused.status_code == 500
    assert refused.json()["code"] == "internal_error"
    assert ingest_batches(client) == before
    assert fetch(database_url, "select 1 from metrics.event_ids where event_id = $1", f"{unique}-c") == []
    assert fetch(database_url, "select 1 from metrics.daily_rollups where category = $1", category) == []

    stored = client.post("/v1/events", json=events, headers={"Idempotency-Key": f"{key_refused_at_commit}-2"})
    assert stored.status_code == 200, stored.text
    assert stored.json()["accepted"] == 1
    after = ingest_batches(client)
    assert after == {**before, "new": before["new"] + 1}


def test_a_push_the_database_refuses_stores_nothing_and_the_next_push_is_stored(
    client: httpx.Client, database_url: str, refused_metric: str, unique: str
) -> None:
    category = f"refused-{unique}"
    setups_before = connection_setups(client)
    refused = client.post(
        "/v1/events",
        json={
            "events": [event(f"{unique}-r", refused_metric, "1", "2025-05-05T12:00:00Z", category=category)]
        },
        headers={"Connection": "close"},  # closed by the service after a 500 anyway
    )
    assert refused.status_code == 500
    assert refused.json()["code"] == "internal_error"
    assert "refused for the test" not in refused.text  # no database detail reaches a client
    for attempt in range(3):
        stored = client.post(
            "/v1/events",
            json={
                "events": [
                    event(f"{unique}-{attempt}", "gmv", "5", "2025-05-05T12:00:00Z", category=category)
                ]
            },
        )
        assert stored.status_code == 200, stored.text
        assert stored.json()["accepted"] == 1
    setups = connection_setups(client)
    # Each connection was set up when the pool handed it out, never inside a push: the rolled back
    # push could not take its staging table away (set up inside it, the table would go with it).
    assert setups["checkout"] >= 1
    assert setups["push"] == setups_before["push"]
    rows = fetch(
        database_url,
        "select event_id from metrics.event_ids where event_id like $1 order by event_id",
        f"{unique}-%",
    )
    assert [row["event_id"] for row in rows] == [f"{unique}-0", f"{unique}-1", f"{unique}-2"]
    totals = fetch(
        database_url,
        "select metric, sum(total) as total from metrics.daily_rollups where category = $1 group by metric",
        category,
    )
    assert [(row["metric"], row["total"]) for row in totals] == [("gmv", 15)]
