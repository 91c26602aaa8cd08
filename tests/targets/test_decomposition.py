"""Decomposition: exact splits, seasonal shares from one query, inherited rates, linked trees."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Api
from tests.targets.helpers import create_plan, create_target, event, problem, push


@pytest.fixture
def plan(api: Api, unique: str) -> dict[str, Any]:
    return create_plan(api, unique)


def decompose(api: Api, target_id: str, **body: Any) -> Any:
    return api.client("targets").post(f"/v1/targets/{target_id}/decompose", json=body)


def test_an_even_split_into_quarters_adds_up_to_the_cent(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025", target_value="1000000.01")
    response = decompose(api, target["id"], by="quarter", weights="even")
    assert response.status_code == 201, response.text
    children = response.json()["children"]
    assert [c["period"] for c in children] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert sum(Decimal(c["target_value"]) for c in children) == Decimal("1000000.01")
    assert [c["target_value"] for c in children] == ["250000.01", "250000.00", "250000.00", "250000.00"]
    assert all(c["parent_id"] == target["id"] for c in children)


def test_counts_split_into_whole_units(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="orders", period="2025Q1", target_value=100)
    children = decompose(api, target["id"], by="month", weights="even").json()["children"]
    assert [c["target_value"] for c in children] == ["34", "33", "33"]


def test_explicit_weights_split_by_the_given_shares(api: Api, plan: dict[str, Any], unique: str) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=1000)
    values = [f"a-{unique}", f"b-{unique}"]
    body = decompose(
        api, target["id"], by="category", values=values, weights={values[0]: 3, values[1]: 1}
    ).json()
    assert [(c["scope"]["category"], c["target_value"]) for c in body["children"]] == [
        (values[0], "750.00"),
        (values[1], "250.00"),
    ]


def test_weights_that_do_not_name_the_children_are_refused(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=1000)
    problem(decompose(api, target["id"], by="month", weights={"2025-04": 1}), 422, "invalid_weights")


def test_seasonal_months_follow_last_years_shares(api: Api, plan: dict[str, Any], unique: str) -> None:
    category = f"beauty-{unique}"
    push(
        api,
        [
            event("gmv", date(2024, 4, 10), 100, category=category),
            event("gmv", date(2024, 5, 20), 300, category=category),
            event("gmv", date(2024, 6, 18), 600, category=category),
        ],
    )
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025Q2", target_value=2000
    )
    body = decompose(api, target["id"], by="month", weights="seasonal").json()
    assert [c["target_value"] for c in body["children"]] == ["200.00", "600.00", "1200.00"]
    assert body["weights"] == {"2025-04": "0.100000", "2025-05": "0.300000", "2025-06": "0.600000"}


def test_seasonal_categories_follow_last_years_shares(api: Api, plan: dict[str, Any], unique: str) -> None:
    a, b = f"a-{unique}", f"b-{unique}"
    push(api, [event("gmv", date(2024, 5, 1), 1, category=a), event("gmv", date(2024, 5, 2), 2, category=b)])
    target = create_target(api, plan["id"], metric="gmv", period="2025-05", target_value=100)
    children = decompose(api, target["id"], by="category", values=[a, b], weights="seasonal").json()[
        "children"
    ]
    assert [c["target_value"] for c in children] == ["33.33", "66.67"]


def test_seasonal_without_history_is_refused(api: Api, plan: dict[str, Any], unique: str) -> None:
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": f"none-{unique}"}, period="2025Q2", target_value=1
    )
    problem(decompose(api, target["id"], by="month", weights="seasonal"), 422, "no_seasonal_history")


def test_a_rate_is_not_split_children_inherit_it(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="conversion_rate", period="2025Q2", target_value="0.035")
    children = decompose(api, target["id"], by="month", weights="even").json()["children"]
    assert [c["target_value"] for c in children] == ["0.035"] * 3
    parent = api.client("targets").get(f"/v1/targets/{target['id']}").json()
    assert parent["tree"] == {"adds_up": True, "children_total": None}


def test_decomposing_again_is_refused(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=1000)
    assert decompose(api, target["id"], by="month", weights="even").status_code == 201
    problem(decompose(api, target["id"], by="month", weights="even"), 409, "already_decomposed")


def test_the_tree_reports_when_an_edited_child_no_longer_adds_up(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=900)
    children = decompose(api, target["id"], by="month", weights="even").json()["children"]
    client = api.client("targets")
    assert client.get(f"/v1/targets/{target['id']}").json()["tree"] == {
        "adds_up": True,
        "children_total": "900.00",
    }
    client.patch(f"/v1/targets/{children[0]['id']}", json={"target_value": 400}, headers={"If-Match": '"1"'})
    parent = client.get(f"/v1/targets/{target['id']}").json()
    assert parent["tree"] == {"adds_up": False, "children_total": "1000.00"}
    assert parent["children_ids"] == [c["id"] for c in children]


def test_a_dimension_the_metric_lacks_or_the_target_already_fixes_is_refused(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": "x"}, period="2025Q2", target_value=1
    )
    problem(decompose(api, target["id"], by="category", values=["y"], weights="even"), 422, "invalid_scope")
    problem(decompose(api, target["id"], by="channel", weights="even"), 422, "missing_values")


def test_deleting_a_parent_deletes_its_children(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=900)
    children = decompose(api, target["id"], by="month", weights="even").json()["children"]
    client = api.client("targets")
    assert client.delete(f"/v1/targets/{target['id']}").status_code == 204
    assert client.get(f"/v1/targets/{children[0]['id']}").status_code == 404
