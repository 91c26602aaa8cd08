"""Targets: SMART checks (each refusal its own code), frozen growth baselines, ETag/If-Match."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.conftest import Api
from tests.targets.helpers import create_plan, create_target, daily, problem, push


@pytest.fixture
def plan(api: Api, unique: str) -> dict[str, Any]:
    return create_plan(api, unique)


def post(api: Api, plan: dict[str, Any], **body: Any) -> Any:
    return api.client("targets").post(f"/v1/plans/{plan['id']}/targets", json=body)


def test_an_absolute_target_takes_direction_and_additivity_from_the_metric(
    api: Api, plan: dict[str, Any]
) -> None:
    target = create_target(api, plan["id"], metric="bounce_rate", period="2025Q2", target_value="0.35")
    assert target["direction"] == "lower_is_better" and target["additive"] is False
    gmv = create_target(
        api, plan["id"], metric="gmv", period="2025-05", target_value=1000, department="marketing"
    )
    assert gmv["direction"] == "higher_is_better" and gmv["additive"] is True
    assert (gmv["starts_on"], gmv["ends_on"], gmv["target_value"]) == ("2025-05-01", "2025-05-31", "1000")


def test_a_target_may_use_explicit_dates_inside_the_plan(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(
        api, plan["id"], metric="orders", starts_on="2025-06-01", ends_on="2025-06-18", target_value=50
    )
    assert target["period"] is None and target["ends_on"] == "2025-06-18"


def test_a_growth_target_freezes_last_years_same_period_as_baseline(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    category = f"beauty-{unique}"
    push(api, daily("gmv", date(2024, 4, 1), date(2024, 6, 30), "10.00", category=category))
    target = create_target(
        api, plan["id"], metric="gmv", scope={"category": category}, period="2025Q2", growth_pct=30
    )
    assert target["kind"] == "growth"
    assert target["baseline_value"] == "910.00"
    assert target["target_value"] == "1183.00"
    # Later history does not move a committed baseline.
    push(api, daily("gmv", date(2024, 4, 1), date(2024, 4, 3), "5.00", category=category))
    assert api.client("targets").get(f"/v1/targets/{target['id']}").json()["baseline_value"] == "910.00"


def test_a_growth_target_without_history_is_refused_not_zeroed(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    response = post(
        api, plan, metric="gmv", scope={"category": f"new-{unique}"}, period="2025Q2", growth_pct=30
    )
    problem(response, 422, "no_baseline_history")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"period": "2025Q2", "target_value": 1}, "missing_metric"),
        ({"metric": "no_such_metric", "period": "2025Q2", "target_value": 1}, "unknown_metric"),
        ({"metric": "gmv", "target_value": 1}, "missing_period"),
        ({"metric": "gmv", "starts_on": "2025-01-01", "target_value": 1}, "missing_period"),
        ({"metric": "gmv", "period": "2025Q5", "target_value": 1}, "invalid_period"),
        (
            {"metric": "gmv", "starts_on": "2025-03-01", "ends_on": "2025-02-01", "target_value": 1},
            "invalid_period",
        ),
        ({"metric": "gmv", "period": "2026Q1", "target_value": 1}, "period_outside_plan"),
        ({"metric": "gmv", "period": "2025Q2"}, "missing_value"),
        ({"metric": "gmv", "period": "2025Q2", "kind": "growth"}, "missing_value"),
        ({"metric": "conversion_rate", "period": "2025Q2", "target_value": "1.5"}, "value_out_of_range"),
        ({"metric": "gmv", "period": "2025Q2", "target_value": 1, "scope": {"brand": "x"}}, "invalid_scope"),
        (
            {"metric": "gmv", "period": "2025Q2", "target_value": 1, "scope": {"category": ""}},
            "invalid_scope",
        ),
        (
            {"metric": "gmv", "period": "2025Q2", "target_value": 1, "department": "nope"},
            "unknown_department",
        ),
    ],
)
def test_a_target_that_is_not_smart_is_refused_with_its_own_code(
    api: Api, plan: dict[str, Any], body: dict[str, Any], code: str
) -> None:
    problem(post(api, plan, **body), 422, code)


def test_a_plan_that_requires_a_category_refuses_a_target_without_one(api: Api, unique: str) -> None:
    plan = create_plan(api, unique, required_scope=["category"])
    problem(post(api, plan, metric="gmv", period="2025Q2", target_value=1), 422, "missing_scope")
    assert (
        post(api, plan, metric="gmv", period="2025Q2", target_value=1, scope={"category": "x"}).status_code
        == 201
    )


def test_patching_a_target_without_if_match_is_refused(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=100)
    response = api.client("targets").patch(f"/v1/targets/{target['id']}", json={"target_value": 200})
    problem(response, 428, "precondition_required")


def test_a_stale_if_match_on_a_target_is_refused_and_the_first_write_kept(
    api: Api, plan: dict[str, Any]
) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=100)
    client = api.client("targets")
    etag = client.get(f"/v1/targets/{target['id']}").headers["etag"]
    first = client.patch(
        f"/v1/targets/{target['id']}", json={"target_value": 200}, headers={"If-Match": etag}
    )
    assert first.status_code == 200 and first.headers["etag"] == '"2"'
    second = client.patch(
        f"/v1/targets/{target['id']}", json={"target_value": 300}, headers={"If-Match": etag}
    )
    problem(second, 412, "precondition_failed")
    assert client.get(f"/v1/targets/{target['id']}").json()["target_value"] == "200"


def test_changing_growth_pct_recomputes_from_the_frozen_baseline(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    category = f"home-{unique}"
    push(api, daily("orders", date(2024, 5, 1), date(2024, 5, 31), 10, category=category))
    target = create_target(
        api, plan["id"], metric="orders", scope={"category": category}, period="2025-05", growth_pct=10
    )
    assert target["target_value"] == "341"
    client = api.client("targets")
    changed = client.patch(
        f"/v1/targets/{target['id']}", json={"growth_pct": 20}, headers={"If-Match": '"1"'}
    )
    assert changed.json()["target_value"] == "372"
    refused = client.patch(
        f"/v1/targets/{target['id']}", json={"target_value": 1}, headers={"If-Match": '"2"'}
    )
    problem(refused, 422, "value_is_derived")


def test_a_deleted_target_is_gone_and_audited(api: Api, plan: dict[str, Any]) -> None:
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=100)
    client = api.client("targets")
    assert client.delete(f"/v1/targets/{target['id']}").status_code == 204
    problem(client.get(f"/v1/targets/{target['id']}"), 404, "target_not_found")
    trail = client.get("/v1/audit", params={"entity_type": "target", "entity_id": target["id"]}).json()[
        "items"
    ]
    assert [e["action"] for e in trail] == ["delete", "create"]


def test_the_audit_trail_keeps_every_digit_of_a_changed_value(api: Api, plan: dict[str, Any]) -> None:
    """Decimals are recorded as the strings the API answers, never as floats (which would
    turn 12345678901234567.89 into 1.2345678901234568e+16)."""
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value="100.50")
    client = api.client("targets")
    changed = client.patch(
        f"/v1/targets/{target['id']}",
        json={"target_value": "12345678901234567.89"},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    trail = client.get("/v1/audit", params={"entity_type": "target", "entity_id": target["id"]}).json()[
        "items"
    ]
    assert [e["action"] for e in trail] == ["update", "create"]
    assert trail[0]["changes"]["target_value"] == {"from": "100.50", "to": "12345678901234567.89"}
    assert trail[1]["changes"]["target_value"] == {"from": None, "to": "100.50"}


def test_targets_active_in_a_quarter_are_those_overlapping_it(api: Api, plan: dict[str, Any]) -> None:
    year = create_target(api, plan["id"], metric="gmv", period="2025", target_value=100)
    q2 = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=100)
    create_target(api, plan["id"], metric="gmv", period="2025Q3", target_value=100)
    listed = (
        api.client("targets", role="viewer")
        .get(f"/v1/plans/{plan['id']}/targets", params={"active_in": "2025Q2"})
        .json()
    )
    assert {t["id"] for t in listed["items"]} == {year["id"], q2["id"]}


def test_members_and_viewers_cannot_create_targets(api: Api, plan: dict[str, Any]) -> None:
    for role in ("member", "viewer"):
        response = api.client("targets", role=role).post(
            f"/v1/plans/{plan['id']}/targets", json={"metric": "gmv", "period": "2025Q2", "target_value": 1}
        )
        problem(response, 403, "forbidden")


def test_a_closed_plan_takes_no_new_targets(api: Api, unique: str) -> None:
    plan = create_plan(api, unique, status="active")
    api.client("targets").patch(
        f"/v1/plans/{plan['id']}", json={"status": "closed"}, headers={"If-Match": '"1"'}
    )
    problem(post(api, plan, metric="gmv", period="2025Q2", target_value=1), 409, "plan_closed")


def test_a_new_value_is_checked_against_the_metrics_range_as_the_catalogue_has_it_now(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    key = f"score_{unique}"
    planner = api.client("metrics", role="planner")
    created = planner.post(
        "/v1/metrics", json={"key": key, "name": "Score", "unit": "score", "value_max": 10}
    )
    assert created.status_code == 201, created.text
    target = create_target(api, plan["id"], metric=key, period="2025Q2", target_value=8)
    client = api.client("targets")
    problem(
        client.patch(f"/v1/targets/{target['id']}", json={"target_value": 50}, headers={"If-Match": '"1"'}),
        422,
        "value_out_of_range",
    )

    # The scale is widened to 0–100 in the catalogue.
    widened = planner.patch(
        f"/v1/metrics/{key}", json={"value_max": 100}, headers={"If-Match": created.headers["ETag"]}
    )
    assert widened.status_code == 200, widened.text

    changed = client.patch(
        f"/v1/targets/{target['id']}", json={"target_value": 50}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["target_value"] == "50"


def test_round_values_are_answered_in_plain_digits_never_in_exponent_notation(
    api: Api, plan: dict[str, Any]
) -> None:
    # PostgreSQL stores 400000 as one base-10000 digit and a weight; read back it must stay 400000.
    target = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value="400000")
    client = api.client("targets")
    assert client.get(f"/v1/targets/{target['id']}").json()["target_value"] == "400000"
    listed = client.get(f"/v1/plans/{plan['id']}/targets").json()["items"]
    assert [t["target_value"] for t in listed] == ["400000"]
    progress = client.get(f"/v1/targets/{target['id']}/progress", params={"as_of": "2025-05-01"}).json()
    assert progress["target_value"] == "400000"


def test_a_deleted_target_leaves_no_task_linked_to_it(api: Api, plan: dict[str, Any]) -> None:
    kept = create_target(api, plan["id"], metric="gmv", period="2025Q2", target_value=100)
    doomed = create_target(api, plan["id"], metric="orders", period="2025Q2", target_value=10)
    client = api.client("targets")
    created = client.post(
        f"/v1/plans/{plan['id']}/tasks",
        json={
            "title": "t",
            "period": "2025Q2",
            "department": "operations",
            "target_ids": [kept["id"], doomed["id"]],
        },
    )
    assert created.status_code == 201, created.text

    assert client.delete(f"/v1/targets/{doomed['id']}").status_code == 204

    task = client.get(f"/v1/tasks/{created.json()['id']}").json()
    assert (task["target_ids"], task["version"]) == ([kept["id"]], created.json()["version"] + 1)
    trail = client.get("/v1/audit", params={"entity_type": "task", "entity_id": task["id"]}).json()["items"]
    assert sorted(entry["action"] for entry in trail) == ["create", "update"]
