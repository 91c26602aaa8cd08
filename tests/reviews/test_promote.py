"""An action item becomes a task of the next quarter exactly once — through retries, double
clicks, concurrent calls and the targets service being down."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.stack import SERVICES, Stack
from tests.conftest import Api
from tests.reviews.support import Scenario, ok, problem


@pytest.fixture
def scenario(api: Api, unique: str) -> Scenario:
    return Scenario(api, unique).create_plan()


def action_item(s: Scenario, review_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "title": f"Simplify registration {s.unique}",
        "department": "tech",
        "due_on": "2025-08-31",
    } | fields
    return ok(s.reviews_api().post(f"/v1/reviews/{review_id}/action-items", json=body), 201)  # type: ignore[no-any-return]


def tasks_with_ref(s: Scenario, external_ref: str) -> list[dict[str, Any]]:
    page = ok(s.targets_api().get(f"/v1/plans/{s.plan_id}/tasks", params={"quarter": "2025Q3", "limit": 500}))
    return [t for t in page["items"] if t["external_ref"] == external_ref]


def promote_path(review_id: str, item_id: str) -> str:
    return f"/v1/reviews/{review_id}/action-items/{item_id}/promote"


def test_promoting_creates_the_task_in_the_next_quarter_and_a_retry_returns_it(scenario: Scenario) -> None:
    target = scenario.target(target_value="1000")
    review = scenario.open_review("2025Q2")
    scenario.snapshot(review["id"])
    finding = ok(
        scenario.reviews_api().post(
            f"/v1/reviews/{review['id']}/findings",
            json={"kind": "cause", "text": "Sign-up was too complex", "target_ids": [target["id"]]},
        ),
        201,
    )
    item = action_item(scenario, review["id"], finding_id=finding["id"])
    first = scenario.reviews_api().post(promote_path(review["id"], item["id"]))
    assert first.status_code == 201, first.text
    promoted = first.json()
    assert promoted["created"] is True
    assert promoted["action_item"]["status"] == "promoted"
    assert promoted["action_item"]["task_period"] == "2025Q3"
    task = ok(scenario.targets_api().get(f"/v1/tasks/{promoted['task_id']}"))
    assert (task["period"], task["department"], task["title"]) == ("2025Q3", "tech", item["title"])
    assert task["external_ref"] == f"review:{review['id']}:action:{item['id']}"
    assert task["target_ids"] == [target["id"]]
    retry = ok(scenario.reviews_api().post(promote_path(review["id"], item["id"])))
    assert (retry["created"], retry["task_id"]) == (False, promoted["task_id"])
    read = ok(scenario.reviews_api().get(f"/v1/reviews/{review['id']}"))
    assert read["action_items"][0]["task_id"] == promoted["task_id"]
    assert len(tasks_with_ref(scenario, task["external_ref"])) == 1


def test_concurrent_promotes_create_exactly_one_task(scenario: Scenario) -> None:
    review = scenario.open_review("2025Q2")
    item = action_item(scenario, review["id"])
    clients = [scenario.reviews_api() for _ in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda c: c.post(promote_path(review["id"], item["id"])), clients))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 201], [a.text for a in answers]
    assert len({a.json()["task_id"] for a in answers}) == 1
    assert len(tasks_with_ref(scenario, f"review:{review['id']}:action:{item['id']}")) == 1


def test_an_action_item_of_a_finalized_review_may_still_be_promoted(scenario: Scenario) -> None:
    scenario.target(target_value="1000")
    review = scenario.open_review("2025Q2")
    item = action_item(scenario, review["id"])
    scenario.snapshot(review["id"])
    ok(scenario.reviews_api().post(f"/v1/reviews/{review['id']}/finalize"))
    assert scenario.reviews_api().post(promote_path(review["id"], item["id"])).status_code == 201


def test_only_review_writers_promote(scenario: Scenario) -> None:
    review = scenario.open_review("2025Q2")
    item = action_item(scenario, review["id"])
    member = scenario.reviews_api("member", "tech")
    problem(member.post(promote_path(review["id"], item["id"])), 403, "forbidden")
    problem(
        scenario.reviews_api().post(promote_path(review["id"], review["id"])), 404, "action_item_not_found"
    )


def test_targets_down_while_promoting_leaves_the_item_open_and_the_retry_creates_one_task(
    scenario: Scenario, stack: Stack
) -> None:
    review = scenario.open_review("2025Q2")
    item = action_item(scenario, review["id"])
    path = promote_path(review["id"], item["id"])
    spec = next(s for s in SERVICES if s.name == "targets")
    stack.stop_service("targets")
    try:
        body = problem(scenario.reviews_api().post(path), 503, "service_unavailable")
        assert body["service"] == "targets"
        still = ok(scenario.reviews_api().get(f"/v1/reviews/{review['id']}/action-items"))["items"][0]
        assert (still["status"], still["task_id"]) == ("open", None)
    finally:
        if "targets" not in stack.running:
            stack.start_service(spec)
        stack.wait_ready(names=("targets",))
    retried = scenario.reviews_api().post(path)
    assert retried.status_code == 201, retried.text
    again = ok(scenario.reviews_api().post(path))
    assert again["task_id"] == retried.json()["task_id"]
    assert len(tasks_with_ref(scenario, f"review:{review['id']}:action:{item['id']}")) == 1


def test_a_q4_action_item_goes_to_next_years_plan_named_by_the_caller(scenario: Scenario) -> None:
    target = scenario.target(target_value="1000")
    review = scenario.open_review("2025Q4")
    finding = ok(
        scenario.reviews_api().post(
            f"/v1/reviews/{review['id']}/findings",
            json={"kind": "lesson", "text": "Double 11 stock ran out", "target_ids": [target["id"]]},
        ),
        201,
    )
    item = action_item(scenario, review["id"], finding_id=finding["id"], due_on="2026-01-31")
    path = promote_path(review["id"], item["id"])

    # 2026Q1 is not in the 2025 plan: the caller must say which plan runs it.
    refused = problem(scenario.reviews_api().post(path), 409, "next_plan_required")
    assert "2026Q1" in refused["detail"]
    assert ok(scenario.reviews_api().get(f"/v1/reviews/{review['id']}"))["action_items"][0]["task_id"] is None
    # Naming a plan that does not run 2026Q1 is refused there, and frees the choice of plan.
    wrong = problem(
        scenario.reviews_api().post(path, json={"plan_id": scenario.plan_id}), 422, "invalid_tasks"
    )
    assert [e["code"] for e in wrong["errors"]] == ["period_outside_plan"]

    next_year = ok(
        scenario.targets_api().post(
            "/v1/plans",
            json={
                "code": f"rv-{scenario.unique}-2026",
                "name": "Next year",
                "fiscal_year": 2026,
                "status": "draft",
            },
        ),
        201,
    )
    promoted = scenario.reviews_api().post(path, json={"plan_id": next_year["id"]})

    assert promoted.status_code == 201, promoted.text
    assert promoted.json()["action_item"]["task_period"] == "2026Q1"
    assert promoted.json()["action_item"]["task_plan_id"] == next_year["id"]
    task = ok(scenario.targets_api().get(f"/v1/tasks/{promoted.json()['task_id']}"))
    assert (task["plan_id"], task["period"]) == (next_year["id"], "2026Q1")
    # The finding's targets belong to the 2025 plan: named in the description, not linked.
    assert task["target_ids"] == []
    assert target["id"] in task["description"]
    retry = ok(scenario.reviews_api().post(path, json={"plan_id": next_year["id"]}))
    assert (retry["created"], retry["task_id"]) == (False, promoted.json()["task_id"])


def test_a_retry_after_a_failed_promote_goes_to_the_plan_first_chosen(
    scenario: Scenario, stack: Stack
) -> None:
    review = scenario.open_review("2025Q4")
    item = action_item(scenario, review["id"], due_on="2026-01-31")
    path = promote_path(review["id"], item["id"])
    plans = [
        ok(
            scenario.targets_api().post(
                "/v1/plans",
                json={"code": f"rv-{scenario.unique}-{n}", "name": n, "fiscal_year": 2026, "status": "draft"},
            ),
            201,
        )
        for n in ("a", "b")
    ]
    spec = next(s for s in SERVICES if s.name == "targets")
    stack.stop_service("targets")
    try:
        # Whether the targets service created the task before failing, nobody can tell.
        problem(
            scenario.reviews_api().post(path, json={"plan_id": plans[0]["id"]}), 503, "service_unavailable"
        )
    finally:
        if "targets" not in stack.running:
            stack.start_service(spec)
        stack.wait_ready(names=("targets",))

    elsewhere = problem(
        scenario.reviews_api().post(path, json={"plan_id": plans[1]["id"]}), 409, "promoted_to_another_plan"
    )
    assert elsewhere["task_plan_id"] == plans[0]["id"]
    promoted = ok(scenario.reviews_api().post(path), 201)  # no plan named: the one chosen first

    assert promoted["action_item"]["task_plan_id"] == plans[0]["id"]
    task = ok(scenario.targets_api().get(f"/v1/tasks/{promoted['task_id']}"))
    assert task["plan_id"] == plans[0]["id"]
    other = ok(scenario.targets_api().get(f"/v1/plans/{plans[1]['id']}/tasks", params={"quarter": "2026Q1"}))
    assert other["items"] == []
