"""Every answer equals a plain recomputation from the accepted raw events.

Random events around Shanghai midnight, written in random zones, with random dimensions,
repeats and conflicting reuses of event ids, are pushed through the API in two batches; the
query answers (values, groups, day, week and month buckets, numerators and denominators) must equal sums
recomputed here in plain Python. Each example uses its own dimension values.
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

from tests.metrics.conftest import push, query

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = [UTC, *(timezone(timedelta(minutes=m)) for m in (480, -300, 330, 840, -660))]
METRICS = ["gmv", "orders", "uv", "dau"]
FIRST_DAY = date(2025, 3, 1)
START, END = date(2025, 3, 1), date(2025, 3, 4)
ACROSS = (date(2025, 2, 27), date(2025, 3, 5))


@dataclass(frozen=True)
class Drawn:
    ident: int
    metric: str
    value: Decimal
    day_offset: int
    minutes_from_midnight: int
    zone: int
    category: int
    channel: int


drawn_event = st.builds(
    Drawn,
    ident=st.integers(0, 40),
    metric=st.sampled_from(METRICS),
    value=st.decimals(min_value=0, max_value=500, places=2),
    day_offset=st.integers(-1, 5),
    minutes_from_midnight=st.integers(-90, 90),
    zone=st.integers(0, len(ZONES) - 1),
    category=st.integers(0, 2),
    channel=st.integers(0, 1),
)


def _instant(d: Drawn) -> datetime:
    local_midnight = datetime.combine(FIRST_DAY + timedelta(days=d.day_offset), datetime.min.time(), SHANGHAI)
    return (local_midnight + timedelta(minutes=d.minutes_from_midnight)).astimezone(ZONES[d.zone])


def _across_days() -> list[date]:
    return [ACROSS[0] + timedelta(days=i) for i in range((ACROSS[1] - ACROSS[0]).days + 1)]


def _days() -> list[date]:
    return [START + timedelta(days=i) for i in range((END - START).days + 1)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.lists(drawn_event, max_size=40), second=st.lists(drawn_event, max_size=20))
def test_every_answer_equals_a_recomputation_from_the_accepted_events(
    ingest: httpx.Client, reader: httpx.Client, first: list[Drawn], second: list[Drawn]
) -> None:
    prefix = uuid.uuid4().hex[:10]
    categories = [f"{prefix}-c{i}" for i in range(3)]
    channels = [f"{prefix}-h{i}" for i in range(2)]

    def item(d: Drawn) -> dict[str, Any]:
        return {
            "event_id": f"{prefix}-{d.ident}",
            "metric": d.metric,
            "value": str(d.value),
            "occurred_at": _instant(d).isoformat(),
            "dims": {"category": categories[d.category], "channel": channels[d.channel]},
        }

    # Expected outcome: the first version of an event_id is stored; a later equal one is a
    # duplicate; a later different one is a conflict.
    stored: dict[str, Drawn] = {}
    expected_accepted = expected_duplicates = expected_conflicts = 0

    def content(d: Drawn) -> tuple[Any, ...]:
        return (d.metric, d.value, _instant(d), d.category, d.channel)

    # Across the end of February (and within the first quarter, from its 27th): read month by
    # month, the pieces summed.
    across = {
        "start": ACROSS[0].isoformat(),
        "end": ACROSS[1].isoformat(),
        "filters": {"category": categories},
    }
    across_queries = (
        {"id": "across", "metric": "gmv", **across},
        {"id": "across-months", "metric": "gmv", "bucket": "month", **across},
        {"id": "across-quarter", "metric": "conversion_rate", "bucket": "quarter", **across},
        {"id": "across-dau", "metric": "dau", **across},
        {"id": "across-days", "metric": "orders", "bucket": "day", **across},
        {"id": "across-channels", "metric": "orders", "group_by": ["channel"], **across},
    )

    answers = []
    for batch in (first, second):
        for d in batch:
            key = f"{prefix}-{d.ident}"
            if key not in stored:
                stored[key] = d
                expected_accepted += 1
            elif content(stored[key]) == content(d):
                expected_duplicates += 1
            else:
                expected_conflicts += 1
        answers.append(push(ingest, [item(d) for d in batch]))
        if batch is first:
            # Read once between the pushes: the months the second push leaves alone are then
            # answered from memory (the end of this test checks the sums across months).
            query(reader, *across_queries)
    assert sum(a["accepted"] for a in answers) == expected_accepted
    assert sum(a["duplicates"] for a in answers) == expected_duplicates
    assert [r["code"] for a in answers for r in a["rejected"]] == ["conflict"] * expected_conflicts

    # Plain recomputation: metric → (business day, category, channel) → sum
    sums: dict[str, dict[tuple[date, str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for d in stored.values():
        day = _instant(d).astimezone(SHANGHAI).date()
        if START <= day <= END:
            sums[d.metric][(day, categories[d.category], channels[d.channel])] += d.value

    def total(metric: str, *, day: date | None = None, category: str | None = None) -> Decimal:
        return sum(
            (
                v
                for (k_day, k_cat, _), v in sums[metric].items()
                if (day is None or k_day == day) and (category is None or k_cat == category)
            ),
            Decimal(0),
        )

    def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
        return None if denominator == 0 else numerator / denominator

    def dec(text: str | None) -> Decimal | None:
        return None if text is None else Decimal(text)

    span = {"start": START.isoformat(), "end": END.isoformat(), "filters": {"category": categories}}
    compact = {"bucket": "day", "series_format": "compact"}
    gmv, conversion, dau, gmv_days, gmv_columns, conversion_days, conversion_columns = query(
        reader,
        {"id": "gmv", "metric": "gmv", "group_by": ["category"], **span},
        {"id": "conv", "metric": "conversion_rate", "group_by": ["category"], **span},
        {"id": "dau", "metric": "dau", **span},
        {"id": "days", "metric": "gmv", "bucket": "day", **span},
        {"id": "days-compact", "metric": "gmv", **compact, **span},
        {"id": "conv-days", "metric": "conversion_rate", "bucket": "day", **span},
        {"id": "conv-days-compact", "metric": "conversion_rate", **compact, **span},
    )

    # The compact day series carries the very strings of the points, column by column.
    for points, columns in ((gmv_days, gmv_columns), (conversion_days, conversion_columns)):
        assert columns["series"] is None
        assert points.get("series_compact") is None
        assert columns["series_compact"] == {
            "start": START.isoformat(),
            "bucket": "day",
            "values": [p["value"] for p in points["series"]],
            "numerators": [p["numerator"] for p in points["series"]],
            "denominators": [p["denominator"] for p in points["series"]],
        }
    assert [dec(v) for v in gmv_columns["series_compact"]["values"]] == [total("gmv", day=d) for d in _days()]
    conversion_compact = conversion_columns["series_compact"]
    assert [dec(n) for n in conversion_compact["numerators"]] == [total("orders", day=d) for d in _days()]
    assert [dec(n) for n in conversion_compact["denominators"]] == [total("uv", day=d) for d in _days()]

    assert dec(gmv["value"]) == total("gmv")
    present = sorted({cat for (_, cat, _) in sums["gmv"]})
    assert [(g["key"]["category"], dec(g["value"])) for g in gmv["groups"]] == [
        (c, total("gmv", category=c)) for c in present
    ]

    assert [(p["start"], dec(p["value"])) for p in gmv_days["series"]] == [
        (d.isoformat(), total("gmv", day=d)) for d in _days()
    ]

    orders, uv = total("orders"), total("uv")
    assert (dec(conversion["numerator"]), dec(conversion["denominator"])) == (orders, uv)
    assert dec(conversion["value"]) == ratio(orders, uv)
    conversion_groups = sorted({cat for metric in ("orders", "uv") for (_, cat, _) in sums[metric]})
    assert [g["key"]["category"] for g in conversion["groups"]] == conversion_groups
    for group in conversion["groups"]:
        cat = group["key"]["category"]
        group_orders, group_uv = total("orders", category=cat), total("uv", category=cat)
        assert (dec(group["numerator"]), dec(group["denominator"])) == (group_orders, group_uv)
        assert dec(group["value"]) == ratio(group_orders, group_uv)

    daily_dau = [total("dau", day=d) for d in _days() if any(k[0] == d for k in sums["dau"])]
    expected_dau = sum(daily_dau, Decimal(0)) / len(daily_dau) if daily_dau else None
    assert dec(dau["value"]) == expected_dau

    # Week and month buckets (summed per bucket in SQL) equal the sums of their days; the first
    # week is clipped to START, a Saturday. Groups and derived parts are bucketed the same way.
    gmv_weeks, gmv_months, conversion_weeks = query(
        reader,
        {"id": "weeks", "metric": "gmv", "bucket": "week", "group_by": ["category"], **span},
        {"id": "months", "metric": "gmv", "bucket": "month", **span},
        {"id": "conv-weeks", "metric": "conversion_rate", "bucket": "week", **span},
    )
    weeks = [(date(2025, 3, 1), date(2025, 3, 2)), (date(2025, 3, 3), date(2025, 3, 4))]

    def span_total(metric: str, since: date, until: date) -> Decimal:
        return sum((total(metric, day=d) for d in _days() if since <= d <= until), Decimal(0))

    assert [(p["start"], p["end"], dec(p["value"])) for p in gmv_weeks["series"]] == [
        (week_start.isoformat(), week_end.isoformat(), span_total("gmv", week_start, week_end))
        for week_start, week_end in weeks
    ]
    assert dec(gmv_weeks["value"]) == total("gmv")
    assert [g["key"]["category"] for g in gmv_weeks["groups"]] == present
    assert [(p["start"], p["end"], dec(p["value"])) for p in gmv_months["series"]] == [
        (START.isoformat(), END.isoformat(), total("gmv"))
    ]
    for point, (week_start, week_end) in zip(conversion_weeks["series"], weeks, strict=True):
        week_orders = span_total("orders", week_start, week_end)
        week_uv = span_total("uv", week_start, week_end)
        assert (dec(point["numerator"]), dec(point["denominator"])) == (week_orders, week_uv)
        assert dec(point["value"]) == ratio(week_orders, week_uv)

    # Reads on two dimensions (category and channel) and the latest event times, whatever the
    # date, under one and two filtered dimensions; a derived metric reports its oldest part.
    pair = {"category": categories[:2], "channel": channels[0]}
    pair_span = {"start": START.isoformat(), "end": END.isoformat(), "filters": pair}
    gmv_pair, gmv_pair_days, conversion_pair, gmv_one = query(
        reader,
        {"id": "pair", "metric": "gmv", "group_by": ["channel"], **pair_span},
        {"id": "pair-days", "metric": "gmv", "bucket": "day", **pair_span},
        {"id": "conv-pair", "metric": "conversion_rate", **pair_span},
        {"id": "one", "metric": "gmv", **span},
    )

    def pair_total(metric: str, day: date | None = None) -> Decimal:
        return sum(
            (
                v
                for (k_day, k_cat, k_ch), v in sums[metric].items()
                if k_cat in pair["category"] and k_ch == channels[0] and (day is None or k_day == day)
            ),
            Decimal(0),
        )

    assert dec(gmv_pair["value"]) == pair_total("gmv")
    assert [(g["key"], dec(g["value"])) for g in gmv_pair["groups"]] == (
        [({"channel": channels[0]}, pair_total("gmv"))]
        if any(k[1] in pair["category"] and k[2] == channels[0] for k in sums["gmv"])
        else []
    )
    assert [(p["start"], dec(p["value"])) for p in gmv_pair_days["series"]] == [
        (d.isoformat(), pair_total("gmv", day=d)) for d in _days()
    ]

    def latest(metric: str, categories_in: list[str], channel: str | None) -> datetime | None:
        times = [
            _instant(d)
            for d in stored.values()
            if d.metric == metric
            and categories[d.category] in categories_in
            and (channel is None or channels[d.channel] == channel)
        ]
        return max(times) if times else None

    def stamp(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text)

    assert stamp(gmv_one["last_event_at"]) == latest("gmv", categories, None)
    assert stamp(gmv_pair["last_event_at"]) == latest("gmv", categories[:2], channels[0])
    parts = [latest(m, categories[:2], channels[0]) for m in ("orders", "uv")]
    oldest = None if any(p is None for p in parts) else min(p for p in parts if p is not None)
    assert stamp(conversion_pair["last_event_at"]) == oldest

    # The span across months: every day of it, from all stored events.
    every: dict[str, dict[tuple[date, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for d in stored.values():
        day = _instant(d).astimezone(SHANGHAI).date()
        if ACROSS[0] <= day <= ACROSS[1]:
            every[d.metric][(day, channels[d.channel])] += d.value

    def across_total(metric: str, since: date = ACROSS[0], until: date = ACROSS[1]) -> Decimal:
        return sum((v for (day, _), v in every[metric].items() if since <= day <= until), Decimal(0))

    gmv_across, gmv_by_month, conversion_quarter, dau_across, orders_days, orders_channels = query(
        reader, *across_queries
    )
    assert dec(gmv_across["value"]) == across_total("gmv")
    february, march = (ACROSS[0], date(2025, 2, 28)), (date(2025, 3, 1), ACROSS[1])
    assert [(p["start"], p["end"], dec(p["value"])) for p in gmv_by_month["series"]] == [
        (since.isoformat(), until.isoformat(), across_total("gmv", since, until))
        for since, until in (february, march)
    ]
    orders_all, uv_all = across_total("orders"), across_total("uv")
    assert [
        (p["start"], p["end"], dec(p["numerator"]), dec(p["denominator"]))
        for p in conversion_quarter["series"]
    ] == [(ACROSS[0].isoformat(), ACROSS[1].isoformat(), orders_all, uv_all)]
    assert dec(conversion_quarter["value"]) == ratio(orders_all, uv_all)
    dau_daily = [
        across_total("dau", day, day) for day in _across_days() if any(k[0] == day for k in every["dau"])
    ]
    assert dec(dau_across["value"]) == (sum(dau_daily, Decimal(0)) / len(dau_daily) if dau_daily else None)
    assert [(p["start"], dec(p["value"])) for p in orders_days["series"]] == [
        (day.isoformat(), across_total("orders", day, day)) for day in _across_days()
    ]
    assert [(g["key"]["channel"], dec(g["value"])) for g in orders_channels["groups"]] == [
        (channel, sum((v for (_, c), v in every["orders"].items() if c == channel), Decimal(0)))
        for channel in sorted({channel for (_, channel) in every["orders"]})
    ]
