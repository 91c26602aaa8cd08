"""Query benchmark: a batch of 200 progress-style queries over millions of events.

    python bench/query.py                    # 5 000 000 events, 30 timed batches
    python bench/query.py --events 500000    # a quick run

Starts its own PostgreSQL (embedded, or the server in DATABASE_URL) with a fresh database and
the metrics service as a real process, generates two years of events inside PostgreSQL
(set-based SQL into the same tables the ingest API writes, rollups built from the raw rows),
then times `POST /v1/query` with 200 queries: base and derived metrics, filters, grouping,
non-additive metrics and day-bucketed profiles of last year. Its metrics process keeps no
answers (PACER_QUERY_CACHE_MB=0), so every timed batch is computed; against a running service
(--url), start it with PACER_QUERY_CACHE_MB=0 for the same meaning.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Running, machine, metrics_service, postgres_version, write_section
from shared.db import asyncpg_dsn

METRICS = [
    "gmv", "orders", "uv", "sessions", "bounces", "returned_orders", "marketing_spend", "new_customers",
    "dau", "mau",
]  # fmt: skip
CATEGORIES = ["beauty", "home", "apparel", "electronics", "food", "sports", "toys", "books"]
CHANNELS = ["app", "web", "mini_program", "marketplace"]
REGIONS = ["east", "north", "south", "west", "central", "overseas"]
CHUNK = 1_000_000

_GENERATE = """
insert into metrics.events
    (event_id, metric, value, occurred_at, business_day, category, channel, region, source)
select 'bench-' || g,
       m.metrics[1 + (g % array_length(m.metrics, 1))],
       round((random() * 500)::numeric, 2),
       t.at,
       (t.at at time zone 'Asia/Shanghai')::date,
       m.categories[1 + (random() * 7)::int],
       m.channels[1 + (random() * 3)::int],
       m.regions[1 + (random() * 5)::int],
       'bench'
from generate_series($1::bigint, $2::bigint) as g
cross join (select $3::text[] as metrics, $4::text[] as categories, $5::text[] as channels,
                   $6::text[] as regions) as m
cross join lateral (
    -- (g * 0) ties the draw to each row, so random() runs once per event
    select timestamptz '2023-12-31 16:00:00+00' + random() * interval '731 days' + (g * 0) * interval '1 s'
        as at
) as t
"""

_ROLLUPS = [
    "insert into metrics.event_ids (event_id, content_hash) "
    "select event_id, decode(md5(event_id), 'hex') from metrics.events",
    "select metrics.rebuild_rollups()",
    "vacuum analyze metrics.daily_rollups",
    "vacuum analyze metrics.daily_totals",
    "vacuum analyze metrics.daily_dimension_rollups",
]


async def load(database_url: str, events: int) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        for year in (2023, 2024, 2025, 2026):
            for month in range(1, 13):
                start = date(year, month, 1)
                end = date(year + month // 12, month % 12 + 1, 1)
                await conn.execute(
                    f"create table if not exists metrics.events_{year}_{month:02d} "
                    f"partition of metrics.events for values from ('{start}') to ('{end}')"
                )
        for first in range(1, events + 1, CHUNK):
            last = min(first + CHUNK - 1, events)
            await conn.execute(_GENERATE, first, last, METRICS, CATEGORIES, CHANNELS, REGIONS)
        for statement in _ROLLUPS:
            await conn.execute(statement)
        return {
            "events": int(await conn.fetchval("select count(*) from metrics.events")),
            "daily_rollups": int(await conn.fetchval("select count(*) from metrics.daily_rollups")),
        }
    finally:
        await conn.close()


def batch() -> list[dict[str, Any]]:
    """200 queries shaped like a progress dashboard of a plan's targets."""
    quarters = [("2025-01-01", "2025-03-31"), ("2025-04-01", "2025-06-30"), ("2025-07-01", "2025-09-30")]
    to_date = ("2025-01-01", "2025-06-30")
    queries: list[dict[str, Any]] = []

    def add(metric: str, span: tuple[str, str], **extra: Any) -> None:
        queries.append(
            {"id": f"q{len(queries)}", "metric": metric, "start": span[0], "end": span[1], **extra}
        )

    for category in CATEGORIES:  # 40: GMV and orders targets per category
        for span in (*quarters, to_date):
            add("gmv", span, filters={"category": category})
        add("orders", to_date, filters={"category": category})
    for channel in CHANNELS:  # 24: orders and GMV per channel
        for span in quarters:
            add("orders", span, filters={"channel": channel})
            add("gmv", span, filters={"channel": channel})
    for category in CATEGORIES:  # 40: rate targets per category
        for metric in ("conversion_rate", "aov", "return_rate", "bounce_rate", "cac"):
            add(metric, to_date, filters={"category": category})
    for metric in (
        "gmv",
        "orders",
        "uv",
        "conversion_rate",
        "aov",
        "return_rate",
        "cac",
        "bounce_rate",
    ):  # 16
        add(metric, quarters[1])
        add(metric, to_date)
    for category in CATEGORIES:  # 24: last year's daily profile for seasonal pacing
        add("gmv", ("2024-01-01", "2024-12-31"), filters={"category": category}, bucket="day")
        add("orders", ("2024-04-01", "2024-06-30"), filters={"category": category}, bucket="day")
        add(
            "gmv",
            ("2024-01-01", "2024-06-30"),
            filters={"category": category, "channel": ["app", "web"]},
            bucket="day",
        )
    for metric in ("gmv", "orders", "uv", "conversion_rate"):  # 8: unfiltered profiles
        add(metric, ("2024-01-01", "2024-12-31"), bucket="day")
        add(metric, ("2024-04-01", "2024-06-30"), bucket="week")
    for region in REGIONS:  # 24: non-additive and region targets
        add("dau", quarters[1], filters={"region": region})
        add("mau", quarters[1], filters={"region": region})
        add("dau_mau", quarters[1], filters={"region": region})
        add("gmv", to_date, filters={"region": region}, group_by=["category"])
    for metric in (
        "gmv",
        "conversion_rate",
        "aov",
        "return_rate",
        "orders",
        "cac",
        "uv",
        "bounce_rate",
    ):  # 24
        add(metric, to_date, group_by=["category"])
        add(metric, quarters[1], group_by=["channel"])
        add(metric, quarters[0], bucket="month", filters={"region": "east"})
    assert len(queries) == 200, len(queries)
    return queries


async def time_batches(running: Running, runs: int) -> list[float]:
    payload = json.dumps({"queries": batch()}).encode()
    headers = {"Authorization": f"Bearer {running.token}", "Content-Type": "application/json"}
    timings: list[float] = []
    async with httpx.AsyncClient(base_url=running.metrics_url, timeout=120) as client:
        for attempt in range(runs + 3):
            started = time.perf_counter()
            response = await client.post("/v1/query", content=payload, headers=headers)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if attempt >= 3:  # the first ones warm caches and prepared statements
                timings.append(elapsed)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(args: argparse.Namespace) -> None:
    with metrics_service(args.database_url, args.url, args.token, args.workers) as running:
        pg = asyncio.run(postgres_version(running.database_url))
        started = time.perf_counter()
        sizes = asyncio.run(load(running.database_url, args.events)) if not args.url else {}
        load_seconds = time.perf_counter() - started
        timings = asyncio.run(time_batches(running, args.runs))
    lines = [
        f"- machine: {machine(pg)}",
        f"- data: {sizes.get('events', 0):,} events over 2024–2025 "
        f"({sizes.get('daily_rollups', 0):,} daily rollup rows), {len(METRICS)} metrics × "
        f"{len(CATEGORIES)} categories × {len(CHANNELS)} channels × {len(REGIONS)} regions; "
        f"loaded in {load_seconds:.0f} s",
        f"- batch: 200 queries (base and derived metrics, filters, grouping, avg/last metrics, "
        f"40 day- or week-bucketed profiles), {args.runs} timed runs after 3 warm-ups",
        f"- latency of one batch: p50 {statistics.median(timings) * 1000:.0f} ms, "
        f"p95 {percentile(timings, 0.95) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms",
    ]
    print("\n".join(lines))
    if args.write:
        command = "python bench/query.py " + " ".join(sys.argv[1:])
        write_section("Query batch", f"`{command.strip()}`\n\n" + "\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--url", help="a running metrics service with data (default: start one and load data)"
    )
    parser.add_argument("--token", help="with --url: a JWT or API key that may read")
    parser.add_argument("--database-url", help="server to use (default: DATABASE_URL or embedded)")
    parser.add_argument("--write", action="store_true", help="record the figures in docs/benchmarks.md")
    main(parser.parse_args())
