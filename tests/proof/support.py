"""Shared pieces of the proof tests: sizes that `make stress` scales up, problem checks,
direct database reads used as an independent witness, and a fault-tolerant event pusher."""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from shared.db import asyncpg_dsn

STRESS = os.environ.get("PACER_STRESS", "") not in ("", "0")


def scaled(default: int, stress: int) -> int:
    """The default-run size, or the long one under `make stress` (PACER_STRESS=1)."""
    return stress if STRESS else default


def assert_problem(
    response: httpx.Response, status: int | tuple[int, ...], code: str | None = None
) -> dict[str, Any]:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    if code is not None:
        assert body["code"] == code, body
    assert "Traceback" not in response.text
    return body


def fetch(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Reads the database directly: a witness independent of the service under test."""

    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


# ---- events ---------------------------------------------------------------------------------------

CHANNELS = ("app", "web", "mini")
REGIONS = ("north", "south", "east")
FIRST_DAY = date(2025, 3, 1)
DAYS = 28


@dataclass(frozen=True)
class EventSet:
    """N deterministic events of one run: ids `<run>-<i>`, one category of their own."""

    run: str
    count: int
    seed: int = 7

    @property
    def category(self) -> str:
        return f"proof-{self.run}"

    def events(self) -> list[dict[str, Any]]:
        rng = random.Random(self.seed)
        out = []
        for i in range(self.count):
            day = FIRST_DAY + timedelta(days=i % DAYS)
            # Cents and large values: exactness of the sums is part of the proof.
            value = Decimal(rng.randint(1, 9_999_999)) / 100
            clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+08:00"
            out.append(
                {
                    "event_id": f"{self.run}-{i:07d}",
                    "metric": "gmv",
                    "value": str(value),
                    "occurred_at": f"{day.isoformat()}T{clock}",
                    "dims": {
                        "category": self.category,
                        "channel": CHANNELS[i % len(CHANNELS)],
                        "region": REGIONS[(i // 3) % len(REGIONS)],
                    },
                    "source": "proof",
                }
            )
        return out

    @staticmethod
    def sums(events: list[dict[str, Any]]) -> tuple[Decimal, dict[str, Decimal], dict[str, Decimal]]:
        """(total, by channel, by business day) computed plainly from what was sent."""
        total = Decimal(0)
        by_channel: dict[str, Decimal] = defaultdict(Decimal)
        by_day: dict[str, Decimal] = defaultdict(Decimal)
        for e in events:
            value = Decimal(e["value"])
            total += value
            by_channel[e["dims"]["channel"]] += value
            by_day[e["occurred_at"][:10]] += value  # occurred_at is written in business time
        return total, dict(by_channel), dict(by_day)

    @property
    def last_day(self) -> date:
        return FIRST_DAY + timedelta(days=DAYS - 1)


def batches(
    events: list[dict[str, Any]], smallest: int, largest: int, seed: int = 11
) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    out, start = [], 0
    while start < len(events):
        size = rng.randint(smallest, largest)
        out.append(events[start : start + size])
        start += size
    return out


@dataclass
class PushLog:
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (batch size, final answer)
    attempts: int = 0
    unanswered: int = 0  # attempts that got no answer (killed mid-request, refused connection)
    server_errors: int = 0


def push_until_answered(
    client: httpx.Client,
    batch: list[dict[str, Any]],
    *,
    idempotency_key: str | None,
    deadline: float,
    log: PushLog,
    on_attempt: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """What a careful ERP client does: resend the same body until it gets an answer."""
    body = {"events": batch}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("the metrics service did not answer before the deadline")
        log.attempts += 1
        on_attempt()
        try:
            response = client.post("/v1/events", json=body, headers=headers)
        except httpx.TransportError:
            log.unanswered += 1
            time.sleep(0.05)
            continue
        if response.status_code >= 500:
            # A process dying during shutdown may still answer 503; the body is resent.
            log.server_errors += 1
            time.sleep(0.05)
            continue
        assert response.status_code == 200, response.text[:500]
        answer: dict[str, Any] = response.json()
        log.answers.append((len(batch), answer))
        return answer


class Killer(threading.Thread):
    """Kills the metrics process with SIGKILL at random moments while pushes are in flight,
    then starts it again, `times` times."""

    def __init__(
        self, restart: Callable[[], None], kill: Callable[[], None], times: int, seed: int = 3
    ) -> None:
        super().__init__(daemon=True)
        self.restart_service = restart
        self.kill_service = kill
        self.times = times
        self.rng = random.Random(seed)
        self.in_flight = threading.Event()
        self.kills = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for _ in range(self.times):
                self.in_flight.clear()
                self.in_flight.wait(timeout=30)
                time.sleep(self.rng.uniform(0.02, 0.4))
                self.kill_service()
                self.kills += 1
                time.sleep(self.rng.uniform(0.0, 0.3))
                self.restart_service()
        except BaseException as exc:  # reported by the test
            self.error = exc
