"""Tasks: idempotent bulk creation by external_ref, the workflow, department rules."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import Api
from tests.targets.helpers import create_plan, problem


@pytest.fixture
def plan(api: Api, unique: str) -> dict[str, Any]:
    return create_plan(api, unique)


def task(ref: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "title": f"Task {ref}",
        "period": "2025Q2",
        "department": "operations",
        "external_ref": ref,
    } | fields


def bulk(
    api: Api, plan: dict[str, Any], tasks: list[dict[str, Any]], role: str = "planner", **kw: Any
) -> Any:
    return api.client("targets", role=role).post(
        f"/v1/plans/{plan['id']}/tasks/bulk", json={"tasks": tasks}, **kw
    )


def all_tasks(api: Api, plan: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    client, items, cursor = api.client("targets", role="viewer"), [], None
    while True:
        page = client.get(
            f"/v1/plans/{plan['id']}/tasks",
            params=params | {"limit": 500} | ({"cursor": cursor} if cursor else {}),
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_a_rerun_of_a_bulk_import_creates_nothing(api: Api, plan: dict[str, Any]) -> None:
    rows = [task(f"r{i}") for i in range(5)]
    first = bulk(api, plan, rows).json()
    assert first["created"] == 5 and all(r["created"] for r in first["results"])
    again = bulk(api, plan, rows).json()
    assert again["created"] == 0
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert all(r["changed_fields"] == [] for r in again["results"])
    assert len(all_tasks(api, plan)) == 5


def test_a_rerun_that_changes_a_field_reports_it_and_keeps_the_stored_task(
    api: Api, plan: dict[str, Any]
) -> None:
    created = bulk(api, plan, [task("x", assignee="li")]).json()["results"][0]
    rerun = bulk(api, plan, [task("x", assignee="wang", period="2025-05")]).json()["results"][0]
    assert rerun["created"] is False and rerun["id"] == created["id"]
    assert rerun["changed_fields"] == ["assignee", "period"]
    stored = api.client("targets").get(f"/v1/tasks/{created['id']}").json()
    assert (stored["assignee"], stored["period"]) == ("li", "2025Q2")


def test_thousands_of_tasks_are_created_in_one_request(api: Api, plan: dict[str, Any]) -> None:
    rows = [task(f"k{i}", period=f"2025-{(i % 12) + 1:02d}") for i in range(3000)]
    response = bulk(api, plan, rows)
    assert response.status_code == 200 and response.json()["created"] == 3000
    assert len(all_tasks(api, plan)) == 3000


def test_one_invalid_row_refuses_the_whole_import_and_names_it(api: Api, plan: dict[str, Any]) -> None:
    response = bulk(api, plan, [task("ok"), task("bad", period="2026Q1"), task("worse", department="nope")])
    body = problem(response, 422, "invalid_tasks")
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (1, "period_outside_plan"),
        (2, "unknown_department"),
    ]
    assert all_tasks(api, plan) == []


def test_a_task_dated_to_a_year_is_refused(api: Api, plan: dict[str, Any]) -> None:
    body = problem(bulk(api, plan, [task("y", period="2025")]), 422, "invalid_tasks")
    assert body["errors"][0]["code"] == "invalid_period"


def test_the_idempotency_key_replays_the_first_answer(api: Api, plan: dict[str, Any]) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = bulk(api, plan, [task("i1")], headers=key)
    replay = bulk(api, plan, [task("i1")], headers=key)
    assert replay.json() == first.json() and replay.headers.get("idempotent-replayed") == "true"
    problem(bulk(api, plan, [task("i2")], headers=key), 422, "idempotency_key_reused")


def test_concurrent_imports_with_overlapping_refs_create_no_duplicate(api: Api, plan: dict[str, Any]) -> None:
    batches = [[task(f"c{i}") for i in range(start, start + 300)] for start in (0, 100, 200, 0)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda rows: bulk(api, plan, rows), batches))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert sum(a.json()["created"] for a in answers) == 500
    refs = [t["external_ref"] for t in all_tasks(api, plan)]
    assert len(refs) == len(set(refs)) == 500


def test_the_quarter_filter_includes_month_tasks_inside_it(api: Api, plan: dict[str, Any]) -> None:
    bulk(api, plan, [task("q", period="2025Q2"), task("m", period="2025-05"), task("o", period="2025-07")])
    refs = {t["external_ref"] for t in all_tasks(api, plan, quarter="2025Q2")}
    assert refs == {"q", "m"}


def test_tasks_filter_by_department_and_status(api: Api, plan: dict[str, Any]) -> None:
    bulk(api, plan, [task("a", department="tech", status="blocked"), task("b", department="tech"), task("c")])
    assert [t["external_ref"] for t in all_tasks(api, plan, department="tech", status="blocked")] == ["a"]


def test_a_task_moves_through_its_workflow_and_refuses_illegal_moves(api: Api, plan: dict[str, Any]) -> None:
    task_id = bulk(api, plan, [task("w")]).json()["results"][0]["id"]
    client = api.client("targets")
    for status in ("in_progress", "blocked", "in_progress", "done"):
        assert client.patch(f"/v1/tasks/{task_id}", json={"status": status}).json()["status"] == status
    problem(client.patch(f"/v1/tasks/{task_id}", json={"status": "todo"}), 409, "illegal_status_transition")


def test_a_member_edits_their_own_departments_tasks(api: Api, plan: dict[str, Any]) -> None:
    task_id = bulk(api, plan, [task("own")]).json()["results"][0]["id"]
    member = api.client("targets", role="member", department="operations")
    assert member.patch(f"/v1/tasks/{task_id}", json={"assignee": "me"}).json()["assignee"] == "me"


def test_a_member_cannot_edit_another_departments_task_and_nothing_changes(
    api: Api, plan: dict[str, Any]
) -> None:
    task_id = bulk(api, plan, [task("theirs", department="tech")]).json()["results"][0]["id"]
    member = api.client("targets", role="member", department="operations")
    problem(member.patch(f"/v1/tasks/{task_id}", json={"title": "mine now"}), 403, "forbidden_department")
    assert api.client("targets").get(f"/v1/tasks/{task_id}").json()["title"] == "Task theirs"


def test_a_member_cannot_move_a_task_to_another_department(api: Api, plan: dict[str, Any]) -> None:
    task_id = bulk(api, plan, [task("mv")]).json()["results"][0]["id"]
    member = api.client("targets", role="member", department="operations")
    problem(member.patch(f"/v1/tasks/{task_id}", json={"department": "tech"}), 403, "forbidden_department")
    assert api.client("targets").get(f"/v1/tasks/{task_id}").json()["department"] == "operations"


def test_a_member_cannot_bulk_create_another_departments_tasks(api: Api, plan: dict[str, Any]) -> None:
    response = bulk(api, plan, [task("m1"), task("m2", department="finance")], role="member")
    problem(response, 403, "forbidden_department")
    assert all_tasks(api, plan) == []


def test_a_member_learns_nothing_of_another_departments_task_through_its_external_ref(
    api: Api, plan: dict[str, Any]
) -> None:
    marketing = bulk(api, plan, [task("mk-1", department="marketing")]).json()["results"][0]["id"]

    # A member of operations re-using the marketing task's reference, and one new row.
    response = bulk(api, plan, [task("mk-1"), task("ops-new")], role="member")

    problem(response, 403, "forbidden_department")
    assert marketing not in response.text
    assert [t["external_ref"] for t in all_tasks(api, plan)] == ["mk-1"]


def test_a_tasks_scoped_api_key_may_bulk_create_tasks(api: Api, plan: dict[str, Any], unique: str) -> None:
    key = api.client("targets", role="admin").post(
        "/v1/api-keys", json={"name": f"script-{unique}", "scopes": ["tasks"]}
    )
    client = api.client("targets", token=key.json()["key"])
    response = client.post(f"/v1/plans/{plan['id']}/tasks/bulk", json={"tasks": [task("api")]})
    assert response.status_code == 200 and response.json()["created"] == 1


def test_viewers_cannot_create_tasks(api: Api, plan: dict[str, Any]) -> None:
    problem(bulk(api, plan, [task("v")], role="viewer"), 403, "forbidden")


def test_creating_a_known_external_ref_returns_the_existing_task(api: Api, plan: dict[str, Any]) -> None:
    client = api.client("targets")
    first = client.post(f"/v1/plans/{plan['id']}/tasks", json=task("single"))
    again = client.post(f"/v1/plans/{plan['id']}/tasks", json=task("single"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


def test_task_creation_and_changes_are_audited(api: Api, plan: dict[str, Any]) -> None:
    task_id = bulk(api, plan, [task("aud")]).json()["results"][0]["id"]
    api.client("targets").patch(f"/v1/tasks/{task_id}", json={"assignee": "zhao"})
    trail = (
        api.client("targets").get("/v1/audit", params={"entity_type": "task", "entity_id": task_id}).json()
    )
    assert [e["action"] for e in trail["items"]] == ["update", "create"]
