"""The monthly rollups always equal the daily ones, however the daily ones were written.

The ingest and `rebuild_rollups()` write both; a fix by hand to the daily rollups has the
months it touched summed again (migration 0008). These tests work on databases of their own,
straight in SQL, as an operator would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from alembic import command

from shared.database_server import drop_database, ensure_database, with_database
from shared.db import asyncpg_dsn
from shared.migrate import alembic_config, upgrade

BEFORE_MONTHLY = "0007_metrics_data_changes"

DAILY_SUMS_PER_MONTH = """
select metric, date_trunc('month', business_day::timestamp)::date, sum(total), sum(abs(total))
from metrics.daily_totals group by 1, 2 order by 1, 2
"""
MONTHLY = "select metric, month, total, magnitude from metrics.monthly_totals order by 1, 2"
DAILY_DIMENSION_SUMS_PER_MONTH = """
select metric, dimension, value, date_trunc('month', business_day::timestamp)::date, sum(total)
from metrics.daily_dimension_rollups group by 1, 2, 3, 4 order by 1, 2, 3, 4
"""
MONTHLY_DIMENSIONS = """
select metric, dimension, value, month, total from metrics.monthly_dimension_rollups order by 1, 2, 3, 4
"""


@pytest.fixture
def empty_database(admin_database_url: str) -> Iterator[str]:
    name = f"pacer_test_{uuid.uuid4().hex[:12]}"
    ensure_database(admin_database_url, name)
    try:
        yield with_database(admin_database_url, name)
    finally:
        drop_database(admin_database_url, name)


def sql(url: str, *statements: str) -> list[list[tuple[Any, ...]]]:
    """Runs the statements in one transaction; the rows of each."""

    async def run() -> list[list[tuple[Any, ...]]]:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            async with connection.transaction():
                return [[tuple(r) for r in await connection.fetch(s)] for s in statements]
        finally:
            await connection.close()

    return asyncio.run(run())


def daily_totals(rows: list[tuple[str, str, str]]) -> str:
    values = ", ".join(f"('{m}', '{day}', {total}, 1, now())" for m, day, total in rows)
    return f"insert into metrics.daily_totals values {values}"


def test_upgrading_fills_the_monthly_rollups_from_the_daily_ones_fixes_by_hand_included(
    empty_database: str,
) -> None:
    upgrade(empty_database, BEFORE_MONTHLY)
    # Daily rollups with no events behind them: what a fix by hand before the upgrade leaves.
    sql(
        empty_database,
        daily_totals(
            [("gmv", "2025-01-31", "10.50"), ("gmv", "2025-02-01", "-3"), ("gmv", "2025-02-28", "4.25")]
        ),
        "insert into metrics.daily_dimension_rollups values "
        "('gmv', 'category', 'beauty', '2025-02-01', -3, 1, now()),"
        "('gmv', 'category', 'beauty', '2025-02-28', 4.25, 1, now())",
    )

    upgrade(empty_database)

    monthly, daily = sql(empty_database, MONTHLY, DAILY_SUMS_PER_MONTH)
    assert monthly == daily
    assert [(str(month), str(total), str(magnitude)) for _, month, total, magnitude in monthly] == [
        ("2025-01-01", "10.50", "10.50"),
        ("2025-02-01", "1.25", "7.25"),
    ]
    assert (
        sql(empty_database, MONTHLY_DIMENSIONS)[0] == sql(empty_database, DAILY_DIMENSION_SUMS_PER_MONTH)[0]
    )

    # Down and up again: the same.
    command.downgrade(alembic_config(empty_database), BEFORE_MONTHLY)
    upgrade(empty_database)
    assert sql(empty_database, MONTHLY) == [monthly]


def test_a_fix_by_hand_right_after_a_rebuild_in_the_same_transaction_is_followed(
    empty_database: str,
) -> None:
    upgrade(empty_database)
    sql(
        empty_database,
        "insert into metrics.events (event_id, metric, value, occurred_at, business_day) values "
        "('e1', 'gmv', 10, '2025-01-05T02:00:00Z', '2025-01-05'),"
        "('e2', 'gmv', 5, '2025-01-06T02:00:00Z', '2025-01-06')",
    )

    sql(
        empty_database,
        "select metrics.rebuild_rollups()",
        "update metrics.daily_totals set total = total + 7 where business_day = '2025-01-05'",
    )

    monthly, daily = sql(empty_database, MONTHLY, DAILY_SUMS_PER_MONTH)
    assert [(m, str(month), str(total)) for m, month, total, _ in monthly] == [("gmv", "2025-01-01", "22")]
    assert [row[:3] for row in monthly] == [row[:3] for row in daily]


def test_a_fix_by_hand_moving_days_between_months_and_a_truncate_are_followed(empty_database: str) -> None:
    upgrade(empty_database)
    sql(empty_database, daily_totals([("gmv", "2025-03-30", "2"), ("gmv", "2025-03-31", "3")]))

    sql(empty_database, "update metrics.daily_totals set business_day = '2025-04-01' where total = 3")
    monthly, daily = sql(empty_database, MONTHLY, DAILY_SUMS_PER_MONTH)
    assert [(str(month), str(total)) for _, month, total, _ in monthly] == [
        ("2025-03-01", "2"),
        ("2025-04-01", "3"),
    ]
    assert monthly == daily

    sql(empty_database, "delete from metrics.daily_totals where business_day = '2025-03-30'")
    assert [(str(month), str(total)) for _, month, total, _ in sql(empty_database, MONTHLY)[0]] == [
        ("2025-04-01", "3")
    ]

    sql(empty_database, "truncate metrics.daily_totals")
    assert sql(empty_database, MONTHLY) == [[]]
