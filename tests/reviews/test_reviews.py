"""Opening reviews, findings, action items, who may do what, finalize and the report."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import Api, every_item
from tests.reviews.support import Scenario, ok, problem


@pytest.fixture
def scenario(api: Api, unique: str) -> Scenario:
    return Scenario(api, unique).create_plan()


@pytest.fixture
def review(scenario: Scenario) -> dict:  # type: ignore[type-arg]
    return scenario.open_review()


def test_a_review_opens_as_a_draft_for_a_quarter_of_the_plan(scenario: Scenario) -> None:
    review = scenario.open_review("2025Q2")
    assert (review["plan_id"], review["quarter"], review["status"]) == (scenario.plan_id, "2025Q2", "draft")
    assert review["snapshot"] is None
    assert review["findings"] == [] and review["action_items"] == []


def test_a_second_review_of_the_same_quarter_is_refused_naming_the_first(scenario: Scenario) -> None:
    first = scenario.open_review("2025Q3")
    again = scenario.reviews_api().post(
        "/v1/reviews", json={"plan_id": scenario.plan_id, "quarter": "2025Q3"}
    )
    body = problem(again, 409, "review_exists")
    assert body["existing_id"] == first["id"]


def test_concurrent_opens_of_one_quarter_yield_one_review(scenario: Scenario) -> None:
    body = {"plan_id": scenario.plan_id, "quarter": "2025Q4"}
    clients = [scenario.reviews_api() for _ in range(5)]
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda c: c.post("/v1/reviews", json=body), clients))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409], [a.text for a in answers]
    created = next(a.json() for a in answers if a.status_code == 201)
    assert {a.json()["existing_id"] for a in answers if a.status_code == 409} == {created["id"]}


def test_an_unknown_plan_is_refused_with_plan_not_found(api: Api) -> None:
    response = api.client("reviews").post(
        "/v1/reviews", json={"plan_id": str(uuid.uuid4()), "quarter": "2025Q2"}
    )
    problem(response, 404, "plan_not_found")


def test_a_quarter_outside_the_plan_is_refused(scenario: Scenario) -> None:
    response = scenario.reviews_api().post(
        "/v1/reviews", json={"plan_id": scenario.plan_id, "quarter": "2026Q1"}
    )
    problem(response, 422, "quarter_outside_plan")


def test_reviews_are_listed_by_plan_for_every_role(scenario: Scenario, api: Api) -> None:
    review = scenario.open_review("2025Q1")
    for role in ("viewer", "member", "planner", "admin"):
        page = ok(api.client("reviews", role=role).get("/v1/reviews", params={"plan_id": scenario.plan_id}))
        assert [r["id"] for r in page["items"]] == [review["id"]]
    assert ok(api.client("reviews", role="viewer").get("/v1/reviews"))["items"]


def test_viewers_and_members_may_not_open_reviews(scenario: Scenario) -> None:
    body = {"plan_id": scenario.plan_id, "quarter": "2025Q2"}
    problem(scenario.reviews_api("viewer").post("/v1/reviews", json=body), 403, "forbidden")
    problem(scenario.reviews_api("member", "marketing").post("/v1/reviews", json=body), 403, "forbidden")


def test_findings_record_causes_successes_and_lessons(scenario: Scenario, review: dict) -> None:  # type: ignore[type-arg]
    api = scenario.reviews_api()
    finding = ok(
        api.post(
            f"/v1/reviews/{review['id']}/findings",
            json={"kind": "cause", "text": "Sign-up was too complex", "department": "tech"},
        ),
        201,
    )
    assert finding["kind"] == "cause" and finding["department"] == "tech"
    read = ok(api.get(f"/v1/reviews/{review['id']}"))
    assert [f["id"] for f in read["findings"]] == [finding["id"]]
    assert read["version"] == review["version"] + 1


def test_a_member_adds_findings_for_their_own_department_only(scenario: Scenario, review: dict) -> None:  # type: ignore[type-arg]
    member = scenario.reviews_api("member", "operations")
    path = f"/v1/reviews/{review['id']}/findings"
    ok(
        member.post(path, json={"kind": "lesson", "text": "Stock up before 618", "department": "operations"}),
        201,
    )
    problem(
        member.post(path, json={"kind": "lesson", "text": "x", "department": "marketing"}),
        403,
        "forbidden_department",
    )
    problem(member.post(path, json={"kind": "lesson", "text": "x"}), 403, "forbidden_department")
    problem(scenario.reviews_api("viewer").post(path, json={"kind": "lesson", "text": "x"}), 403, "forbidden")
    assert len(ok(scenario.reviews_api().get(path))["items"]) == 1


def test_an_action_item_follows_a_finding_of_its_review(scenario: Scenario, review: dict) -> None:  # type: ignore[type-arg]
    api = scenario.reviews_api()
    finding = ok(
        api.post(f"/v1/reviews/{review['id']}/findings", json={"kind": "cause", "text": "Slow checkout"}), 201
    )
    item = ok(
        api.post(
            f"/v1/reviews/{review['id']}/action-items",
            json={
                "title": "Simplify registration",
                "department": "tech",
                "due_on": "2025-08-31",
                "finding_id": finding["id"],
            },
        ),
        201,
    )
    assert (item["status"], item["task_id"], item["finding_id"]) == ("open", None, finding["id"])
    stranger = api.post(
        f"/v1/reviews/{review['id']}/action-items",
        json={"title": "x", "department": "tech", "finding_id": str(uuid.uuid4())},
    )
    problem(stranger, 422, "finding_not_found")
    member = scenario.reviews_api("member", "tech")
    problem(
        member.post(f"/v1/reviews/{review['id']}/action-items", json={"title": "x", "department": "tech"}),
        403,
        "forbidden",
    )


def test_a_finding_or_action_item_of_an_unknown_department_is_refused_and_nothing_is_stored(
    scenario: Scenario,
    review: dict,  # type: ignore[type-arg]
) -> None:
    api, rid = scenario.reviews_api(), review["id"]
    problem(
        api.post(f"/v1/reviews/{rid}/findings", json={"kind": "cause", "text": "x", "department": "nope"}),
        422,
        "unknown_department",
    )
    # Refused when written down, not later when the action item is promoted to a task.
    problem(
        api.post(
            f"/v1/reviews/{rid}/action-items",
            json={"title": "x", "department": "nope", "due_on": "2025-08-31"},
        ),
        422,
        "unknown_department",
    )
    stored = ok(api.get(f"/v1/reviews/{rid}"))
    assert (stored["findings"], stored["action_items"]) == ([], [])


def test_an_unknown_review_is_not_found(api: Api) -> None:
    problem(api.client("reviews").get(f"/v1/reviews/{uuid.uuid4()}"), 404, "review_not_found")


def test_a_review_without_snapshot_cannot_be_finalized(scenario: Scenario, review: dict) -> None:  # type: ignore[type-arg]
    problem(scenario.reviews_api().post(f"/v1/reviews/{review['id']}/finalize"), 409, "snapshot_required")


def test_a_finalized_review_refuses_every_edit_and_keeps_what_it_froze(
    scenario: Scenario, review: dict
) -> None:  # type: ignore[type-arg]
    api = scenario.reviews_api()
    rid = review["id"]
    scenario.target(target_value="1000")
    scenario.snapshot(rid)
    finalized = ok(api.post(f"/v1/reviews/{rid}/finalize"))
    assert finalized["status"] == "finalized" and finalized["finalized_at"]
    for path, body in (
        (f"/v1/reviews/{rid}/snapshot", None),
        (f"/v1/reviews/{rid}/findings", {"kind": "cause", "text": "late"}),
        (f"/v1/reviews/{rid}/action-items", {"title": "late", "department": "tech"}),
        (f"/v1/reviews/{rid}/finalize", None),
    ):
        problem(api.post(path, json=body), 409, "review_finalized")
    after = ok(api.get(f"/v1/reviews/{rid}"))
    assert after == finalized


def test_the_report_reads_as_a_meeting_document(scenario: Scenario, review: dict) -> None:  # type: ignore[type-arg]
    api = scenario.reviews_api()
    rid = review["id"]
    scenario.target(target_value="1000")
    scenario.snapshot(rid)
    ok(
        api.post(f"/v1/reviews/{rid}/findings", json={"kind": "cause", "text": "Sign-up was too complex"}),
        201,
    )
    ok(
        api.post(
            f"/v1/reviews/{rid}/action-items", json={"title": "Simplify registration", "department": "tech"}
        ),
        201,
    )
    response = scenario.reviews_api("viewer").get(f"/v1/reviews/{rid}/report.md")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# Quarterly review 2025Q2")
    for heading in (
        "## Scorecard",
        "## Targets",
        "## Where the variance comes from",
        "## Findings",
        "## Action items",
    ):
        assert heading in text
    assert f"GMV {scenario.unique}" in text
    assert "Sign-up was too complex" in text and "Simplify registration" in text


def test_every_change_is_in_the_audit_trail(scenario: Scenario, review: dict) -> None:  # type: ignore[type-arg]
    api = scenario.reviews_api()
    ok(
        api.post(f"/v1/reviews/{review['id']}/findings", json={"kind": "success", "text": "618 went well"}),
        201,
    )
    trail = ok(api.get("/v1/audit", params={"entity_type": "review", "entity_id": review["id"]}))
    assert [e["action"] for e in trail["items"]] == ["create"]
    assert trail["items"][0]["actor"] == "test-planner"
    findings = ok(api.get("/v1/audit", params={"entity_type": "finding"}))
    assert any(e["changes"].get("text", {}).get("to") == "618 went well" for e in findings["items"])


def test_findings_and_action_items_are_read_in_pages_oldest_first(api: Api, unique: str) -> None:
    scenario = Scenario(api, unique).create_plan()
    review = scenario.open_review("2025Q2")
    scenario.snapshot(review["id"])
    writer = scenario.reviews_api()
    for i in range(5):
        finding = {"kind": "lesson", "text": f"lesson {i}"}
        assert writer.post(f"/v1/reviews/{review['id']}/findings", json=finding).status_code == 201
        item = {"title": f"action {i}", "department": "tech"}
        assert writer.post(f"/v1/reviews/{review['id']}/action-items", json=item).status_code == 201

    findings = every_item(writer, f"/v1/reviews/{review['id']}/findings", page_size=2)
    items = every_item(writer, f"/v1/reviews/{review['id']}/action-items", page_size=2)

    assert [f["text"] for f in findings] == [f"lesson {i}" for i in range(5)]
    assert [a["title"] for a in items] == [f"action {i}" for i in range(5)]
