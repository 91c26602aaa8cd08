"""Changing plans, targets and risks through the gateway, guarded by the version the caller read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import Api
from tests.gateway.builders import create_gmv_targets, create_plan
from tests.gateway.conftest import error_codes, gql

UPDATE_PLAN = """mutation($id: ID!, $input: UpdatePlanInput!, $v: Int!) {
    updatePlan(id: $id, input: $input, expectedVersion: $v) { id status name version } }"""
UPDATE_TARGET = """mutation($id: ID!, $input: UpdateTargetInput!, $v: Int!) {
    updateTarget(id: $id, input: $input, expectedVersion: $v) { id targetValue weight version } }"""
DELETE_TARGET = """mutation($id: ID!, $v: Int) { deleteTarget(id: $id, expectedVersion: $v) }"""


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def rest_target(api: Api, target_id: str) -> tuple[int, dict[str, Any]]:
    response = api.client("targets").get(f"/v1/targets/{target_id}")
    body: dict[str, Any] = response.json()
    return response.status_code, body


def test_a_planner_activates_a_draft_plan_with_the_version_they_read(api: Api, unique: str) -> None:
    plan = create_plan(api, f"upd-plan-{unique}", status="draft")
    gateway = api.client("gateway")

    changed = ok(
        gql(gateway, UPDATE_PLAN, {"id": plan["id"], "input": {"status": "active"}, "v": plan["version"]})
    )["updatePlan"]

    assert changed["status"] == "active"
    assert changed["name"] == plan["name"]
    assert changed["version"] == plan["version"] + 1
    read = api.client("targets").get(f"/v1/plans/{plan['id']}")
    assert read.json()["status"] == "active"
    assert read.headers["etag"] == f'"{plan["version"] + 1}"'


def test_a_stale_plan_version_is_refused_and_changes_nothing(api: Api, unique: str) -> None:
    plan = create_plan(api, f"upd-stale-plan-{unique}", status="draft")
    gateway = api.client("gateway")
    ok(gql(gateway, UPDATE_PLAN, {"id": plan["id"], "input": {"name": "First"}, "v": plan["version"]}))

    body = gql(gateway, UPDATE_PLAN, {"id": plan["id"], "input": {"name": "Second"}, "v": plan["version"]})

    assert body["data"]["updatePlan"] is None
    assert error_codes(body) == ["PRECONDITION_FAILED"]
    assert body["errors"][0]["extensions"]["status"] == 412
    read = api.client("targets").get(f"/v1/plans/{plan['id']}").json()
    assert (read["name"], read["version"]) == ("First", plan["version"] + 1)


def test_a_planner_changes_a_target_value_and_gets_the_new_version(api: Api, unique: str) -> None:
    plan = create_plan(api, f"upd-target-{unique}")
    [target] = create_gmv_targets(api, plan["id"], [f"beauty-{unique}"], value="1000")

    changed = ok(
        gql(
            api.client("gateway"),
            UPDATE_TARGET,
            {"id": target["id"], "input": {"targetValue": "1500.50", "weight": "2"}, "v": target["version"]},
        )
    )["updateTarget"]

    assert Decimal(changed["targetValue"]) == Decimal("1500.50")
    assert Decimal(changed["weight"]) == Decimal("2")
    assert changed["version"] == target["version"] + 1
    status, read = rest_target(api, target["id"])
    assert status == 200
    assert Decimal(read["target_value"]) == Decimal("1500.50")
    assert read["version"] == target["version"] + 1


def test_a_stale_target_version_is_refused_and_the_value_stays(api: Api, unique: str) -> None:
    plan = create_plan(api, f"upd-stale-target-{unique}")
    [target] = create_gmv_targets(api, plan["id"], [f"beauty-{unique}"], value="1000")
    gateway = api.client("gateway")
    first = {"id": target["id"], "input": {"targetValue": "1100"}, "v": target["version"]}
    ok(gql(gateway, UPDATE_TARGET, first))

    lost = {"id": target["id"], "input": {"targetValue": "9999"}, "v": target["version"]}
    body = gql(gateway, UPDATE_TARGET, lost)

    assert body["data"]["updateTarget"] is None
    assert error_codes(body) == ["PRECONDITION_FAILED"]
    assert body["errors"][0]["extensions"]["currentVersion"] == target["version"] + 1
    _, read = rest_target(api, target["id"])
    assert Decimal(read["target_value"]) == Decimal("1100")
    assert read["version"] == target["version"] + 1


def test_an_update_input_has_no_field_for_what_the_caller_may_not_set(api: Api, unique: str) -> None:
    plan = create_plan(api, f"upd-mass-{unique}")
    [target] = create_gmv_targets(api, plan["id"], [f"beauty-{unique}"])
    gateway = api.client("gateway")

    for field in ("version", "planId", "baselineValue", "metric", "id"):
        body = gql(
            gateway,
            UPDATE_TARGET,
            {"id": target["id"], "input": {field: "1"}, "v": target["version"]},
        )
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"], body
        assert body.get("data") is None

    _, read = rest_target(api, target["id"])
    assert read["version"] == target["version"]


def test_a_viewer_may_change_neither_a_plan_nor_a_target(api: Api, unique: str) -> None:
    plan = create_plan(api, f"upd-viewer-{unique}", status="draft")
    [target] = create_gmv_targets(api, plan["id"], [f"beauty-{unique}"], value="1000")
    viewer = api.client("gateway", role="viewer")

    plan_body = gql(
        viewer, UPDATE_PLAN, {"id": plan["id"], "input": {"status": "active"}, "v": plan["version"]}
    )
    target_body = gql(
        viewer, UPDATE_TARGET, {"id": target["id"], "input": {"targetValue": "1"}, "v": target["version"]}
    )
    delete_body = gql(viewer, DELETE_TARGET, {"id": target["id"], "v": None})

    assert error_codes(plan_body) == ["FORBIDDEN"]
    assert error_codes(target_body) == ["FORBIDDEN"]
    assert error_codes(delete_body) == ["FORBIDDEN"]
    assert api.client("targets").get(f"/v1/plans/{plan['id']}").json()["status"] == "draft"
    status, read = rest_target(api, target["id"])
    assert status == 200
    assert Decimal(read["target_value"]) == Decimal("1000")


def test_delete_target_removes_it_and_a_stale_version_keeps_it(api: Api, unique: str) -> None:
    plan = create_plan(api, f"upd-delete-{unique}")
    kept, dropped = create_gmv_targets(api, plan["id"], [f"beauty-{unique}", f"home-{unique}"])
    gateway = api.client("gateway")
    ok(gql(gateway, UPDATE_TARGET, {"id": kept["id"], "input": {"name": "Renamed"}, "v": kept["version"]}))

    stale = gql(gateway, DELETE_TARGET, {"id": kept["id"], "v": kept["version"]})
    deleted = ok(gql(gateway, DELETE_TARGET, {"id": dropped["id"], "v": dropped["version"]}))

    assert error_codes(stale) == ["PRECONDITION_FAILED"]
    assert rest_target(api, kept["id"])[0] == 200
    assert deleted["deleteTarget"] == dropped["id"]
    assert rest_target(api, dropped["id"])[0] == 404
    again = gql(gateway, DELETE_TARGET, {"id": dropped["id"], "v": None})
    assert error_codes(again) == ["TARGET_NOT_FOUND"]


def test_a_planner_moves_a_risk_to_mitigating(api: Api, unique: str) -> None:
    plan = create_plan(api, f"upd-risk-{unique}")
    gateway = api.client("gateway")
    risk = ok(
        gql(
            gateway,
            'mutation($plan: ID!) { addRisk(planId: $plan, input: {title: "Supplier late", '
            'category: "supply_chain", likelihood: 3, impact: 4}) { id status } }',
            {"plan": plan["id"]},
        )
    )["addRisk"]

    moved = ok(
        gql(
            gateway,
            'mutation($id: ID!) { updateRisk(id: $id, input: {status: "mitigating", '
            'mitigation: "Second supplier"}) { id status mitigation likelihood } }',
            {"id": risk["id"]},
        )
    )["updateRisk"]

    assert moved == {
        "id": risk["id"],
        "status": "mitigating",
        "mitigation": "Second supplier",
        "likelihood": 3,
    }
