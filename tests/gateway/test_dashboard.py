"""One query for a whole planning dashboard, at a constant cost in service calls."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import Api
from tests.gateway.builders import create_gmv_targets, create_plan, push_gmv
from tests.gateway.conftest import all_service_calls, gql

DASHBOARD = """
query Dashboard($id: ID!, $asOf: Date!) {
  plan(id: $id) {
    code
    name
    targets {
      id
      name
      metricKey
      targetValue
      scope { category }
      metric { key unit direction }
      progress(asOf: $asOf) { asOf actual attainment expectedToDate forecast health stale }
      series(bucket: QUARTER) { start end value }
      children { id targetValue }
    }
  }
}
"""


def test_the_dashboard_shows_targets_with_metric_progress_series_and_children(api: Api, unique: str) -> None:
    category = f"beauty-{unique}"
    plan = create_plan(api, f"dash-{unique}")
    [target] = create_gmv_targets(api, plan["id"], [category], value="1000")
    decomposed = api.client("targets").post(
        f"/v1/targets/{target['id']}/decompose", json={"by": "quarter", "weights": "even"}
    )
    assert decomposed.status_code in (200, 201), decomposed.text
    # 2025-03-31T17:00Z is already 1 April in Shanghai: it belongs to Q2.
    push_gmv(
        api,
        category,
        [("2025-02-10T04:00:00+00:00", "100.10"), ("2025-03-31T17:00:00+00:00", "50.40")],
        tag=f"dash-{unique}",
    )

    body = gql(api.client("gateway"), DASHBOARD, {"id": plan["id"], "asOf": "2025-12-31"})

    assert "errors" not in body, body["errors"]
    data = body["data"]["plan"]
    assert data["code"] == f"dash-{unique}"
    parent = next(t for t in data["targets"] if t["id"] == target["id"])
    assert parent["metric"] == {"key": "gmv", "unit": "money", "direction": "higher_is_better"}
    assert parent["targetValue"] == "1000" or Decimal(parent["targetValue"]) == Decimal("1000")
    assert isinstance(parent["targetValue"], str)
    assert Decimal(parent["progress"]["actual"]) == Decimal("150.50")
    assert parent["progress"]["asOf"] == "2025-12-31"
    assert parent["progress"]["health"] == "MISSED"
    quarters = {point["start"]: point["value"] for point in parent["series"]}
    assert list(quarters) == ["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"]
    assert Decimal(quarters["2025-01-01"]) == Decimal("100.10")
    assert Decimal(quarters["2025-04-01"]) == Decimal("50.40")
    assert Decimal(quarters["2025-07-01"]) == 0
    assert len(parent["children"]) == 4
    assert sum(Decimal(child["targetValue"]) for child in parent["children"]) == Decimal("1000")


def _dashboard_cost(api: Api, unique: str, size: int) -> tuple[dict[str, int], dict[str, int]]:
    plan = create_plan(api, f"cost-{unique}-{size}")
    targets = create_gmv_targets(api, plan["id"], [f"cat-{unique}-{size}-{i}" for i in range(size)])
    api.client("targets").post(
        f"/v1/targets/{targets[0]['id']}/decompose", json={"by": "quarter", "weights": "even"}
    )
    gateway = api.client("gateway")
    before = all_service_calls(api)
    body = gql(gateway, DASHBOARD, {"id": plan["id"], "asOf": "2025-06-30"})
    after = all_service_calls(api)
    assert "errors" not in body, body["errors"][:3]
    shown = body["data"]["plan"]["targets"]
    assert len(shown) == size + 4  # the four quarters of the first target too
    assert all(t["progress"] is not None and t["series"] is not None for t in shown)
    observed = {name: after[name] - before[name] for name in after}
    return observed, body["extensions"]["upstreamCalls"]


def test_a_dashboard_costs_the_same_service_calls_for_1_10_and_200_targets(api: Api, unique: str) -> None:
    costs = {size: _dashboard_cost(api, unique, size) for size in (1, 10, 200)}
    observed = {size: cost[0] for size, cost in costs.items()}
    reported = {size: cost[1] for size, cost in costs.items()}
    # Counted by the services themselves (their Prometheus counters), including what the targets
    # service asks the metrics service while computing progress.
    assert observed[1] == observed[10] == observed[200], observed
    # The gateway's own calls: plan, targets and progress from targets; catalogue and one batched
    # query from metrics.
    assert reported[1] == reported[10] == reported[200] == {"targets": 3, "metrics": 2, "reviews": 0}
    assert observed[200]["targets"] == 3
    assert observed[200]["reviews"] == 0


@pytest.mark.parametrize("as_of", ["2025-03-31", "2025-09-30"])
def test_progress_for_two_dates_costs_one_call_per_date(api: Api, unique: str, as_of: str) -> None:
    plan = create_plan(api, f"dates-{unique}")
    create_gmv_targets(api, plan["id"], [f"d-{unique}-{i}" for i in range(3)])
    query = """query($id: ID!, $asOf: Date!) { plan(id: $id) { targets {
        early: progress(asOf: "2025-01-31") { asOf } late: progress(asOf: $asOf) { asOf } } } }"""
    body = gql(api.client("gateway"), query, {"id": plan["id"], "asOf": as_of})
    assert "errors" not in body, body["errors"]
    assert {t["late"]["asOf"] for t in body["data"]["plan"]["targets"]} == {as_of}
    assert body["extensions"]["upstreamCalls"]["targets"] == 1 + 1 + 2


def test_fields_asked_through_fragments_answer_what_direct_fields_answer(api: Api, unique: str) -> None:
    plan = create_plan(api, f"frag-{unique}")
    create_gmv_targets(api, plan["id"], [f"f-{unique}-{i}" for i in range(3)])
    push_gmv(api, f"f-{unique}-0", [("2025-02-10T04:00:00+00:00", "12.50")], tag=f"frag-{unique}")
    direct = """query($id: ID!) { plan(id: $id) { targets { id
        progress(asOf: "2025-03-31") { actual health } series(bucket: MONTH) { start value }
        metric { key } children { id } } } }"""
    through_fragments = """query($id: ID!) {
          plan(id: $id) { targets { id ...Pace ... on Target { metric { key } } } } }
        fragment Pace on Target { progress(asOf: "2025-03-31") { actual health }
                                  ... on Target { series(bucket: MONTH) { start value } children { id } } }"""
    gateway = api.client("gateway")

    first = gql(gateway, direct, {"id": plan["id"]})
    second = gql(gateway, through_fragments, {"id": plan["id"]})

    assert "errors" not in first and "errors" not in second
    assert second["data"] == first["data"]
    assert any(
        Decimal(t["progress"]["actual"]) == Decimal("12.50") for t in second["data"]["plan"]["targets"]
    )
    assert second["extensions"]["upstreamCalls"] == first["extensions"]["upstreamCalls"]


def test_a_skipped_field_is_not_fetched_ahead(api: Api, unique: str) -> None:
    plan = create_plan(api, f"skip-{unique}")
    create_gmv_targets(api, plan["id"], [f"s-{unique}-{i}" for i in range(3)])
    query = """query($id: ID!, $hide: Boolean!) { plan(id: $id) { targets { id
        progress(asOf: "2025-03-31") @skip(if: $hide) { health }
        series(bucket: MONTH) @include(if: false) { value } } } }"""

    body = gql(api.client("gateway"), query, {"id": plan["id"], "hide": True})

    assert "errors" not in body, body["errors"]
    assert all(set(t) == {"id"} for t in body["data"]["plan"]["targets"])
    # The plan and its targets only: no progress call to targets, no series query to metrics.
    assert body["extensions"]["upstreamCalls"] == {"targets": 2, "metrics": 0, "reviews": 0}


def test_progress_of_a_quarters_targets_is_read_with_the_plan_in_one_call(api: Api, unique: str) -> None:
    plan = create_plan(api, f"active-{unique}")
    [target] = create_gmv_targets(api, plan["id"], [f"a-{unique}"], value="1000")
    split = api.client("targets").post(
        f"/v1/targets/{target['id']}/decompose", json={"by": "quarter", "weights": "even"}
    )
    assert split.status_code in (200, 201), split.text
    query = """query($id: ID!) { plan(id: $id) { targets(activeIn: "2025Q2") { period
        progress(asOf: "2025-05-15") { asOf expectedToDate } } } }"""

    body = gql(api.client("gateway"), query, {"id": plan["id"]})

    assert "errors" not in body, body["errors"]
    shown = {t["period"]: t["progress"] for t in body["data"]["plan"]["targets"]}
    assert set(shown) == {"2025", "2025Q2"}  # the year and its second quarter
    assert all(p["asOf"] == "2025-05-15" for p in shown.values())
    # The plan, its targets and one progress call for all of them.
    assert body["extensions"]["upstreamCalls"]["targets"] == 3


def test_decimals_keep_plain_digits_through_the_gateway(api: Api, unique: str) -> None:
    """Decimals are never written in exponent notation: a tiny value stays "0.0000001" and a
    round one "400000", as the services write them."""
    plan = create_plan(api, f"plain-{unique}")
    tiny, round_value = (
        create_gmv_targets(api, plan["id"], [f"{kind}-{unique}"], value=value)[0]
        for kind, value in (("tiny", "0.0000001"), ("round", "400000"))
    )
    body = gql(api.client("gateway"), "query($id: ID!) { plan(id: $id) { targets { id targetValue } } }",
               {"id": plan["id"]})  # fmt: skip

    assert "errors" not in body, body["errors"]
    values = {t["id"]: t["targetValue"] for t in body["data"]["plan"]["targets"]}
    assert values == {tiny["id"]: "0.0000001", round_value["id"]: "400000"}
