"""Progress over HTTP: seasonal expected-to-date, direction-aware attainment, health, staleness,
batches answered with one metrics call, health over time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Api
from tests.targets.helpers import create_plan, create_target, daily, event, problem, push


@pytest.fixture
def plan(api: Api, unique: str) -> dict[str, Any]:
    return create_plan(api, unique)


def progress(api: Api, target_id: str, as_of: str) -> dict[str, Any]:
    response = api.client("targets", role="viewer").get(
        f"/v1/targets/{target_id}/progress", params={"as_of": as_of}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_growth_target_paces_against_last_years_daily_profile(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    category = f"beauty-{unique}"
    # Last April was quiet, June carried the 618 peak: a seasonal pace expects little by April's end.
    push(api, daily("gmv", date(2024, 4, 1), date(2024, 4, 30), 10, category=category))
    push(api, daily("gmv", date(2024, 5, 1), date(2024, 5, 31), 10, category=category))
    push(api, daily("gmv", date(2024, 6, 1), date(2024, 6, 30), 40, category=category))
    push(api, daily("gmv", date(2025, 4, 1), date(2025, 4, 30), 13, category=category))
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025Q2", growth_pct=30
    )
    result = progress(api, target["id"], "2025-04-30")
    assert Decimal(result["baseline_value"]) == 1810 and result["target_value"] == "2353.00"
    assert result["expected_method"] == "seasonal"
    assert Decimal(result["actual"]) == 390
    assert Decimal(result["expected_to_date"]) == Decimal("390.00")  # 2353 × 300/1810
    assert result["pace"] == "1.0000"
    assert result["health"] == "ON_TRACK"
    assert result["growth_to_date"] == "0.3000"
    assert Decimal(result["forecast_low"]) < Decimal(result["forecast"]) < Decimal(result["forecast_high"])


def test_without_history_expected_to_date_is_linear(api: Api, plan: dict[str, Any], unique: str) -> None:
    category = f"new-{unique}"
    push(api, daily("gmv", date(2025, 4, 1), date(2025, 4, 15), 10, category=category))
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025-04", target_value=300
    )
    result = progress(api, target["id"], "2025-04-15")
    assert result["expected_method"] == "linear"
    assert result["expected_to_date"] == "150.00"
    assert result["forecast"] == "300.00" and result["health"] == "ON_TRACK"


def test_decimals_are_answered_in_plain_digits_never_in_exponent_notation(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    """A target of eight places rounds progress to eight places: a zero stays "0.00000000"
    (Python's str would write "0E-8"), a tiny value "0.00000012" (not "1.2E-7")."""
    category = f"tiny-{unique}"
    push(api, daily("gmv", date(2025, 4, 1), date(2025, 4, 2), "0.00000001", category=category))
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025-05",
        target_value="0.00000012",
    )  # fmt: skip
    assert target["target_value"] == "0.00000012"
    result = progress(api, target["id"], "2025-04-30")
    assert result["target_value"] == "0.00000012"
    assert result["health"] == "NOT_STARTED"
    decimals = [value for value in result.values() if isinstance(value, str) and value[:1].isdigit()]
    assert decimals and not any("E" in value for value in decimals), result
    started = progress(api, target["id"], "2025-05-01")
    assert started["actual"] == "0" and started["health"] != "NOT_STARTED"
    assert not any("E" in v for v in started.values() if isinstance(v, str) and v[:1].isdigit()), started


def test_history_covering_only_part_of_last_years_period_paces_linearly(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    category = f"partial-{unique}"
    # Last year's events only in January (a partial back-fill): they say nothing of how Q1's
    # volume spreads over February and March, so the pace is linear, not "all done by February".
    push(api, daily("gmv", date(2024, 1, 1), date(2024, 1, 31), 100, category=category))
    push(api, daily("gmv", date(2025, 1, 1), date(2025, 2, 15), 100, category=category))
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025Q1", target_value=9000
    )
    result = progress(api, target["id"], "2025-02-15")
    assert result["expected_method"] == "linear"
    assert Decimal(result["actual"]) == 4600
    assert result["expected_to_date"] == "4600.00"  # 9000 × 46/90
    assert result["pace"] == "1.0000"
    assert result["forecast"] == "9000.00" and result["health"] == "ON_TRACK"


def test_a_target_reports_not_started_before_its_period(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q4", target_value=300)
    assert progress(api, target["id"], "2025-06-30")["health"] == "NOT_STARTED"


def test_an_ended_period_is_achieved_or_missed(api: Api, plan: dict[str, Any], unique: str) -> None:
    category = f"done-{unique}"
    push(api, daily("orders", date(2025, 2, 1), date(2025, 2, 28), 10, category=category))
    hit = create_target(
        api, plan["id"], metric="orders", scope={"category": category}, period="2025-02", target_value=280
    )
    miss = create_target(
        api, plan["id"], metric="orders", scope={"category": category}, period="2025-02", target_value=281
    )
    assert progress(api, hit["id"], "2025-03-10")["health"] == "ACHIEVED"
    assert progress(api, miss["id"], "2025-03-10")["health"] == "MISSED"


def test_lower_is_better_is_never_coloured_backwards(api: Api, plan: dict[str, Any], unique: str) -> None:
    channel = f"app-{unique}"
    push(api, daily("sessions", date(2025, 5, 1), date(2025, 5, 10), 100, channel=channel))
    push(api, daily("bounces", date(2025, 5, 1), date(2025, 5, 10), 30, channel=channel))
    good = create_target(
        api,
        plan["id"],
        metric="bounce_rate",
        scope={"channel": channel},
        period="2025-05",
        target_value="0.40",
    )
    bad = create_target(
        api,
        plan["id"],
        metric="bounce_rate",
        scope={"channel": channel},
        period="2025-05",
        target_value="0.25",
    )
    better = progress(api, good["id"], "2025-05-10")
    worse = progress(api, bad["id"], "2025-05-10")
    assert Decimal(better["actual"]) == Decimal("0.3")
    assert better["attainment"] == "1.3333" and better["health"] == "ON_TRACK"
    assert worse["attainment"] == "0.8333" and worse["health"] == "OFF_TRACK"


def test_a_rate_below_its_minimum_denominator_has_insufficient_data(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    region = f"north-{unique}"
    push(
        api,
        [
            event("uv", date(2025, 5, 2), 20, region=region),
            event("orders", date(2025, 5, 2), 1, region=region),
        ],
    )
    target = create_target(
        api,
        plan["id"],
        metric="conversion_rate",
        scope={"region": region},
        period="2025-05",
        target_value="0.03",
    )
    result = progress(api, target["id"], "2025-05-05")
    assert result["health"] == "INSUFFICIENT_DATA"
    assert (Decimal(result["numerator"]), Decimal(result["denominator"])) == (1, 20)


def test_a_metric_without_recent_events_is_flagged_stale(api: Api, plan: dict[str, Any], unique: str) -> None:
    category = f"stale-{unique}"
    push(api, daily("gmv", date(2025, 5, 1), date(2025, 5, 3), 10, category=category))
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025-05", target_value=300
    )
    assert progress(api, target["id"], "2025-05-03")["stale"] is False
    assert progress(api, target["id"], "2025-05-20")["stale"] is True


def edit_metric(api: Api, key: str, **changes: Any) -> None:
    planner = api.client("metrics", role="planner")
    etag = planner.get(f"/v1/metrics/{key}").headers["ETag"]
    response = planner.patch(f"/v1/metrics/{key}", json=changes, headers={"If-Match": etag})
    assert response.status_code == 200, response.text


def create_metric(api: Api, **fields: Any) -> None:
    response = api.client("metrics", role="planner").post("/v1/metrics", json=fields)
    assert response.status_code == 201, response.text


def test_an_edited_expected_frequency_applies_to_targets_committed_before(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    key = f"visits_{unique}"
    create_metric(api, key=key, name="Store visits", unit="count", expected_frequency_hours=24)
    push(api, daily(key, date(2025, 5, 1), date(2025, 5, 3), 10, category="any"))
    target = create_target(
        api, plan["id"], metric=key, scope={"category": "any"}, period="2025-05", target_value=300
    )
    assert progress(api, target["id"], "2025-05-20")["stale"] is True

    # The source only reports monthly after all.
    edit_metric(api, key, expected_frequency_hours=24 * 31)

    assert progress(api, target["id"], "2025-05-20")["stale"] is False


def test_an_edited_minimum_denominator_applies_to_rate_targets_committed_before(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    key = f"rate_{unique}"
    create_metric(
        api,
        key=key,
        name="Conversion",
        unit="ratio",
        kind="derived",
        formula="orders / uv",
        min_denominator=100,
    )
    region = f"rate-{unique}"
    push(
        api,
        [
            event("uv", date(2025, 5, 2), 20, region=region),
            event("orders", date(2025, 5, 2), 1, region=region),
        ],
    )
    target = create_target(
        api, plan["id"], metric=key, scope={"region": region}, period="2025-05", target_value="0.03"
    )
    assert progress(api, target["id"], "2025-05-05")["health"] == "INSUFFICIENT_DATA"

    edit_metric(api, key, min_denominator=10)

    assert progress(api, target["id"], "2025-05-05")["health"] != "INSUFFICIENT_DATA"


def test_a_batch_of_targets_is_answered_in_one_call(api: Api, plan: dict[str, Any], unique: str) -> None:
    category = f"batch-{unique}"
    push(api, daily("gmv", date(2025, 4, 1), date(2025, 4, 10), 10, category=category))
    ids = [
        create_target(
            api, plan["id"], metric="gmv", scope={"category": category}, period="2025Q2", target_value=v
        )["id"]
        for v in (100, 1000, 10000)
    ]
    create_target(api, plan["id"], metric="gmv", period="2025Q3", target_value=1)
    by_ids = (
        api.client("targets").post("/v1/progress", json={"as_of": "2025-04-10", "target_ids": ids}).json()
    )
    assert [r["target_id"] for r in by_ids["results"]] == ids
    by_plan = (
        api.client("targets")
        .post("/v1/progress", json={"as_of": "2025-04-10", "plan_id": plan["id"], "active_in": "2025Q2"})
        .json()
    )
    assert {r["target_id"] for r in by_plan["results"]} == set(ids)
    assert {Decimal(r["actual"]) for r in by_plan["results"]} == {100}


def test_a_batch_naming_an_unknown_target_is_refused(api: Api) -> None:
    response = api.client("targets").post(
        "/v1/progress", json={"as_of": "2025-04-10", "target_ids": ["00000000-0000-0000-0000-000000000000"]}
    )
    problem(response, 404, "target_not_found")


def test_history_gives_progress_and_health_for_every_day(api: Api, plan: dict[str, Any], unique: str) -> None:
    category = f"hist-{unique}"
    push(api, daily("gmv", date(2025, 4, 1), date(2025, 4, 5), 10, category=category))
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025-04", target_value=300
    )
    days = (
        api.client("targets")
        .get(f"/v1/targets/{target['id']}/history", params={"as_of": "2025-04-05"})
        .json()["days"]
    )
    assert [d["date"] for d in days] == [f"2025-04-0{i}" for i in range(1, 6)]
    assert [Decimal(d["actual"]) for d in days] == [10, 20, 30, 40, 50]
    assert days[-1]["health"] == progress(api, target["id"], "2025-04-05")["health"]
