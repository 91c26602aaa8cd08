"""The metric catalogue: seeded with DESIGN's metrics, editable by planners, formulas refused safely."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Api

SEEDED_BASE = {
    "gmv", "orders", "sessions", "bounces", "uv", "pv", "new_members", "dau", "mau", "marketing_spend",
    "new_customers", "returned_orders", "gross_profit", "revenue", "net_profit", "promoters", "detractors",
    "nps_responses", "customers", "repeat_customers",
}  # fmt: skip
SEEDED_DERIVED = {
    "conversion_rate": "orders / uv",
    "aov": "gmv / orders",
    "bounce_rate": "bounces / sessions",
    "return_rate": "returned_orders / orders",
    "cac": "marketing_spend / new_customers",
    "nps": "100 * (promoters - detractors) / nps_responses",
    "gross_margin": "gross_profit / revenue",
    "net_margin": "net_profit / revenue",
    "repurchase_rate": "repeat_customers / customers",
    "dau_mau": "dau / mau",
}


def catalogue(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/metrics", params={"limit": 500})
    assert response.status_code == 200, response.text
    return {item["key"]: item for item in response.json()["items"]}


def test_the_catalogue_is_seeded_with_every_metric_of_the_design(api: Api) -> None:
    items = catalogue(api.client("metrics", role="viewer"))
    for key in SEEDED_BASE:
        assert items[key]["kind"] == "base", key
        assert items[key]["formula"] is None
    for key, formula in SEEDED_DERIVED.items():
        assert items[key]["kind"] == "derived", key
        assert items[key]["formula"] == formula
        assert items[key]["additive"] is False


def test_lower_is_better_metrics_say_so(api: Api) -> None:
    items = catalogue(api.client("metrics", role="viewer"))
    lower = {key for key, item in items.items() if item["direction"] == "lower_is_better"}
    assert {"bounce_rate", "cac", "return_rate"} <= lower
    assert items["gmv"]["direction"] == "higher_is_better"


def test_non_additive_metrics_carry_their_time_aggregation(api: Api) -> None:
    items = catalogue(api.client("metrics", role="viewer"))
    assert (items["dau"]["aggregation"], items["dau"]["additive"]) == ("avg", False)
    assert (items["mau"]["aggregation"], items["mau"]["additive"]) == ("last", False)
    assert (items["gmv"]["aggregation"], items["gmv"]["additive"]) == ("sum", True)


def test_evaluation_dimensions_and_ranges_are_seeded(api: Api) -> None:
    items = catalogue(api.client("metrics", role="viewer"))
    assert {k for k, v in items.items() if v["evaluation_dimension"] == "financial"} >= {
        "gmv",
        "gross_profit",
        "net_margin",
    }
    assert {k for k, v in items.items() if v["evaluation_dimension"] == "operational"} >= {
        "conversion_rate",
        "aov",
        "return_rate",
    }
    assert {k for k, v in items.items() if v["evaluation_dimension"] == "user"} >= {"repurchase_rate", "nps"}
    assert (items["nps"]["value_min"], items["nps"]["value_max"]) == ("-100", "100")
    assert items["conversion_rate"]["min_denominator"] == "100"
    assert items["gmv"]["unit"] == "money"


def test_one_definition_reads_with_an_etag_and_unknown_keys_answer_404(api: Api) -> None:
    client = api.client("metrics", role="viewer")
    response = client.get("/v1/metrics/aov")
    assert response.status_code == 200
    assert response.json()["formula"] == "gmv / orders"
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    missing = client.get("/v1/metrics/no_such_metric")
    assert missing.status_code == 404
    assert missing.json()["code"] == "metric_not_found"


def test_a_planner_adds_a_base_and_a_derived_metric(api: Api, unique: str) -> None:
    client = api.client("metrics", role="planner")
    base = client.post(
        "/v1/metrics",
        json={"key": f"refunds_{unique}", "name": "Refunds", "unit": "money", "dimensions": ["channel"]},
    )
    assert base.status_code == 201, base.text
    assert base.json()["additive"] is True
    assert base.json()["dimensions"] == ["channel"]
    derived = client.post(
        "/v1/metrics",
        json={
            "key": f"refund_share_{unique}",
            "name": "Refund share",
            "unit": "ratio",
            "kind": "derived",
            "formula": f"refunds_{unique} ÷ gmv",
            "direction": "lower_is_better",
            "min_denominator": "1000",
        },
    )
    assert derived.status_code == 201, derived.text
    assert derived.json()["direction"] == "lower_is_better"
    assert derived.json()["min_denominator"] == "1000"
    assert api.client("metrics", role="viewer").get(f"/v1/metrics/refund_share_{unique}").status_code == 200


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ("orders /", "invalid_formula"),
        ("orders uv", "invalid_formula"),
        ("__import__('os').system('true')", "invalid_formula"),
        ("orders ** 2", "invalid_formula"),
        ("(orders / uv", "invalid_formula"),
        ("orders / no_such_metric", "unknown_metric_in_formula"),
    ],
)
def test_bad_formulas_are_refused_with_their_code(api: Api, unique: str, formula: str, code: str) -> None:
    response = api.client("metrics", role="planner").post(
        "/v1/metrics",
        json={"key": f"bad_{unique}", "name": "Bad", "unit": "ratio", "kind": "derived", "formula": formula},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert api.client("metrics", role="viewer").get(f"/v1/metrics/bad_{unique}").status_code == 404


def test_a_formula_reading_itself_is_a_cycle(api: Api, unique: str) -> None:
    response = api.client("metrics", role="planner").post(
        "/v1/metrics",
        json={
            "key": f"loop_{unique}",
            "name": "Loop",
            "unit": "count",
            "kind": "derived",
            "formula": f"loop_{unique} + 1",
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "formula_cycle"


def test_a_change_that_would_close_a_cycle_is_refused_and_the_formula_kept(api: Api, unique: str) -> None:
    client = api.client("metrics", role="planner")
    first = {
        "key": f"first_{unique}",
        "name": "First",
        "unit": "count",
        "kind": "derived",
        "formula": "gmv * 2",
    }
    assert client.post("/v1/metrics", json=first).status_code == 201
    second = {
        "key": f"second_{unique}",
        "name": "Second",
        "unit": "count",
        "kind": "derived",
        "formula": f"first_{unique} + 1",
    }
    assert client.post("/v1/metrics", json=second).status_code == 201
    response = client.patch(f"/v1/metrics/first_{unique}", json={"formula": f"second_{unique} / 2"})
    assert response.status_code == 422
    assert response.json()["code"] == "formula_cycle"
    assert client.get(f"/v1/metrics/first_{unique}").json()["formula"] == "gmv * 2"


def test_a_base_metric_with_a_formula_or_a_derived_one_without_is_refused(api: Api, unique: str) -> None:
    client = api.client("metrics", role="planner")
    with_formula = client.post(
        "/v1/metrics", json={"key": f"b_{unique}", "name": "B", "unit": "count", "formula": "gmv / orders"}
    )
    assert with_formula.status_code == 422
    assert with_formula.json()["code"] == "invalid_formula"
    without = client.post(
        "/v1/metrics", json={"key": f"d_{unique}", "name": "D", "unit": "ratio", "kind": "derived"}
    )
    assert without.status_code == 422
    assert without.json()["code"] == "invalid_formula"


def test_a_key_is_added_once(api: Api, unique: str) -> None:
    client = api.client("metrics", role="admin")
    body = {"key": f"twice_{unique}", "name": "Twice", "unit": "count"}
    assert client.post("/v1/metrics", json=body).status_code == 201
    again = client.post("/v1/metrics", json=body)
    assert again.status_code == 409
    assert again.json()["code"] == "metric_exists"


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_viewers_and_members_may_not_edit_the_catalogue(api: Api, unique: str, role: str) -> None:
    client = api.client("metrics", role=role)
    response = client.post("/v1/metrics", json={"key": f"no_{unique}", "name": "No", "unit": "count"})
    assert response.status_code == 403
    assert client.patch("/v1/metrics/gmv", json={"name": "Gross"}).status_code == 403


def test_an_edit_bumps_the_version_and_a_stale_if_match_is_refused(api: Api, unique: str) -> None:
    client = api.client("metrics", role="planner")
    created = client.post(
        "/v1/metrics", json={"key": f"edit_{unique}", "name": "Edit", "unit": "count"}
    ).json()
    changed = client.patch(
        f"/v1/metrics/edit_{unique}",
        json={"expected_frequency_hours": 48, "aggregation": "max"},
        headers={"If-Match": f'"{created["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == created["version"] + 1
    assert changed.json()["additive"] is False
    stale = client.patch(
        f"/v1/metrics/edit_{unique}", json={"name": "Late"}, headers={"If-Match": f'"{created["version"]}"'}
    )
    assert stale.status_code == 412
    assert client.get(f"/v1/metrics/edit_{unique}").json()["name"] == "Edit"


def test_a_round_minimum_denominator_is_answered_in_plain_digits(api: Api, unique: str) -> None:
    planner = api.client("metrics", role="planner")
    key = f"plain_{unique}"
    created = planner.post(
        "/v1/metrics",
        json={"key": key, "name": "Plain", "unit": "ratio", "kind": "derived", "formula": "orders / uv"},
    )
    assert created.status_code == 201, created.text
    changed = planner.patch(
        f"/v1/metrics/{key}",
        json={"min_denominator": "100000"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["min_denominator"] == "100000"
    assert planner.get(f"/v1/metrics/{key}").json()["min_denominator"] == "100000"


def test_a_bound_beyond_what_events_may_carry_is_refused_and_nothing_changes(api: Api, unique: str) -> None:
    planner = api.client("metrics", role="planner")
    key = f"bound_{unique}"
    created = planner.post(
        "/v1/metrics", json={"key": key, "name": "Bound", "unit": "count", "value_max": "10"}
    )
    assert created.status_code == 201, created.text

    refused = planner.patch(
        f"/v1/metrics/{key}", json={"value_max": "1e400"}, headers={"If-Match": created.headers["ETag"]}
    )

    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        422,
        "invalid_value",
        "value_max",
    )
    after = planner.get(f"/v1/metrics/{key}").json()
    assert (after["value_max"], after["version"]) == ("10", created.json()["version"])
