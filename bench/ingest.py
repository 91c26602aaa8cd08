"""Ingest benchmark: events per second pushed over HTTP, against raw COPY of the same rows.

    python bench/ingest.py                     # 300 000 events, batches of 5 000, 4 clients
    python bench/ingest.py --workers 2         # two metrics worker processes
    python bench/ingest.py --runs 10           # ten runs, each with a fresh database and service
    python bench/ingest.py --csv               # the same events pushed as text/csv
    python bench/ingest.py --url http://127.0.0.1:8002 --token pk_... # a running service (needs DATABASE_URL)

Without --url it starts its own PostgreSQL (embedded, or the server in DATABASE_URL) with a
fresh database and the metrics service as a real uvicorn process. Bodies are encoded before the
clock starts, so the figure is the service's: parse, validate, dedup, store, roll up. The same
rows are then COPYed by asyncpg into a bare table, on one connection (the reference the ingest
goal is stated against: "raw COPY 172–182 k rows/s on one connection") and on as many
connections as HTTP clients; both ratios are printed.
Finally a fresh batch and the same batch re-sent (all duplicates) are timed alone, in a few
pairs (medians). The ratio moves by several points from run to run (raw COPY alone does), so
`--runs N` repeats the whole measurement and ends with the ratio's range and median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Running, machine, metrics_service, postgres_version, write_section
from shared.db import asyncpg_dsn

SHANGHAI = ZoneInfo("Asia/Shanghai")
METRICS = ["gmv", "orders", "uv", "pv", "sessions", "bounces", "marketing_spend", "new_customers"]
CATEGORIES = ["beauty", "home", "apparel", "electronics", "food", "sports", "toys", "books"]
CHANNELS = ["app", "web", "mini_program", "marketplace"]
REGIONS = ["east", "north", "south", "west", "central", "overseas"]

Row = tuple[str, str, Decimal, datetime, date, str, str, str, str]
INGEST_GOAL = 0.40  # of raw COPY on one connection


def generate(total: int, batch_size: int, run: str) -> list[list[Row]]:
    """Batches as an ERP pushes them: each batch one business day's events."""
    rng = random.Random(7)
    batches: list[list[Row]] = []
    day = date(2024, 1, 1)
    made = 0
    while made < total:
        size = min(batch_size, total - made)
        midnight = datetime.combine(day, datetime.min.time(), SHANGHAI)
        rows: list[Row] = []
        for _ in range(size):
            at = (midnight + timedelta(seconds=rng.randrange(86_400))).astimezone(UTC)
            metric = rng.choice(METRICS)
            value = (
                Decimal(rng.randrange(1, 100_000)) / 100
                if metric in ("gmv", "marketing_spend")
                else Decimal(rng.randrange(1, 50))
            )
            rows.append(
                (
                    f"{run}-{made}",
                    metric,
                    value,
                    at,
                    day,
                    rng.choice(CATEGORIES),
                    rng.choice(CHANNELS),
                    rng.choice(REGIONS),
                    "bench",
                )
            )
            made += 1
        batches.append(rows)
        day += timedelta(days=1)
    return batches


CSV_HEADER = "event_id,metric,value,occurred_at,category,channel,region,source\n"


def body(rows: list[Row], content_type: str = "application/json") -> bytes:
    if content_type == "text/csv":
        lines = [f"{r[0]},{r[1]},{r[2]},{r[3].isoformat()},{r[5]},{r[6]},{r[7]},{r[8]}\n" for r in rows]
        return (CSV_HEADER + "".join(lines)).encode()
    events: list[dict[str, Any]] = [
        {
            "event_id": r[0],
            "metric": r[1],
            "value": str(r[2]),
            "occurred_at": r[3].isoformat(),
            "dims": {"category": r[5], "channel": r[6], "region": r[7]},
            "source": r[8],
        }
        for r in rows
    ]
    return json.dumps({"events": events}, separators=(",", ":")).encode()


async def push_all(
    url: str, token: str, bodies: list[bytes], clients: int, content_type: str = "application/json"
) -> float:
    queue = list(reversed(bodies))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}

    async def client_loop(client: httpx.AsyncClient) -> None:
        while queue:
            payload = queue.pop()
            response = await client.post(f"{url}/v1/events", content=payload, headers=headers)
            response.raise_for_status()
            answer = response.json()
            if answer["rejected"]:
                raise RuntimeError(answer["rejected"][:3])

    async with httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=clients)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        return time.perf_counter() - started


async def copy_all(database_url: str, batches: list[list[Row]], clients: int) -> float:
    dsn = asyncpg_dsn(database_url)
    setup = await asyncpg.connect(dsn)
    await setup.execute(
        """
        drop table if exists public.bench_raw_events;
        create table public.bench_raw_events (
            event_id text, metric text, value numeric, occurred_at timestamptz, business_day date,
            category text, channel text, region text, source text)
        """
    )
    await setup.close()
    connections = [await asyncpg.connect(dsn) for _ in range(clients)]
    queue = list(reversed(batches))

    async def copy_loop(conn: asyncpg.Connection) -> None:
        while queue:
            rows = queue.pop()
            await conn.copy_records_to_table("bench_raw_events", records=rows, schema_name="public")

    started = time.perf_counter()
    await asyncio.gather(*(copy_loop(c) for c in connections))
    elapsed = time.perf_counter() - started
    await connections[0].execute("drop table public.bench_raw_events")
    for conn in connections:
        await conn.close()
    return elapsed


async def timed_post(
    url: str, token: str, payload: bytes, content_type: str = "application/json"
) -> tuple[float, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    async with httpx.AsyncClient(timeout=300) as client:
        started = time.perf_counter()
        response = await client.post(f"{url}/v1/events", content=payload, headers=headers)
        elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


def main(args: argparse.Namespace) -> None:
    ratios: list[float] = []
    for number in range(1, args.runs + 1):
        with metrics_service(args.database_url, args.url, args.token, args.workers) as running:
            lines, ratio = asyncio.run(measure(args, running))
        ratios.append(ratio)
        if args.runs > 1:
            print(f"run {number} of {args.runs}:")
        print("\n".join(lines), flush=True)
    if args.runs > 1:
        below = sum(r < INGEST_GOAL for r in ratios)
        summary = (
            f"- HTTP ingest / raw COPY on 1 connection over {args.runs} runs: "
            f"{min(ratios):.1%}–{max(ratios):.1%}, median {statistics.median(ratios):.1%}, "
            f"{below} of {args.runs} under {INGEST_GOAL:.0%}"
        )
        print(summary)
        lines.append(f"{summary} (the figures above: the last run)")
    if args.write:
        command = "python bench/ingest.py " + " ".join(sys.argv[1:])
        heading = (
            f"Ingest ({args.workers} worker{'s' if args.workers > 1 else ''}{', CSV' if args.csv else ''})"
        )
        write_section(heading, f"`{command.strip()}`\n\n" + "\n".join(lines))


async def measure(args: argparse.Namespace, running: Running) -> tuple[list[str], float]:
    """The run's lines, and its ratio of HTTP ingest to raw COPY on one connection."""
    run = f"r{uuid.uuid4().hex[:10]}"  # event ids no earlier run (with --url) has used
    kind = "text/csv" if args.csv else "application/json"
    batches = generate(args.events, args.batch, run)
    bodies = [body(b, kind) for b in batches]
    megabytes = sum(len(b) for b in bodies) / 2**20
    pg = await postgres_version(running.database_url)

    # Warm-up: partitions, prepared statements, connection pools.
    warm = generate(args.batch, args.batch, f"{run}w")
    await push_all(running.metrics_url, running.token, [body(warm[0], kind)], 1, kind)

    http_seconds = await push_all(running.metrics_url, running.token, bodies, args.clients, kind)
    copy_seconds = await copy_all(running.database_url, batches, 1)
    copy_parallel_seconds = await copy_all(running.database_url, batches, args.clients)

    # A batch alone, then the same batch again (all duplicates); several pairs, each on a new
    # connection (so with several workers every worker takes part), medians reported.
    firsts: list[float] = []
    agains: list[float] = []
    for pair in range(args.pairs):
        fresh = generate(args.batch, args.batch, f"{run}f{pair}")[0]
        fresh_body = body(fresh, kind)
        first_seconds, first_answer = await timed_post(running.metrics_url, running.token, fresh_body, kind)
        again_seconds, again_answer = await timed_post(running.metrics_url, running.token, fresh_body, kind)
        assert first_answer["accepted"] == len(fresh) and again_answer["duplicates"] == len(fresh)
        firsts.append(first_seconds)
        agains.append(again_seconds)
    first_seconds, again_seconds = statistics.median(firsts), statistics.median(agains)

    http_rate = args.events / http_seconds
    copy_rate = args.events / copy_seconds
    copy_parallel_rate = args.events / copy_parallel_seconds
    lines = [
        f"- machine: {machine(pg)}",
        f"- data: {args.events:,} events in batches of {args.batch:,} ({megabytes:.1f} MiB of "
        f"{'CSV' if args.csv else 'JSON'}), "
        f"{args.clients} concurrent clients, {args.workers} metrics worker(s)",
        f"- HTTP ingest: {http_rate:,.0f} events/s ({http_seconds:.1f} s)",
        f"- raw asyncpg COPY of the same rows into a bare table, 1 connection: "
        f"{copy_rate:,.0f} rows/s ({copy_seconds:.1f} s)",
        f"- HTTP ingest / raw COPY on 1 connection (the goal's reference, goal ≥ {INGEST_GOAL:.0%}): "
        f"**{http_rate / copy_rate:.1%}**",
        f"- raw COPY on {args.clients} connections: {copy_parallel_rate:,.0f} rows/s "
        f"({copy_parallel_seconds:.1f} s); HTTP ingest / that: {http_rate / copy_parallel_rate:.0%}",
        f"- one batch of {args.batch:,} alone (median of {args.pairs}): first push "
        f"{first_seconds * 1000:.0f} ms, re-sent (all duplicates) {again_seconds * 1000:.0f} ms "
        f"({again_seconds / first_seconds:.0%} of the first)",
    ]
    return lines, http_rate / copy_rate


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the metrics service")
    parser.add_argument("--pairs", type=int, default=5, help="lone batches timed first and re-sent")
    parser.add_argument("--csv", action="store_true", help="push the batches as text/csv instead of JSON")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="whole measurements, each with a fresh database and service (with --url all share the "
        "one service and its database, so later runs push into days that already have rollups)",
    )
    parser.add_argument("--url", help="a running metrics service (default: start one)")
    parser.add_argument("--token", help="with --url: an ingest API key or an admin JWT")
    parser.add_argument("--database-url", help="server to use (default: DATABASE_URL or embedded)")
    parser.add_argument("--write", action="store_true", help="record the figures in docs/benchmarks.md")
    arguments = parser.parse_args()
    if arguments.runs < 1:
        parser.error("--runs must be at least 1")
    main(arguments)
