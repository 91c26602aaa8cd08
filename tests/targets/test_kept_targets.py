"""A plan's targets kept in memory by the targets service are never older than the database:
every write to a plan, a target or a target's initiatives — through the API or by hand — is in
the very next list and the very next progress."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Api
from tests.proof.support import fetch
from tests.targets.helpers import create_plan, create_target, daily, push


@pytest.fixture
def plan(api: Api, unique: str) -> dict[str, Any]:
    return create_plan(api, unique)


def listed(api: Api, plan: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    response = api.client("targets").get(f"/v1/plans/{plan['id']}/targets", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def progress(api: Api, plan: dict[str, Any], as_of: str = "2025-04-10") -> dict[str, dict[str, Any]]:
    response = api.client("targets").post("/v1/progress", json={"as_of": as_of, "plan_id": plan["id"]})
    assert response.status_code == 200, response.text
    return {r["target_id"]: r for r in response.json()["results"]}


def kept_answers(api: Api, kind: str) -> float:
    """The targets service's count of answers given from memory (its Prometheus counter)."""
    text = api.client("targets").get("/metrics").text
    line = f'pacer_kept_targets_total{{kind="{kind}",result="hit"}}'
    return sum(float(row.split()[-1]) for row in text.splitlines() if row.startswith(line))


def test_a_list_asked_again_is_answered_from_memory_with_the_same_bytes(
    api: Api, plan: dict[str, Any]
) -> None:
    create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value="100.50")
    client = api.client("targets")
    first = client.get(f"/v1/plans/{plan['id']}/targets")
    hits = kept_answers(api, "page")

    again = client.get(f"/v1/plans/{plan['id']}/targets")

    assert kept_answers(api, "page") == hits + 1
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert again.json()["items"][0]["target_value"] == "100.50"


def test_a_changed_target_is_in_the_very_next_list_and_progress(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    category = f"kept-{unique}"
    push(api, daily("gmv", date(2025, 4, 1), date(2025, 4, 10), 10, category=category))
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025Q2", target_value=1000
    )
    assert [t["name"] for t in listed(api, plan)] == [target["name"]]
    assert Decimal(progress(api, plan)[target["id"]]["attainment"]) == Decimal("0.1")

    changed = api.client("targets").patch(
        f"/v1/targets/{target['id']}",
        json={"name": "GMV Q2, raised", "target_value": 500},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text

    assert [(t["name"], t["target_value"]) for t in listed(api, plan)] == [("GMV Q2, raised", "500")]
    assert Decimal(progress(api, plan)[target["id"]]["attainment"]) == Decimal("0.2")


def test_new_deleted_and_decomposed_targets_are_in_the_very_next_list_and_progress(
    api: Api, plan: dict[str, Any]
) -> None:
    first = create_target(api, plan["id"], metric="gmv", period="2025", target_value=1200)
    assert [t["id"] for t in listed(api, plan)] == [first["id"]]
    assert set(progress(api, plan)) == {first["id"]}

    second = create_target(api, plan["id"], metric="orders", period="2025", target_value=10)
    assert {t["id"] for t in listed(api, plan)} == {first["id"], second["id"]}
    assert set(progress(api, plan)) == {first["id"], second["id"]}

    decomposed = api.client("targets").post(
        f"/v1/targets/{first['id']}/decompose", json={"by": "quarter", "weights": "even"}
    )
    assert decomposed.status_code in (200, 201), decomposed.text
    children = [c["id"] for c in decomposed.json()["children"]]
    parent = next(t for t in listed(api, plan) if t["id"] == first["id"])
    assert parent["children_ids"] == children
    assert set(progress(api, plan)) == {first["id"], second["id"], *children}

    assert api.client("targets").delete(f"/v1/targets/{second['id']}").status_code == 204
    assert second["id"] not in {t["id"] for t in listed(api, plan)}
    assert second["id"] not in progress(api, plan)


def test_an_initiative_linked_to_a_target_is_in_the_very_next_list(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="uv", period="2025", target_value=1000)
    assert listed(api, plan)[0]["initiative_ids"] == []

    initiative = api.client("targets").post(
        f"/v1/plans/{plan['id']}/initiatives", json={"name": "Search", "target_ids": [target["id"]]}
    )
    assert initiative.status_code == 201, initiative.text

    assert listed(api, plan)[0]["initiative_ids"] == [initiative.json()["id"]]


def test_a_plans_new_thresholds_colour_the_very_next_progress(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    category = f"kept-{unique}"
    push(api, daily("gmv", date(2025, 4, 1), date(2025, 4, 10), 10, category=category))
    # 100 of 1000 by 10 April: a linear forecast of 910, 91 % of the target.
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025Q2", target_value=1000
    )
    assert progress(api, plan)[target["id"]]["health"] == "AT_RISK"

    changed = api.client("targets").patch(
        f"/v1/plans/{plan['id']}",
        json={"thresholds": {"on_track": "0.9", "at_risk": "0.8"}},
        headers={"If-Match": f'"{plan["version"]}"'},
    )
    assert changed.status_code == 200, changed.text

    assert progress(api, plan)[target["id"]]["health"] == "ON_TRACK"


def test_a_fix_by_hand_in_the_database_is_in_the_very_next_list_and_progress(
    api: Api, plan: dict[str, Any], database_url: str
) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=1000)
    assert listed(api, plan)[0]["target_value"] == "1000"
    assert target["id"] in progress(api, plan)

    fetch(database_url, "update targets.targets set target_value = 750 where id = $1", target["id"])
    assert listed(api, plan)[0]["target_value"] == "750"

    fetch(database_url, "delete from targets.targets where id = $1", target["id"])
    assert listed(api, plan) == []
    assert progress(api, plan) == {}
