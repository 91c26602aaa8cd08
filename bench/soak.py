"""Sustained mixed load: ERP pushes, GraphQL dashboards and REST reads at once, for a while.

    python bench/soak.py                      # 60 s, 8 clients, at most 200 000 requests
    python bench/soak.py --seconds 300 --clients 16 --write

It starts its own PostgreSQL (embedded, or the server in DATABASE_URL) with a fresh database,
migrates it and runs the three services and the gateway as real uvicorn processes on free
loopback ports. A plan of 40 targets is built through the API, then every client loops over a
weighted mix until the time or request budget is spent:

- ingest   — `POST /v1/events`, 500 fresh events (ingest API key), every 4th batch re-sent whole;
- dashboard — one GraphQL query: the plan's targets with progress and a monthly series;
- rest     — `GET /v1/plans/{id}/targets`, `GET /v1/metrics/gmv/value`, `GET /v1/plans/{id}/tasks`.

It prints latency percentiles per kind and the error count (any non-2xx answer, any transport
error), checks that the stored events equal the accepted ones, and exits 1 on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.auth import Role, mint_dev_token
from shared.database_server import drop_database, ensure_database, start_embedded, with_database
from shared.db import asyncpg_dsn
from shared.migrate import upgrade
from shared.settings import Settings
from shared.stack import Stack

ROOT = Path(__file__).resolve().parents[1]
JWT_SECRET = "pacer-soak-secret-0123456789abcdef0123456789abc"
TARGETS = 40
AS_OF = "2025-06-30"
BATCH = 500
MIX = (("ingest", 2), ("dashboard", 1), ("rest", 3))

DASHBOARD = """
query Dashboard($id: ID!, $asOf: Date!) {
  plan(id: $id) {
    code
    targets {
      id name targetValue
      metric { key direction }
      progress(asOf: $asOf) { actual expectedToDate attainment pace forecast health stale }
      series(bucket: MONTH) { start value }
    }
  }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    accepted: int = 0
    requests: int = 0

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 10:
            self.samples.append(f"{kind}: {what[:300]}")


class Load:
    def __init__(self, urls: dict[str, str], admin: str, ingest_key: str, plan_id: str, run: str) -> None:
        self.urls = urls
        self.admin = {"Authorization": f"Bearer {admin}"}
        self.ingest = {"Authorization": f"Bearer {ingest_key}"}
        self.plan_id = plan_id
        self.run = run
        self.batches = 0
        self.tally = Tally()

    def next_batch(self, rng: random.Random) -> list[dict[str, Any]]:
        number = self.batches
        self.batches += 1
        return [
            {
                "event_id": f"{self.run}-{number}-{i}",
                "metric": ("gmv", "orders", "uv")[i % 3],
                "value": str(rng.randint(1, 99_999)),
                "occurred_at": f"2025-{1 + (number % 6):02d}-{1 + i % 28:02d}T10:00:00+08:00",
                "dims": {"category": f"c-{i % TARGETS:02d}", "channel": ("app", "web")[i % 2]},
                "source": "soak",
            }
            for i in range(BATCH)
        ]

    async def one(self, client: httpx.AsyncClient, kind: str, rng: random.Random) -> None:
        started = time.perf_counter()
        try:
            if kind == "ingest":
                batch = self.next_batch(rng)
                response = await client.post(
                    f"{self.urls['metrics']}/v1/events", json={"events": batch}, headers=self.ingest
                )
                if response.status_code == 200:
                    answer = response.json()
                    self.tally.accepted += answer["accepted"]
                    if answer["rejected"] or answer["accepted"] + answer["duplicates"] != len(batch):
                        self.tally.error(kind, f"unexpected answer {answer}")
                    if self.batches % 4 == 0:  # an ERP retrying: every event a duplicate
                        again = await client.post(
                            f"{self.urls['metrics']}/v1/events", json={"events": batch}, headers=self.ingest
                        )
                        if again.status_code != 200 or again.json()["accepted"] != 0:
                            self.tally.error(kind, f"re-sent batch stored again: {again.text}")
            elif kind == "dashboard":
                response = await client.post(
                    f"{self.urls['gateway']}/graphql",
                    json={"query": DASHBOARD, "variables": {"id": self.plan_id, "asOf": AS_OF}},
                    headers=self.admin,
                )
                if response.status_code == 200 and response.json().get("errors"):
                    self.tally.error(kind, str(response.json()["errors"]))
            else:
                path = rng.choice(
                    [
                        f"{self.urls['targets']}/v1/plans/{self.plan_id}/targets",
                        f"{self.urls['metrics']}/v1/metrics/gmv/value?start=2025-01-01&end=2025-06-30",
                        f"{self.urls['targets']}/v1/plans/{self.plan_id}/tasks?quarter=2025Q2",
                    ]
                )
                response = await client.get(path, headers=self.admin)
        except httpx.HTTPError as exc:
            self.tally.error(kind, f"{type(exc).__name__}: {exc}")
            return
        finally:
            self.tally.requests += 1
        self.tally.latencies[kind].append(time.perf_counter() - started)
        if not 200 <= response.status_code < 300:
            self.tally.error(kind, f"{response.status_code} {response.text}")

    async def client_loop(self, seed: int, deadline: float, budget: list[int]) -> None:
        rng = random.Random(seed)
        kinds = [kind for kind, weight in MIX for _ in range(weight)]
        async with httpx.AsyncClient(timeout=60.0) as client:
            while time.monotonic() < deadline and budget[0] > 0:
                budget[0] -= 1
                await self.one(client, rng.choice(kinds), rng)


def build_plan(urls: dict[str, str], admin: str) -> str:
    with httpx.Client(
        base_url=urls["targets"], headers={"Authorization": f"Bearer {admin}"}, timeout=60
    ) as c:
        response = c.post(
            "/v1/plans",
            json={
                "code": f"soak-{uuid.uuid4().hex[:8]}",
                "name": "Soak",
                "fiscal_year": 2025,
                "status": "active",
            },
        )
        response.raise_for_status()
        plan_id = str(response.json()["id"])
        for i in range(TARGETS):
            metric, value = [("gmv", "400000"), ("orders", "3000"), ("conversion_rate", "0.35")][i % 3]
            c.post(
                f"/v1/plans/{plan_id}/targets",
                json={"name": f"{metric} {i}", "metric": metric, "scope": {"category": f"c-{i:02d}"},
                      "period": "2025", "target_value": value, "department": "marketing"},
            ).raise_for_status()  # fmt: skip
        tasks = [
            {
                "title": f"Task {i}",
                "period": "2025Q2",
                "department": "operations",
                "external_ref": f"soak-{i}",
            }
            for i in range(200)
        ]
        c.post(f"/v1/plans/{plan_id}/tasks/bulk", json={"tasks": tasks}).raise_for_status()
    return plan_id


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def stored_events(database_url: str, run: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return int(
            await conn.fetchval("select count(*) from metrics.event_ids where event_id like $1", f"{run}-%")
        )
    finally:
        await conn.close()


def machine(pg_version: str) -> str:
    ram = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} cores ({platform.machine()}), {ram:.0f} GiB RAM, "
        f"Python {platform.python_version()}, PostgreSQL {pg_version}, "
        f"{platform.system()} {platform.release()}"
    )


def write_section(body: str) -> Path:
    """Replaces (or appends) the `## Sustained load` section of docs/benchmarks.md."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    intro = (
        "Measured by `bench/soak.py`: the three services and the gateway on a fresh database of its\n"
        "own, several clients at once mixing ERP pushes (with re-sent batches), GraphQL dashboards and\n"
        "REST reads for a fixed time. An error is any non-2xx answer, transport error, or a stored\n"
        "event count that differs from the accepted one; the figure that must hold is 0 errors.\n"
    )
    section = f"## Sustained load\n\n{intro}\n{body.strip()}\n"
    pattern = re.compile(r"^## Sustained load\n.*?(?=^## |\Z)", flags=re.M | re.S)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--write", action="store_true", help="write the figures into docs/benchmarks.md")
    args = parser.parse_args()

    embedded = None
    scratch = Path(tempfile.mkdtemp(prefix="pacer-soak-"))  # the server's data and the logs
    admin_url = os.environ.get("DATABASE_URL")
    if not admin_url:
        embedded = start_embedded(scratch / "pg")
        admin_url = embedded.admin_url
    name = f"pacer_soak_{uuid.uuid4().hex[:10]}"
    ensure_database(admin_url, name)
    database_url = with_database(admin_url, name)
    stack: Stack | None = None
    try:
        upgrade(database_url)
        stack = Stack(
            database_url=database_url,
            ports={n: free_port() for n in ("gateway", "targets", "metrics", "reviews")},
            log_dir=scratch / "logs",
            extra_env={"PACER_JWT_SECRET": JWT_SECRET, "PACER_LOG_LEVEL": "WARNING"},
        )
        stack.start()
        stack.wait_ready(timeout=120)
        urls = {n: stack.url(n) for n in ("gateway", "targets", "metrics", "reviews")}
        admin = mint_dev_token(Settings(jwt_secret=JWT_SECRET), subject="soak", role=Role.ADMIN)
        plan_id = build_plan(urls, admin)
        with httpx.Client(headers={"Authorization": f"Bearer {admin}"}) as c:
            key = c.post(
                f"{urls['targets']}/v1/api-keys", json={"name": "soak", "scopes": ["ingest"]}
            ).json()["key"]
        run = uuid.uuid4().hex[:8]
        load = Load(urls, admin, key, plan_id, run)
        started = time.monotonic()
        deadline = started + args.seconds
        budget = [args.max_requests]

        async def drive() -> None:
            await asyncio.gather(*(load.client_loop(i, deadline, budget) for i in range(args.clients)))

        asyncio.run(drive())
        elapsed = time.monotonic() - started
        stored = asyncio.run(stored_events(database_url, run))
        tally = load.tally
        if stored != tally.accepted:
            tally.error("ingest", f"stored {stored} events, the answers accepted {tally.accepted}")
        conn_version = asyncio.run(_pg_version(database_url))
    finally:
        if stack is not None:
            stack.stop()
        drop_database(admin_url, name)
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    total_errors = sum(tally.errors.values())
    lines = [
        f"`python bench/soak.py --seconds {args.seconds:g} --clients {args.clients}`",
        "",
        f"- machine: {machine(conn_version)}",
        f"- load: {args.clients} concurrent clients on loopback for {elapsed:.0f} s, "
        f"{tally.requests:,} requests ({tally.requests / elapsed:.0f}/s); mix ingest:dashboard:rest = "
        + ":".join(str(w) for _, w in MIX),
        f"- data: a plan of {TARGETS} targets and 200 tasks; {tally.accepted:,} events accepted in "
        f"batches of {BATCH} (every 4th batch re-sent whole), {stored:,} stored",
    ]
    for kind, _ in MIX:
        values = tally.latencies.get(kind, [])
        if values:
            p50, p95, p99 = (percentile(values, f) * 1000 for f in (0.5, 0.95, 0.99))
            lines.append(
                f"- {kind}: {len(values):,} requests, p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, "
                f"max {max(values) * 1000:.0f} ms (mean {statistics.fmean(values) * 1000:.0f} ms)"
            )
    lines.append(f"- errors: {total_errors}" + (f" ({dict(tally.errors)})" if total_errors else ""))
    report = "\n".join(lines)
    print(report)
    for sample in tally.samples:
        print("  ", sample)
    if args.write:
        print(f"written to {write_section(report)}")
    sys.exit(1 if total_errors else 0)


async def _pg_version(database_url: str) -> str:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return str(await conn.fetchval("show server_version"))
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
