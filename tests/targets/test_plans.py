"""Plans: calendar-year defaults, unique codes, the status workflow, optimistic concurrency."""

from __future__ import annotations

from tests.conftest import Api, every_item
from tests.targets.helpers import create_plan, problem


def test_a_plan_defaults_to_its_calendar_year_business_zone_and_standard_thresholds(
    api: Api, unique: str
) -> None:
    plan = create_plan(api, unique, fiscal_year=2026)
    assert (plan["starts_on"], plan["ends_on"]) == ("2026-01-01", "2026-12-31")
    assert plan["timezone"] == "Asia/Shanghai"
    assert plan["status"] == "draft" and plan["version"] == 1
    assert plan["thresholds"] == {"on_track": "1.00", "at_risk": "0.90"}


def test_a_taken_plan_code_is_refused(api: Api, unique: str) -> None:
    create_plan(api, unique)
    response = api.client("targets").post(
        "/v1/plans", json={"code": f"P-{unique}", "name": "x", "fiscal_year": 2025}
    )
    problem(response, 409, "plan_code_taken")


def test_plans_are_listed_by_code_in_pages_for_every_role(api: Api, unique: str) -> None:
    for i in range(3):
        create_plan(api, f"{unique}-{i}")
    viewer = api.client("targets", role="viewer")
    first = viewer.get("/v1/plans", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    one = viewer.get("/v1/plans", params={"code": f"P-{unique}-1"}).json()
    assert [p["code"] for p in one["items"]] == [f"P-{unique}-1"]


def test_a_plan_moves_from_draft_to_active_to_closed(api: Api, unique: str) -> None:
    plan = create_plan(api, unique)
    client = api.client("targets")
    active = client.patch(f"/v1/plans/{plan['id']}", json={"status": "active"}, headers={"If-Match": '"1"'})
    assert active.status_code == 200 and active.json()["status"] == "active"
    assert active.headers["etag"] == '"2"'
    closed = client.patch(f"/v1/plans/{plan['id']}", json={"status": "closed"}, headers={"If-Match": '"2"'})
    assert closed.json()["status"] == "closed"


def test_a_closed_plan_is_read_only_its_thresholds_included(api: Api, unique: str) -> None:
    plan = create_plan(api, unique, status="active")
    client = api.client("targets")
    closed = client.patch(f"/v1/plans/{plan['id']}", json={"status": "closed"}, headers={"If-Match": '"1"'})
    assert closed.status_code == 200, closed.text

    # New thresholds would recolour every target of a year already closed.
    refused = client.patch(
        f"/v1/plans/{plan['id']}",
        json={"thresholds": {"on_track": "0.5", "at_risk": "0.1"}, "name": "renamed"},
        headers={"If-Match": '"2"'},
    )

    problem(refused, 409, "plan_closed")
    after = client.get(f"/v1/plans/{plan['id']}").json()
    assert (after["version"], after["name"], after["thresholds"]) == (
        2,
        plan["name"],
        closed.json()["thresholds"],
    )


def test_a_plan_cannot_go_back_from_active_to_draft(api: Api, unique: str) -> None:
    plan = create_plan(api, unique, status="active")
    response = api.client("targets").patch(
        f"/v1/plans/{plan['id']}", json={"status": "draft"}, headers={"If-Match": '"1"'}
    )
    problem(response, 409, "illegal_status_transition")


def test_changing_a_plan_without_if_match_is_refused(api: Api, unique: str) -> None:
    plan = create_plan(api, unique)
    problem(
        api.client("targets").patch(f"/v1/plans/{plan['id']}", json={"name": "x"}),
        428,
        "precondition_required",
    )


def test_a_stale_if_match_on_a_plan_is_refused_and_the_first_write_kept(api: Api, unique: str) -> None:
    plan = create_plan(api, unique)
    client = api.client("targets")
    assert (
        client.patch(
            f"/v1/plans/{plan['id']}", json={"name": "first"}, headers={"If-Match": '"1"'}
        ).status_code
        == 200
    )
    stale = client.patch(f"/v1/plans/{plan['id']}", json={"name": "second"}, headers={"If-Match": '"1"'})
    problem(stale, 412, "precondition_failed")
    assert client.get(f"/v1/plans/{plan['id']}").json()["name"] == "first"


def test_at_risk_above_on_track_is_refused(api: Api, unique: str) -> None:
    response = api.client("targets").post(
        "/v1/plans",
        json={
            "code": f"P-{unique}",
            "name": "x",
            "fiscal_year": 2025,
            "thresholds": {"on_track": "1", "at_risk": "1.2"},
        },
    )
    problem(response, 422, "invalid_thresholds")


def test_viewers_and_members_cannot_create_plans(api: Api, unique: str) -> None:
    body = {"code": f"P-{unique}", "name": "x", "fiscal_year": 2025}
    for role in ("viewer", "member"):
        problem(api.client("targets", role=role).post("/v1/plans", json=body), 403, "forbidden")


def test_plan_changes_are_in_the_audit_trail(api: Api, unique: str) -> None:
    plan = create_plan(api, unique)
    api.client("targets").patch(
        f"/v1/plans/{plan['id']}", json={"name": "renamed"}, headers={"If-Match": '"1"'}
    )
    trail = (
        api.client("targets", role="viewer")
        .get("/v1/audit", params={"entity_type": "plan", "entity_id": plan["id"]})
        .json()["items"]
    )
    assert [e["action"] for e in trail] == ["update", "create"]
    assert trail[0]["changes"]["name"] == {"from": f"Plan {unique}", "to": "renamed"}
    assert trail[0]["actor"] == "test-planner"


def test_departments_are_seeded_and_planners_add_more(api: Api, unique: str) -> None:
    client = api.client("targets")
    keys = {d["key"] for d in every_item(client, "/v1/departments", page_size=500)}
    assert {"marketing", "operations", "tech", "customer_service", "supply_chain", "finance"} <= keys
    key = f"growth_{unique}"
    assert client.post("/v1/departments", json={"key": key, "name": "Growth"}).status_code == 201
    problem(client.post("/v1/departments", json={"key": key, "name": "Growth"}), 409, "department_taken")
