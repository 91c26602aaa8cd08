"""Queries: business days cut in the business time zone, ratios of sums, aggregations, buckets."""

from __future__ import annotations

import httpx

from tests.conftest import Api
from tests.metrics.conftest import cache_results, event, push, query


def test_an_event_at_17h_utc_belongs_to_the_next_shanghai_day(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"cut-{unique}"
    push(
        ingest,
        [
            event(f"{unique}-1", "gmv", "7", "2025-06-18T17:00:00Z", category=category),
            event(f"{unique}-2", "gmv", "3", "2025-06-18T15:59:59Z", category=category),
        ],
    )
    filters = {"category": category}
    results = query(
        reader,
        {"id": "d18", "metric": "gmv", "start": "2025-06-18", "end": "2025-06-18", "filters": filters},
        {"id": "d19", "metric": "gmv", "start": "2025-06-19", "end": "2025-06-19", "filters": filters},
    )
    assert [r["value"] for r in results] == ["3", "7"]


def test_a_derived_metric_is_the_ratio_of_sums_not_the_average_of_daily_ratios(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"ratio-{unique}"
    push(
        ingest,
        [
            event(f"{unique}-o1", "orders", 1, "2025-02-01T12:00:00+08:00", category=category),
            event(f"{unique}-u1", "uv", 10, "2025-02-01T12:00:00+08:00", category=category),
            event(f"{unique}-o2", "orders", 90, "2025-02-02T12:00:00+08:00", category=category),
            event(f"{unique}-u2", "uv", 100, "2025-02-02T12:00:00+08:00", category=category),
        ],
    )
    result = query(
        reader,
        {
            "id": "q",
            "metric": "conversion_rate",
            "start": "2025-02-01",
            "end": "2025-02-02",
            "filters": {"category": category},
        },
    )[0]
    # (1 + 90) / (10 + 100), not (0.1 + 0.9) / 2
    assert (result["numerator"], result["denominator"]) == ("91", "110")
    assert result["value"] == "0.8272727272727272727272727273"


def test_nps_splits_into_its_scaled_numerator_and_its_denominator(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"nps-{unique}"
    at = "2025-02-01T12:00:00Z"
    push(
        ingest,
        [
            event(f"{unique}-p", "promoters", 50, at, category=category),
            event(f"{unique}-d", "detractors", 20, at, category=category),
            event(f"{unique}-n", "nps_responses", 120, at, category=category),
        ],
    )
    result = query(
        reader,
        {
            "id": "q",
            "metric": "nps",
            "start": "2025-02-01",
            "end": "2025-02-01",
            "filters": {"category": category},
        },
    )[0]
    assert (result["value"], result["numerator"], result["denominator"]) == ("25", "3000", "120")


def test_a_zero_denominator_gives_a_null_value(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"zero-{unique}"
    push(ingest, [event(f"{unique}-1", "gmv", "10", "2025-02-01T12:00:00Z", category=category)])
    result = query(
        reader,
        {
            "id": "q",
            "metric": "aov",
            "start": "2025-02-01",
            "end": "2025-02-28",
            "filters": {"category": category},
        },
    )[0]
    assert (result["value"], result["numerator"], result["denominator"]) == (None, "10", "0")


def test_a_base_metric_without_events_is_zero(reader: httpx.Client, unique: str) -> None:
    result = query(
        reader,
        {
            "id": "q",
            "metric": "gmv",
            "start": "2025-02-01",
            "end": "2025-02-28",
            "filters": {"category": f"none-{unique}"},
        },
    )[0]
    assert (result["value"], result["last_event_at"]) == ("0", None)


def test_non_additive_metrics_aggregate_their_daily_values(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    planner = api.client("metrics", role="planner")
    for aggregation in ("max", "min"):
        response = planner.post(
            "/v1/metrics",
            json={
                "key": f"peak_{aggregation}_{unique}",
                "name": "Peak",
                "unit": "count",
                "aggregation": aggregation,
            },
        )
        assert response.status_code == 201
    category = f"dau-{unique}"
    days = {"2025-03-03": ("100", "40"), "2025-03-04": ("200", "60"), "2025-03-06": ("300", "20")}
    events = []
    for day, (first, second) in days.items():
        for metric in ("dau", "mau", f"peak_max_{unique}", f"peak_min_{unique}"):
            # Two events on one day and scope add up to that day's value.
            events.append(
                event(f"{unique}-{metric}-{day}-a", metric, first, f"{day}T10:00:00+08:00", category=category)
            )
            events.append(
                event(
                    f"{unique}-{metric}-{day}-b", metric, second, f"{day}T11:00:00+08:00", category=category
                )
            )
    push(ingest, events)
    filters = {"category": category}
    span = {"start": "2025-03-01", "end": "2025-03-31", "filters": filters}
    results = {
        r["id"]: r
        for r in query(
            reader,
            {"id": "dau", "metric": "dau", **span},
            {"id": "mau", "metric": "mau", **span},
            {"id": "max", "metric": f"peak_max_{unique}", **span},
            {"id": "min", "metric": f"peak_min_{unique}", **span},
            {"id": "ratio", "metric": "dau_mau", **span},
            {"id": "empty", "metric": "dau", "start": "2025-04-01", "end": "2025-04-30", "filters": filters},
        )
    }
    # daily values 140, 260, 320
    assert results["dau"]["value"] == "240"
    assert results["mau"]["value"] == "320"
    assert results["max"]["value"] == "320"
    assert results["min"]["value"] == "140"
    assert (results["ratio"]["numerator"], results["ratio"]["denominator"], results["ratio"]["value"]) == (
        "240",
        "320",
        "0.75",
    )
    assert results["empty"]["value"] is None


def test_group_by_splits_by_dimension_values_and_filters_accept_lists(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    a, b, c = f"a-{unique}", f"b-{unique}", f"c-{unique}"
    at = "2025-08-08T12:00:00Z"
    push(
        ingest,
        [
            event(f"{unique}-1", "gmv", "10", at, category=a, channel="app"),
            event(f"{unique}-2", "gmv", "20", at, category=a, channel="web"),
            event(f"{unique}-3", "gmv", "30", at, category=b, channel="app"),
            event(f"{unique}-4", "gmv", "40", at, category=c, channel="app"),
        ],
    )
    result = query(
        reader,
        {
            "id": "q",
            "metric": "gmv",
            "start": "2025-08-08",
            "end": "2025-08-08",
            "filters": {"category": [a, b]},
            "group_by": ["category", "channel"],
        },
    )[0]
    assert result["value"] == "60"
    assert [(g["key"], g["value"]) for g in result["groups"]] == [
        ({"category": a, "channel": "app"}, "10"),
        ({"category": a, "channel": "web"}, "20"),
        ({"category": b, "channel": "app"}, "30"),
    ]
    app_only = query(
        reader,
        {
            "id": "q",
            "metric": "gmv",
            "start": "2025-08-08",
            "end": "2025-08-08",
            "filters": {"category": [a, b, c], "channel": "app"},
        },
    )[0]
    assert app_only["value"] == "80"


def test_a_grouped_derived_metric_reports_each_groups_ratio(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    a, b = f"a-{unique}", f"b-{unique}"
    at = "2025-08-08T12:00:00Z"
    push(
        ingest,
        [
            event(f"{unique}-1", "returned_orders", 1, at, category=a),
            event(f"{unique}-2", "orders", 4, at, category=a),
            event(f"{unique}-3", "orders", 5, at, category=b),
        ],
    )
    result = query(
        reader,
        {
            "id": "q",
            "metric": "return_rate",
            "start": "2025-08-01",
            "end": "2025-08-31",
            "filters": {"category": [a, b]},
            "group_by": ["category"],
        },
    )[0]
    assert (result["numerator"], result["denominator"], result["value"]) == (
        "1",
        "9",
        "0.1111111111111111111111111111",
    )
    assert [
        (g["key"]["category"], g["value"], g["numerator"], g["denominator"]) for g in result["groups"]
    ] == [
        (a, "0.25", "1", "4"),
        (b, "0", "0", "5"),
    ]


def test_series_list_every_bucket_including_empty_ones(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"series-{unique}"
    push(
        ingest,
        [
            event(f"{unique}-1", "gmv", "5", "2025-01-01T12:00:00+08:00", category=category),
            event(f"{unique}-2", "gmv", "6", "2025-01-14T12:00:00+08:00", category=category),
            event(f"{unique}-3", "orders", 2, "2025-01-14T12:00:00+08:00", category=category),
        ],
    )
    filters = {"category": category}
    weeks, days, months, quarters, derived = query(
        reader,
        {
            "id": "w",
            "metric": "gmv",
            "start": "2025-01-01",
            "end": "2025-01-20",
            "filters": filters,
            "bucket": "week",
        },
        {
            "id": "d",
            "metric": "gmv",
            "start": "2025-01-13",
            "end": "2025-01-15",
            "filters": filters,
            "bucket": "day",
        },
        {
            "id": "m",
            "metric": "gmv",
            "start": "2024-12-15",
            "end": "2025-02-10",
            "filters": filters,
            "bucket": "month",
        },
        {
            "id": "q",
            "metric": "gmv",
            "start": "2024-11-01",
            "end": "2025-04-30",
            "filters": filters,
            "bucket": "quarter",
        },
        {
            "id": "a",
            "metric": "aov",
            "start": "2025-01-01",
            "end": "2025-01-20",
            "filters": filters,
            "bucket": "week",
        },
    )
    # ISO weeks start on Monday: 2025-01-01 is a Wednesday.
    assert [(p["start"], p["end"], p["value"]) for p in weeks["series"]] == [
        ("2025-01-01", "2025-01-05", "5"),
        ("2025-01-06", "2025-01-12", "0"),
        ("2025-01-13", "2025-01-19", "6"),
        ("2025-01-20", "2025-01-20", "0"),
    ]
    assert weeks["value"] == "11"
    assert [(p["start"], p["value"]) for p in days["series"]] == [
        ("2025-01-13", "0"),
        ("2025-01-14", "6"),
        ("2025-01-15", "0"),
    ]
    assert [(p["start"], p["end"], p["value"]) for p in months["series"]] == [
        ("2024-12-15", "2024-12-31", "0"),
        ("2025-01-01", "2025-01-31", "11"),
        ("2025-02-01", "2025-02-10", "0"),
    ]
    assert [(p["start"], p["end"], p["value"]) for p in quarters["series"]] == [
        ("2024-11-01", "2024-12-31", "0"),
        ("2025-01-01", "2025-03-31", "11"),
        ("2025-04-01", "2025-04-30", "0"),
    ]
    assert [(p["value"], p["numerator"], p["denominator"]) for p in derived["series"]] == [
        (None, "5", "0"),
        (None, "0", "0"),
        ("3", "6", "2"),
        (None, "0", "0"),
    ]


def test_last_event_at_is_the_latest_event_and_for_a_derived_metric_the_oldest_part(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"fresh-{unique}"
    push(
        ingest,
        [
            event(f"{unique}-1", "orders", 1, "2025-01-10T08:00:00Z", category=category),
            event(f"{unique}-2", "orders", 1, "2025-03-10T08:00:00Z", category=category),
            event(f"{unique}-3", "uv", 9, "2025-02-10T08:00:00Z", category=category),
        ],
    )
    filters = {"category": category}
    orders, conversion, returns = query(
        reader,
        # any date counts, not only the queried range
        {"id": "o", "metric": "orders", "start": "2025-01-01", "end": "2025-01-31", "filters": filters},
        {
            "id": "c",
            "metric": "conversion_rate",
            "start": "2025-01-01",
            "end": "2025-01-31",
            "filters": filters,
        },
        {"id": "r", "metric": "return_rate", "start": "2025-01-01", "end": "2025-01-31", "filters": filters},
    )
    assert orders["last_event_at"] == "2025-03-10T08:00:00+00:00"
    assert conversion["last_event_at"] == "2025-02-10T08:00:00+00:00"
    assert returns["last_event_at"] is None  # returned_orders never arrived


def test_a_query_without_last_event_answers_the_same_numbers_and_no_event_time(
    api: Api, ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"timeless-{unique}"
    push(
        ingest,
        [
            event(f"{unique}-1", "orders", 2, "2025-01-10T08:00:00Z", category=category),
            event(f"{unique}-2", "uv", 8, "2025-01-11T08:00:00Z", category=category),
        ],
    )
    asked = {
        "metric": "conversion_rate",
        "start": "2025-01-01",
        "end": "2025-01-31",
        "filters": {"category": category},
        "bucket": "week",
    }
    with_time, without_time = query(
        reader, {"id": "with", **asked}, {"id": "without", **asked, "last_event": False}
    )
    before = cache_results(api, "query")
    # Another batch of the same queries: each answered from the service's memory (one kept
    # answer serves both, the event time being no part of it), the time read for one only.
    without_time_again, with_time_again = query(
        reader, {"id": "without-again", **asked, "last_event": False}, {"id": "with-again", **asked}
    )
    assert cache_results(api, "query")["hit"] - before["hit"] == 2
    assert with_time["last_event_at"] == with_time_again["last_event_at"] == "2025-01-10T08:00:00+00:00"
    assert without_time["last_event_at"] is None
    assert without_time_again["last_event_at"] is None
    for answer in (without_time, without_time_again, with_time_again):
        assert {k: v for k, v in answer.items() if k not in ("id", "last_event_at")} == {
            k: v for k, v in with_time.items() if k not in ("id", "last_event_at")
        }
    assert with_time["value"] == "0.25"


def test_an_unknown_metric_refuses_the_batch_naming_the_query(reader: httpx.Client) -> None:
    response = reader.post(
        "/v1/query",
        json={
            "queries": [
                {"id": "fine", "metric": "gmv", "start": "2025-01-01", "end": "2025-01-31"},
                {"id": "broken", "metric": "no_such_metric", "start": "2025-01-01", "end": "2025-01-31"},
            ]
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_metric"
    assert response.json()["query_id"] == "broken"


def test_a_range_ending_before_it_starts_is_refused(reader: httpx.Client) -> None:
    response = reader.post(
        "/v1/query",
        json={"queries": [{"id": "q", "metric": "gmv", "start": "2025-02-01", "end": "2025-01-01"}]},
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_range")


def test_a_compact_series_is_refused_for_buckets_other_than_days(reader: httpx.Client) -> None:
    response = reader.post(
        "/v1/query",
        json={
            "queries": [
                {
                    "id": "months",
                    "metric": "gmv",
                    "start": "2025-01-01",
                    "end": "2025-03-31",
                    "bucket": "month",
                    "series_format": "compact",
                }
            ]
        },
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_series_format")
    assert response.json()["query_id"] == "months"


def test_value_and_series_routes_answer_like_the_batch(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"human-{unique}"
    push(
        ingest,
        [
            event(f"{unique}-1", "gmv", "5", "2025-01-01T12:00:00+08:00", category=category, channel="app"),
            event(f"{unique}-2", "gmv", "6", "2025-01-02T12:00:00+08:00", category=category, channel="web"),
        ],
    )
    value = reader.get(
        "/v1/metrics/gmv/value", params={"start": "2025-01-01", "end": "2025-01-31", "category": category}
    )
    assert value.status_code == 200
    assert value.json()["value"] == "11"
    only_app = reader.get(
        "/v1/metrics/gmv/value",
        params={"start": "2025-01-01", "end": "2025-01-31", "category": category, "channel": "app"},
    )
    assert only_app.json()["value"] == "5"
    series = reader.get(
        "/v1/metrics/gmv/series",
        params={"start": "2025-01-01", "end": "2025-01-03", "bucket": "day", "category": category},
    )
    assert [p["value"] for p in series.json()["series"]] == ["5", "6", "0"]
    missing = reader.get("/v1/metrics/nope/value", params={"start": "2025-01-01", "end": "2025-01-31"})
    assert (missing.status_code, missing.json()["code"]) == (404, "metric_not_found")


def test_a_bucket_of_very_long_values_keeps_the_day_by_day_sum_in_28_digits(
    ingest: httpx.Client, reader: httpx.Client, unique: str
) -> None:
    category = f"long-{unique}"
    value = "1234567890123456789012345678.4"  # 29 digits: each day total rounds to ...678
    push(
        ingest,
        [
            event(f"{unique}-1", "gmv", value, "2025-05-01T12:00:00+08:00", category=category),
            event(f"{unique}-2", "gmv", value, "2025-05-02T12:00:00+08:00", category=category),
            event(f"{unique}-3", "gmv", "1.5", "2025-06-02T12:00:00+08:00", category=category),
        ],
    )
    months = query(
        reader,
        {
            "id": "m",
            "metric": "gmv",
            "bucket": "month",
            "start": "2025-05-01",
            "end": "2025-06-30",
            "filters": {"category": category},
        },
    )[0]
    # Summed day by day in 28 digits (...678 + ...678), not rounded once from the exact sum (...357).
    assert [p["value"] for p in months["series"]] == ["2469135780246913578024691356", "1.5"]
    assert months["value"] == "2469135780246913578024691358"
