"""`pacer demo`: a realistic, seasonal demo year loaded through the public APIs, re-runnable."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cli.demo import CATEGORIES, CHANNELS, DAILY_METRICS, day_values, spring_festival
from tests.conftest import Api
from tests.planner.conftest import DemoPlan, pacer


def _counts(api: Api, plan_id: str) -> dict[str, int]:
    targets = api.client("targets")
    reviews = api.client("reviews")
    return {
        "targets": len(targets.get(f"/v1/plans/{plan_id}/targets", params={"limit": 500}).json()["items"]),
        "tasks": len(targets.get(f"/v1/plans/{plan_id}/tasks", params={"limit": 500}).json()["items"]),
        "initiatives": len(targets.get(f"/v1/plans/{plan_id}/initiatives").json()["items"]),
        "risks": len(targets.get(f"/v1/plans/{plan_id}/risks").json()["items"]),
        "phases": len(targets.get(f"/v1/plans/{plan_id}/phases").json()["items"]),
        "reviews": len(reviews.get("/v1/reviews", params={"plan_id": plan_id}).json()["items"]),
    }


def test_demo_builds_a_whole_plan_with_a_finalized_q1_review(api: Api, demo_plan: DemoPlan) -> None:
    counts = _counts(api, demo_plan.id)
    # 12 top-level targets (live-stream GMV included), 4 quarters, each split by 2 categories.
    assert counts["targets"] == 12 + 4 + 8
    assert counts["tasks"] >= 14
    assert counts["initiatives"] == 7
    assert counts["risks"] == 4
    assert counts["phases"] == 4
    [review] = api.client("reviews").get("/v1/reviews", params={"plan_id": demo_plan.id}).json()["items"]
    assert review["quarter"].endswith("Q1")
    assert review["status"] == "finalized"
    detail = api.client("reviews").get(f"/v1/reviews/{review['id']}").json()
    assert detail["snapshot"]["items"]
    assert {f["kind"] for f in detail["findings"]} == {"cause", "success", "lesson"}
    promoted = [a for a in detail["action_items"] if a.get("task_id")]
    assert len(promoted) == 2


def test_annual_gmv_is_split_by_quarter_seasonally_and_adds_up(api: Api, demo_plan: DemoPlan) -> None:
    targets = api.client("targets").get(f"/v1/plans/{demo_plan.id}/targets", params={"limit": 500}).json()
    by_id = {t["id"]: t for t in targets["items"]}
    [annual] = [t for t in by_id.values() if t["metric"] == "gmv" and t["name"].endswith("+30% YoY")]
    assert annual["kind"] == "growth"
    assert Decimal(annual["target_value"]) == (Decimal(annual["baseline_value"]) * Decimal("1.3")).quantize(
        Decimal("0.01")
    )
    quarters = [by_id[c] for c in annual["children_ids"]]
    assert sum(Decimal(q["target_value"]) for q in quarters) == Decimal(annual["target_value"])
    shares = {
        q["period"][-2:]: Decimal(q["target_value"]) / Decimal(annual["target_value"]) for q in quarters
    }
    # Seasonal, not even: Double 11 makes Q4 the largest quarter, the Spring Festival Q1 the smallest.
    assert max(shares, key=lambda q: shares[q]) == "Q4"
    assert min(shares, key=lambda q: shares[q]) == "Q1"
    for quarter in quarters:
        children = [by_id[c] for c in quarter["children_ids"]]
        assert {c["scope"]["category"] for c in children} == {"beauty", "3c"}
        assert sum(Decimal(c["target_value"]) for c in children) == Decimal(quarter["target_value"])


def _value(api: Api, metric: str, start: date, end: date, **filters: Any) -> Decimal:
    answer = api.client("metrics").post(
        "/v1/query",
        json={
            "queries": [
                {"id": "q", "metric": metric, "start": str(start), "end": str(end), "filters": filters}
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    return Decimal(answer.json()["results"][0]["value"])


def test_demo_events_peak_on_618_and_double_11_and_dip_at_the_spring_festival(
    api: Api, demo_plan: DemoPlan
) -> None:
    year = date.today().year - 1
    scope = {"category": "beauty", "channel": "app"}
    ordinary = _value(api, "gmv", date(year, 9, 1), date(year, 9, 14), **scope) / 14
    assert _value(api, "gmv", date(year, 6, 18), date(year, 6, 18), **scope) > 3 * ordinary
    assert _value(api, "gmv", date(year, 11, 11), date(year, 11, 11), **scope) > 5 * ordinary
    festival = spring_festival(year)
    assert _value(api, "gmv", festival, festival + timedelta(days=3), **scope) / 4 < ordinary / 2


def test_demo_rerun_stores_nothing_twice(api: Api, demo_plan: DemoPlan) -> None:
    before = _counts(api, demo_plan.id)

    again = pacer(api, "demo", "--small", "--plan-code", demo_plan.code, timeout=600)

    assert again.returncode == 0, again.stderr[-3000:]
    assert "accepted 0," in again.stderr
    assert "rejected 0" in again.stderr
    assert "created: nothing new" in again.stderr
    assert _counts(api, demo_plan.id) == before


@settings(max_examples=40, deadline=None)
@given(
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    category=st.sampled_from(CATEGORIES),
    channel=st.sampled_from(CHANNELS),
)
def test_a_demo_day_has_a_consistent_funnel(day: date, category: str, channel: str) -> None:
    region, values = day_values(day, category, channel, this_year=2026)
    assert set(values) == set(DAILY_METRICS)
    assert region in {"east", "south", "north", "west"}
    assert all(v >= 0 for v in values.values())
    assert values["bounces"] <= values["sessions"]
    assert values["orders"] <= values["uv"]
    assert values["returned_orders"] <= values["orders"]
    assert values["repeat_customers"] <= values["customers"] <= values["orders"]
    assert values["promoters"] + values["detractors"] <= values["nps_responses"]
    assert values["gmv"] == values["gmv"].quantize(Decimal("0.01"))
    assert values["gross_profit"] <= values["revenue"] <= values["gmv"]
    if values["orders"]:
        aov = values["gmv"] / values["orders"]
        assert aov == aov.quantize(Decimal("0.01"))  # gmv = orders × a 2-decimal AOV
    assert day_values(day, category, channel, this_year=2026) == (region, values)  # deterministic
