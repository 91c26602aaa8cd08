"""Reads over whole months (read from the monthly rollups) equal a plain recomputation.

A read's whole months are summed from the monthly rollups and its partial first and last
months from the daily ones. Random events around Shanghai midnight at month ends, in random
zones, with negative values and up to four decimal places, are pushed in two batches into a
metric of the example's own (so totals without dimensions are its events alone); random
spans, and spans of whole months, are then read as totals, groups and month and quarter
series, unfiltered and by one dimension, and compared with sums recomputed here. The monthly
rollups themselves are compared with the raw events.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api
from tests.metrics.conftest import push, query
from tests.proof.support import fetch

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = [UTC, *(timezone(timedelta(minutes=m)) for m in (480, -300, 840, -660))]
# Month ends and starts of the first half of 2025, where the business-day cut decides the month.
MONTH_STARTS = [date(2025, m, 1) for m in range(1, 8)]
FIRST, LAST = date(2025, 1, 1), date(2025, 6, 30)
WHOLE_MONTH_SPANS = [
    (date(2025, 2, 1), date(2025, 2, 28)),
    (date(2025, 1, 1), date(2025, 6, 30)),
    (date(2025, 1, 15), date(2025, 4, 30)),
    (date(2025, 3, 1), date(2025, 5, 17)),
    (date(2025, 1, 31), date(2025, 3, 1)),
]


@dataclass(frozen=True)
class Drawn:
    ident: int
    month: int
    minutes_from_midnight: int
    zone: int
    value: Decimal
    category: int
    channel: int


drawn_event = st.builds(
    Drawn,
    ident=st.integers(0, 60),
    month=st.integers(0, len(MONTH_STARTS) - 1),
    # Within a day and a half of a month's first midnight, either side.
    minutes_from_midnight=st.integers(-36 * 60, 36 * 60),
    zone=st.integers(0, len(ZONES) - 1),
    value=st.integers(0, 4).flatmap(
        lambda places: st.decimals(min_value=-1000, max_value=1000, places=places)
    ),
    category=st.integers(0, 2),
    channel=st.integers(0, 1),
)
drawn_day = st.dates(min_value=FIRST, max_value=LAST)


def _instant(d: Drawn) -> datetime:
    midnight = datetime.combine(MONTH_STARTS[d.month], datetime.min.time(), SHANGHAI)
    return (midnight + timedelta(minutes=d.minutes_from_midnight)).astimezone(ZONES[d.zone])


def _months(start: date, end: date) -> list[tuple[date, date]]:
    spans = []
    first = start
    while first <= end:
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        spans.append((first, min(end, after - timedelta(days=1))))
        first = after
    return spans


def _quarters(start: date, end: date) -> list[tuple[date, date]]:
    spans = []
    first = start
    while first <= end:
        quarter_end_month = (first.month - 1) // 3 * 3 + 3
        after = date(first.year + quarter_end_month // 12, quarter_end_month % 12 + 1, 1)
        spans.append((first, min(end, after - timedelta(days=1))))
        first = after
    return spans


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.lists(drawn_event, max_size=50),
    second=st.lists(drawn_event, max_size=30),
    spans=st.lists(st.tuples(drawn_day, drawn_day).map(lambda p: (min(p), max(p))), min_size=1, max_size=3),
)
def test_reads_over_whole_months_equal_a_recomputation_from_the_events(
    api: Api,
    ingest: httpx.Client,
    reader: httpx.Client,
    database_url: str,
    first: list[Drawn],
    second: list[Drawn],
    spans: list[tuple[date, date]],
) -> None:
    prefix = uuid.uuid4().hex[:10]
    metric = f"monthly_{prefix}"
    created = api.client("metrics", role="planner").post(
        "/v1/metrics", json={"key": metric, "name": "Monthly reads", "unit": "money"}
    )
    assert created.status_code == 201, created.text
    categories = [f"{prefix}-c{i}" for i in range(3)]
    channels = [f"{prefix}-h{i}" for i in range(2)]

    def item(d: Drawn) -> dict[str, Any]:
        return {
            "event_id": f"{prefix}-{d.ident}",
            "metric": metric,
            "value": str(d.value),
            "occurred_at": _instant(d).isoformat(),
            "dims": {"category": categories[d.category], "channel": channels[d.channel]},
        }

    stored: dict[str, Drawn] = {}
    for batch in (first, second):
        for d in batch:
            stored.setdefault(f"{prefix}-{d.ident}", d)
        push(ingest, [item(d) for d in batch])

    # Plain recomputation: (business day, category, channel) → sum
    sums: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    for d in stored.values():
        day = _instant(d).astimezone(SHANGHAI).date()
        sums[day, categories[d.category], channels[d.channel]] += d.value

    def total(since: date, until: date, category: str | None = None, channel: str | None = None) -> Decimal:
        return sum(
            (
                v
                for (day, cat, chan), v in sums.items()
                if since <= day <= until and category in (None, cat) and channel in (None, chan)
            ),
            Decimal(0),
        )

    def dec(text: str | None) -> Decimal | None:
        return None if text is None else Decimal(text)

    for start, end in [*spans, *WHOLE_MONTH_SPANS]:
        span = {"metric": metric, "start": start.isoformat(), "end": end.isoformat()}
        one = {"category": categories[0]}
        everything, in_one, by_category, months, quarters, one_by_month, one_by_quarter = query(
            reader,
            {"id": "all", **span},
            {"id": "one", "filters": one, **span},
            {"id": "by-category", "group_by": ["category"], **span},
            {"id": "months", "bucket": "month", **span},
            {"id": "quarters", "bucket": "quarter", **span},
            {"id": "one-months", "bucket": "month", "filters": one, **span},
            {"id": "one-quarters", "bucket": "quarter", "filters": one, **span},
        )
        assert dec(everything["value"]) == total(start, end), (start, end)
        assert dec(in_one["value"]) == total(start, end, categories[0]), (start, end)
        present = sorted({cat for (day, cat, _) in sums if start <= day <= end})
        assert [(g["key"]["category"], dec(g["value"])) for g in by_category["groups"]] == [
            (c, total(start, end, c)) for c in present
        ], (start, end)
        for answer, pieces, category in (
            (months, _months(start, end), None),
            (quarters, _quarters(start, end), None),
            (one_by_month, _months(start, end), categories[0]),
            (one_by_quarter, _quarters(start, end), categories[0]),
        ):
            assert [(p["start"], p["end"], dec(p["value"])) for p in answer["series"]] == [
                (since.isoformat(), until.isoformat(), total(since, until, category))
                for since, until in pieces
            ], (answer["id"], start, end)

    # The monthly rollups hold the events' sums and magnitudes, month by month.
    by_month = fetch(
        database_url,
        "select month, total, magnitude from metrics.monthly_totals where metric = $1 order by month",
        metric,
    )
    raw = fetch(
        database_url,
        """select date_trunc('month', business_day::timestamp)::date, sum(value), sum(abs(value))
           from metrics.events where metric = $1 group by 1 order by 1""",
        metric,
    )
    assert [tuple(r) for r in by_month] == [tuple(r) for r in raw]
    by_dimension = fetch(
        database_url,
        """select dimension, value, month, total, magnitude from metrics.monthly_dimension_rollups
           where metric = $1 order by 1, 2, 3""",
        metric,
    )
    raw_by_dimension = fetch(
        database_url,
        """select d.dimension, d.value, date_trunc('month', e.business_day::timestamp)::date,
                  sum(e.value), sum(abs(e.value))
           from metrics.events e
           cross join lateral (values ('category', e.category), ('channel', e.channel),
                                      ('region', e.region)) as d(dimension, value)
           where e.metric = $1 group by 1, 2, 3 order by 1, 2, 3""",
        metric,
    )
    assert [tuple(r) for r in by_dimension] == [tuple(r) for r in raw_by_dimension]
