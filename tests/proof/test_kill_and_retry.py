"""Exactly-once ingestion under SIGKILL: a client resends every unanswered batch while the
metrics process is killed and restarted under it; afterwards each event is stored once and
every rollup equals the raw sums computed from what was sent.

`make stress` runs it with more events and more kills (PACER_STRESS=1).
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import httpx

from tests.conftest import Api
from tests.proof.conftest import DisposableMetrics
from tests.proof.support import (
    EventSet,
    Killer,
    PushLog,
    batches,
    fetch,
    push_until_answered,
    scaled,
)

EVENTS = scaled(30_000, 200_000)
KILLS = scaled(4, 12)
DEADLINE_SECONDS = scaled(50, 600)


def test_killed_and_restarted_ingestion_stores_every_event_exactly_once(
    api: Api, disposable_metrics: DisposableMetrics, ingest_key: str, database_url: str
) -> None:
    run = uuid.uuid4().hex[:10]
    events = EventSet(run, EVENTS).events()
    sent = batches(events, 1_000, 2_000)
    killer = Killer(restart=disposable_metrics.start, kill=disposable_metrics.kill, times=KILLS)
    log = PushLog()
    deadline = time.monotonic() + DEADLINE_SECONDS
    with httpx.Client(
        base_url=disposable_metrics.url,
        headers={"Authorization": f"Bearer {ingest_key}"},
        timeout=httpx.Timeout(30.0, connect=2.0),
    ) as client:
        killer.start()
        for index, batch in enumerate(sent):
            # Half the batches carry an Idempotency-Key, half rely on event_id dedup alone.
            key = f"{run}-batch-{index}" if index % 2 == 0 else None
            push_until_answered(
                client,
                batch,
                idempotency_key=key,
                deadline=deadline,
                log=log,
                on_attempt=killer.in_flight.set,
            )
        killer.join(timeout=60)
    assert killer.error is None, killer.error
    assert killer.kills == KILLS
    assert log.unanswered >= 1, "no push was ever cut off: the kills missed the traffic"

    # Every final answer covers its whole batch; nothing was rejected as a conflict.
    for size, answer in log.answers:
        assert answer["rejected"] == []
        assert answer["accepted"] + answer["duplicates"] == size
    assert len(log.answers) == len(sent)

    # The public answer, through the session stack's metrics process.
    total, by_channel, by_day = EventSet.sums(events)
    event_set = EventSet(run, EVENTS)
    window = {"start": "2025-03-01", "end": event_set.last_day.isoformat(), "metric": "gmv"}
    reader = api.client("metrics", role="viewer")
    response = reader.post(
        "/v1/query",
        json={
            "queries": [
                window | {"id": "total", "filters": {"category": event_set.category}},
                window
                | {"id": "channels", "filters": {"category": event_set.category}, "group_by": ["channel"]},
                window | {"id": "days", "filters": {"category": event_set.category}, "bucket": "day"},
            ]
        },
    )
    assert response.status_code == 200, response.text
    results = {r["id"]: r for r in response.json()["results"]}
    assert Decimal(results["total"]["value"]) == total
    assert {g["key"]["channel"]: Decimal(g["value"]) for g in results["channels"]["groups"]} == by_channel
    assert {s["start"]: Decimal(s["value"]) for s in results["days"]["series"]} == by_day

    # The database itself: N rows, 0 lost, 0 doubled, and the rollups equal the raw rows.
    rows = fetch(
        database_url,
        "select count(*) as n, count(distinct event_id) as ids, coalesce(sum(value), 0) as total "
        "from metrics.events where category = $1",
        event_set.category,
    )[0]
    assert (rows["n"], rows["ids"], rows["total"]) == (EVENTS, EVENTS, total)
    ledger = fetch(database_url, "select count(*) from metrics.event_ids where event_id like $1", f"{run}-%")
    assert ledger[0][0] == EVENTS
    rollups = fetch(
        database_url,
        "select r.business_day, r.channel, r.region, r.total, r.event_count, e.total as raw, e.n "
        "from metrics.daily_rollups r full join ("
        "  select business_day, channel, region, sum(value) as total, count(*) as n from metrics.events"
        "  where metric = 'gmv' and category = $1 group by 1, 2, 3) e using (business_day, channel, region) "
        "where r.metric = 'gmv' and r.category = $1",
        event_set.category,
    )
    assert rollups, "no rollups were written"
    mismatched = [dict(r) for r in rollups if (r["total"], r["event_count"]) != (r["raw"], r["n"])]
    assert mismatched == []
    totals = fetch(
        database_url,
        "select coalesce(sum(total), 0), coalesce(sum(event_count), 0) from metrics.daily_rollups "
        "where metric = 'gmv' and category = $1",
        event_set.category,
    )[0]
    assert (totals[0], totals[1]) == (total, EVENTS)
