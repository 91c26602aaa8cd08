"""A query's `profile`: how a range's volume is spread over its days, summarised by the service.

Seasonal pacing needs last year's total, the share done by a day, the first and last days with
volume and the weekly values; the service answers them instead of shipping every day. Each
figure must equal a plain recomputation from the accepted events.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api
from tests.metrics.conftest import event, push, query

START = date(2025, 3, 3)  # a Monday; runs of seven days count from the range's start anyway
DAYS = 24  # three full runs of seven days and a shorter fourth one, left out of `weeks`


def _day(offset: int) -> date:
    return START + timedelta(days=offset)


def _profile(reader: httpx.Client, metric: str, category: str, through: date) -> dict[str, Any]:
    (result,) = query(
        reader,
        {
            "id": "p",
            "metric": metric,
            "start": START.isoformat(),
            "end": _day(DAYS - 1).isoformat(),
            "filters": {"category": category},
            "profile": {"through": through.isoformat()},
        },
    )
    return result


def _push_days(ingest: httpx.Client, category: str, days: dict[str, dict[int, str]]) -> None:
    """days: metric → day offset → that day's value (one event at local noon)."""
    push(
        ingest,
        [
            event(
                f"{category}-{metric}-{offset}",
                metric,
                value,
                f"{_day(offset).isoformat()}T12:00:00+08:00",
                category=category,
            )
            for metric, values in days.items()
            for offset, value in values.items()
        ],
    )


def test_an_additive_profile_reports_total_done_first_and_last_days_and_weeks(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"profile-{unique}"
    _push_days(ingest, category, {"gmv": {2: "100", 5: "50", 9: "-30", 20: "25.5", 23: "4"}})

    result = _profile(reader, "gmv", category, through=_day(9))

    # The value still is the plain sum (negative days included) ...
    assert result["value"] == "149.5"
    # ... while a day's weight is never below zero: day 9's -30 weighs nothing.
    assert result["profile"] == {
        "through": _day(9).isoformat(),
        "total": "179.5",
        "done": "150",
        "first_day": _day(2).isoformat(),
        "last_day": _day(23).isoformat(),
        "weeks": ["150", "-30", "25.5"],  # days 0–6, 7–13, 14–20; days 21–23 are a shorter run
    }


def test_a_ratio_profile_weighs_each_day_by_its_denominator(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"profile-{unique}"
    _push_days(ingest, category, {"orders": {1: "3", 8: "6", 15: "1"}, "uv": {1: "10", 8: "20", 16: "40"}})

    profile = _profile(reader, "conversion_rate", category, through=_day(8))["profile"]

    assert (profile["total"], profile["done"]) == ("70", "30")
    assert (profile["first_day"], profile["last_day"]) == (_day(1).isoformat(), _day(16).isoformat())
    # Each week is the ratio of its sums, never an average of daily ratios.
    assert [Decimal(w) for w in profile["weeks"]] == [Decimal("0.3"), Decimal("0.3"), Decimal(1) / 40]


def test_a_ratio_over_an_expression_is_weighed_day_by_day(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    key = f"orders_per_visit_{unique}"
    created = api.client("metrics", role="planner").post(
        "/v1/metrics",
        json={
            "key": key,
            "name": "Orders per visit",
            "unit": "ratio",
            "kind": "derived",
            "formula": "orders / (uv - bounces)",
        },
    )
    assert created.status_code == 201, created.text
    category = f"profile-{unique}"
    # Day 4's denominator is 5 - 8 < 0: it weighs nothing.
    _push_days(
        ingest,
        category,
        {
            "orders": {0: "1", 4: "1", 12: "2"},
            "uv": {0: "10", 4: "5", 12: "30"},
            "bounces": {4: "8", 12: "10"},
        },
    )

    profile = _profile(reader, key, category, through=_day(4))["profile"]

    assert (profile["total"], profile["done"]) == ("30", "10")
    assert (profile["first_day"], profile["last_day"]) == (_day(0).isoformat(), _day(12).isoformat())


def test_a_profile_without_any_volume_weighs_nothing(reader: httpx.Client, unique: str) -> None:
    profile = _profile(reader, "gmv", f"nothing-{unique}", through=_day(3))["profile"]

    assert profile == {
        "through": _day(3).isoformat(),
        "total": "0",
        "done": "0",
        "first_day": None,
        "last_day": None,
        "weeks": ["0", "0", "0"],
    }


def test_a_grouped_query_cannot_ask_for_a_profile(reader: httpx.Client) -> None:
    response = reader.post(
        "/v1/query",
        json={
            "queries": [
                {
                    "id": "grouped",
                    "metric": "gmv",
                    "start": "2025-01-01",
                    "end": "2025-01-31",
                    "group_by": ["category"],
                    "profile": {"through": "2025-01-15"},
                }
            ]
        },
    )

    assert (response.status_code, response.json()["code"]) == (422, "invalid_profile")


day_values = st.dictionaries(
    st.integers(0, DAYS - 1), st.decimals(min_value=-50, max_value=1000, places=2), max_size=DAYS
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gmv=day_values,
    orders=day_values,
    uv=day_values,
    through=st.integers(-3, DAYS + 2),
)
def test_every_profile_figure_equals_a_recomputation_from_the_days(
    ingest: httpx.Client,
    reader: httpx.Client,
    gmv: dict[int, Decimal],
    orders: dict[int, Decimal],
    uv: dict[int, Decimal],
    through: int,
) -> None:
    category = f"profile-{uuid.uuid4().hex[:10]}"
    days = {"gmv": gmv, "orders": orders, "uv": uv}
    _push_days(ingest, category, {m: {d: str(v) for d, v in values.items()} for m, values in days.items()})

    def recomputed(weights: dict[int, Decimal], weeks: list[Decimal | None]) -> dict[str, Any]:
        weighed = sorted(d for d, w in weights.items() if w > 0)
        total = sum((w for w in weights.values() if w > 0), Decimal(0))
        done = sum((w for d, w in weights.items() if w > 0 and d <= through), Decimal(0))
        return {
            "through": _day(through).isoformat(),
            "total": total,
            "done": done,
            "first_day": _day(weighed[0]).isoformat() if weighed else None,
            "last_day": _day(weighed[-1]).isoformat() if weighed else None,
            "weeks": weeks,
        }

    def answered(metric: str) -> dict[str, Any]:
        profile = _profile(reader, metric, category, _day(through))["profile"]
        decimal = lambda text: None if text is None else Decimal(text)  # noqa: E731
        return {
            **profile,
            "total": Decimal(profile["total"]),
            "done": Decimal(profile["done"]),
            "weeks": [decimal(w) for w in profile["weeks"]],
        }

    def week_sum(values: dict[int, Decimal], week: int) -> Decimal:
        return sum((v for d, v in values.items() if week * 7 <= d < week * 7 + 7), Decimal(0))

    gmv_weeks: list[Decimal | None] = [week_sum(gmv, w) for w in range(3)]
    assert answered("gmv") == recomputed(gmv, gmv_weeks)
    conversion_weeks = [week_sum(orders, w) / week_sum(uv, w) if week_sum(uv, w) else None for w in range(3)]
    assert answered("conversion_rate") == recomputed(uv, conversion_weeks)


def test_each_week_is_what_a_query_of_that_week_answers(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"profile-{unique}"
    _push_days(
        ingest,
        category,
        {"dau": {0: "10", 3: "30", 8: "5", 9: "7"}, "mau": {0: "100", 6: "140", 7: "90", 13: "80"}},
    )
    end = _day(DAYS - 1)
    weeks = [(_day(7 * w), _day(7 * w + 6)) for w in range(3)]

    for metric in ("dau", "mau", "dau_mau"):
        profile = _profile(reader, metric, category, through=end)["profile"]
        asked = query(
            reader,
            *(
                {
                    "id": str(i),
                    "metric": metric,
                    "start": first.isoformat(),
                    "end": last.isoformat(),
                    "filters": {"category": category},
                }
                for i, (first, last) in enumerate(weeks)
            ),
        )
        assert profile["weeks"] == [result["value"] for result in asked], metric


def test_asking_for_a_profile_never_changes_the_value(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"profile-{unique}"
    # Past 28 significant digits: a sum rounded once must not become one rounded day by day.
    _push_days(ingest, category, {"gmv": {1: "1000000000000000000000000000", 2: "0.4", 3: "0.4"}})
    span = {"metric": "gmv", "start": START.isoformat(), "end": _day(DAYS - 1).isoformat()}
    plain, profiled = query(
        reader,
        {"id": "plain", **span, "filters": {"category": category}},
        {
            "id": "profiled",
            **span,
            "filters": {"category": category},
            "profile": {"through": _day(2).isoformat()},
        },
    )

    assert profiled["value"] == plain["value"]
