"""What planners and reviewers do, through the gateway alone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import Api
from tests.gateway.builders import create_gmv_targets, create_plan
from tests.gateway.conftest import error_codes, gql


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def test_a_planner_builds_a_plan_with_a_decomposed_target_tasks_and_a_risk(api: Api, unique: str) -> None:
    gateway = api.client("gateway")
    plan = ok(
        gql(
            gateway,
            'mutation($code: String!) { createPlan(input: {code: $code, name: "FY", fiscalYear: 2025, '
            'status: "active"}) { id code fiscalYear startsOn endsOn thresholds { onTrack atRisk } } }',
            {"code": f"mut-{unique}"},
        )
    )["createPlan"]
    assert (plan["startsOn"], plan["endsOn"]) == ("2025-01-01", "2025-12-31")
    assert Decimal(plan["thresholds"]["atRisk"]) == Decimal("0.90")

    target = ok(
        gql(
            gateway,
            "mutation($plan: ID!, $input: CreateTargetInput!) { createTarget(planId: $plan, input: $input) "
            "{ id metricKey targetValue scope { category } period } }",
            {
                "plan": plan["id"],
                "input": {
                    "name": "GMV beauty",
                    "metric": "gmv",
                    "scope": {"category": f"beauty-{unique}"},
                    "period": "2025",
                    "targetValue": "1200.00",
                    "department": "marketing",
                },
            },
        )
    )["createTarget"]
    assert Decimal(target["targetValue"]) == Decimal("1200")
    assert target["scope"] == {"category": f"beauty-{unique}"}

    children = ok(
        gql(
            gateway,
            "mutation($id: ID!) { decomposeTarget(targetId: $id, input: {by: QUARTER, weights: EVEN}) "
            "{ period targetValue parentId } }",
            {"id": target["id"]},
        )
    )["decomposeTarget"]
    assert [c["period"] for c in children] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert sum(Decimal(c["targetValue"]) for c in children) == Decimal("1200")
    assert {c["parentId"] for c in children} == {target["id"]}

    bulk = """mutation($plan: ID!, $tasks: [TaskInput!]!) {
        bulkCreateTasks(planId: $plan, tasks: $tasks) { results { index id created } } }"""
    tasks = [
        {"title": f"Task {i}", "period": "2025Q3", "department": "marketing", "externalRef": f"ext-{i}"}
        for i in range(3)
    ]
    first = ok(gql(gateway, bulk, {"plan": plan["id"], "tasks": tasks}))["bulkCreateTasks"]["results"]
    again = ok(gql(gateway, bulk, {"plan": plan["id"], "tasks": tasks}))["bulkCreateTasks"]["results"]
    assert [r["created"] for r in first] == [True, True, True]
    assert [r["created"] for r in again] == [False, False, False]
    assert [r["id"] for r in again] == [r["id"] for r in first]

    move = """mutation($id: ID!, $v: Int) {
        updateTaskStatus(taskId: $id, status: "in_progress", expectedVersion: $v) { status version } }"""
    moved = ok(gql(gateway, move, {"id": first[0]["id"], "v": 1}))["updateTaskStatus"]
    assert moved == {"status": "in_progress", "version": 2}
    stale = gql(gateway, move, {"id": first[0]["id"], "v": 1})
    assert stale["data"] == {"updateTaskStatus": None}
    assert error_codes(stale) == ["PRECONDITION_FAILED"]

    ok(
        gql(
            gateway,
            'mutation($plan: ID!) { addRisk(planId: $plan, input: {title: "Traffic spike on 618", '
            'category: "traffic_spike", likelihood: 4, impact: 5, ownerDepartment: "tech"}) { id score } }',
            {"plan": plan["id"]},
        )
    )

    page = ok(
        gql(
            gateway,
            """query($id: ID!) { plan(id: $id) {
                tasks(quarter: "2025Q3", department: "marketing") { items { externalRef status } nextCursor }
                risks { title score ownerDepartment }
                targets(topLevelOnly: true) { id children { period } }
            } }""",
            {"id": plan["id"]},
        )
    )["plan"]
    assert sorted(t["externalRef"] for t in page["tasks"]["items"]) == ["ext-0", "ext-1", "ext-2"]
    assert page["risks"] == [{"title": "Traffic spike on 618", "score": 20, "ownerDepartment": "tech"}]
    assert [len(t["children"]) for t in page["targets"]] == [4]

    trail = ok(
        gql(
            gateway,
            "query($id: ID!) { auditTrail(entity: {type: TASK, id: $id}) "
            "{ items { action actor changes } } }",
            {"id": first[0]["id"]},
        )
    )["auditTrail"]["items"]
    assert len(trail) >= 2
    assert {"from": "todo", "to": "in_progress"} in [entry["changes"].get("status") for entry in trail]


def test_a_reviewer_runs_a_quarterly_retrospective_to_the_end(api: Api, unique: str) -> None:
    plan = create_plan(api, f"rev-{unique}")
    [target] = create_gmv_targets(api, plan["id"], [f"rev-{unique}"], value="800")
    gateway = api.client("gateway")

    review = ok(
        gql(
            gateway,
            'mutation($plan: ID!) { createReview(planId: $plan, quarter: "2025Q2") { id status quarter } }',
            {"plan": plan["id"]},
        )
    )["createReview"]
    assert review["status"] == "draft"

    snap = ok(
        gql(
            gateway,
            'mutation($id: ID!) { snapshotReview(reviewId: $id, asOf: "2025-06-30") '
            "{ snapshot { asOf items { targetId actual health } } scorecard { overall { targets } } } }",
            {"id": review["id"]},
        )
    )["snapshotReview"]
    assert snap["snapshot"]["asOf"] == "2025-06-30"
    assert target["id"] in {item["targetId"] for item in snap["snapshot"]["items"]}

    finding = ok(
        gql(
            gateway,
            "mutation($id: ID!, $t: ID!) { addFinding(reviewId: $id, input: "
            '{kind: CAUSE, text: "Traffic fell", targetIds: [$t], department: "marketing"}) '
            "{ id kind targetIds } }",
            {"id": review["id"], "t": target["id"]},
        )
    )["addFinding"]
    assert finding["kind"] == "CAUSE"

    item = ok(
        gql(
            gateway,
            'mutation($id: ID!, $f: ID!) { addActionItem(reviewId: $id, input: {title: "Fix search", '
            'department: "tech", dueOn: "2025-08-15", findingId: $f}) { id status taskId } }',
            {"id": review["id"], "f": finding["id"]},
        )
    )["addActionItem"]
    assert item["taskId"] is None

    promote = """mutation($id: ID!, $item: ID!) {
        promoteActionItem(reviewId: $id, actionItemId: $item) { status taskId } }"""
    promoted = ok(gql(gateway, promote, {"id": review["id"], "item": item["id"]}))["promoteActionItem"]
    assert promoted["taskId"]
    twice = ok(gql(gateway, promote, {"id": review["id"], "item": item["id"]}))["promoteActionItem"]
    assert twice["taskId"] == promoted["taskId"]

    final = ok(
        gql(gateway, "mutation($id: ID!) { finalizeReview(reviewId: $id) { status } }", {"id": review["id"]})
    )
    assert final["finalizeReview"]["status"] == "finalized"
    late = gql(
        gateway,
        'mutation($id: ID!) { addFinding(reviewId: $id, input: {kind: LESSON, text: "late"}) { id } }',
        {"id": review["id"]},
    )
    assert late["data"] == {"addFinding": None}
    assert late["errors"][0]["extensions"]["status"] == 409

    shown = ok(
        gql(
            gateway,
            """query($plan: ID!) { plan(id: $plan) {
                reviews { quarter status findings { text } actionItems { title taskId } report }
                tasks(quarter: "2025Q3") { items { title } } } }""",
            {"plan": plan["id"]},
        )
    )["plan"]
    [shown_review] = shown["reviews"]
    assert shown_review["findings"] == [{"text": "Traffic fell"}]
    assert shown_review["actionItems"] == [{"title": "Fix search", "taskId": promoted["taskId"]}]
    assert "2025Q2" in shown_review["report"]
    assert "Fix search" in [t["title"] for t in shown["tasks"]["items"]]
