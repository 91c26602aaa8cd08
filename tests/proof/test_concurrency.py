"""Racing writers: optimistic concurrency lets exactly one writer per version through, locks
lose no update, and unique things stay unique when created at the same instant.

Concurrent bulk imports (tests/targets), promotes (tests/reviews), review opens (tests/reviews)
and overlapping event batches (tests/metrics) are proven where they live; this adds the races
on versions and names.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.proof.support import assert_problem, scaled

WRITERS = scaled(12, 32)
ROUNDS = scaled(3, 10)


def race(count: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """Runs `call(i)` for i in range(count) from as many threads, released at one instant."""
    barrier = threading.Barrier(count)

    def run(i: int) -> httpx.Response:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture
def plan(api: Api, unique: str) -> dict[str, Any]:
    response = api.client("targets").post(
        "/v1/plans", json={"code": f"race-{unique}", "name": f"Race {unique}", "fiscal_year": 2025}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _audit_updates(api: Api, entity_type: str, entity_id: str) -> int:
    response = api.client("targets").get(
        "/v1/audit", params={"entity_type": entity_type, "entity_id": entity_id, "limit": 500}
    )
    assert response.status_code == 200, response.text
    return sum(1 for entry in response.json()["items"] if entry["action"] == "update")


def test_racing_if_match_patches_on_a_target_let_one_writer_through_per_version(
    api: Api, plan: dict[str, Any]
) -> None:
    created = api.client("targets").post(
        f"/v1/plans/{plan['id']}/targets",
        json={
            "name": "race",
            "metric": "gmv",
            "period": "2025Q2",
            "target_value": "1000",
            "department": "marketing",
        },
    )
    assert created.status_code == 201, created.text
    target_id = created.json()["id"]
    clients = [api.client("targets") for _ in range(WRITERS)]
    for round_ in range(ROUNDS):
        version = round_ + 1
        values = [f"{1000 + round_ * 100 + i}.25" for i in range(WRITERS)]
        answers = race(
            WRITERS,
            lambda i: clients[i].patch(
                f"/v1/targets/{target_id}",
                json={"target_value": values[i]},  # noqa: B023
                headers={"If-Match": f'"{version}"'},  # noqa: B023
            ),
        )
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {200: 1, 412: WRITERS - 1}, statuses
        for loser in (a for a in answers if a.status_code == 412):
            assert_problem(loser, 412, "precondition_failed")
        winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
        stored = api.client("targets").get(f"/v1/targets/{target_id}")
        assert stored.headers["etag"] == f'"{version + 1}"'
        assert stored.json()["target_value"] == values[winner]
        assert stored.json()["version"] == version + 1
    assert _audit_updates(api, "target", target_id) == ROUNDS


def test_racing_if_match_patches_on_a_plan_let_one_writer_through(api: Api, plan: dict[str, Any]) -> None:
    clients = [api.client("targets") for _ in range(WRITERS)]
    answers = race(
        WRITERS,
        lambda i: clients[i].patch(
            f"/v1/plans/{plan['id']}", json={"name": f"writer {i}"}, headers={"If-Match": '"1"'}
        ),
    )
    assert Counter(a.status_code for a in answers) == {200: 1, 412: WRITERS - 1}
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    stored = api.client("targets").get(f"/v1/plans/{plan['id']}").json()
    assert (stored["name"], stored["version"]) == (f"writer {winner}", 2)


def test_racing_if_match_patches_on_a_metric_definition_let_one_writer_through(api: Api, unique: str) -> None:
    key = f"race_{unique}"
    created = api.client("metrics").post("/v1/metrics", json={"key": key, "name": "Race", "unit": "count"})
    assert created.status_code == 201, created.text
    clients = [api.client("metrics") for _ in range(WRITERS)]
    answers = race(
        WRITERS,
        lambda i: clients[i].patch(
            f"/v1/metrics/{key}", json={"name": f"writer {i}"}, headers={"If-Match": '"1"'}
        ),
    )
    assert Counter(a.status_code for a in answers) == {200: 1, 412: WRITERS - 1}
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    stored = api.client("metrics").get(f"/v1/metrics/{key}").json()
    assert (stored["name"], stored["version"]) == (f"writer {winner}", 2)


def test_concurrent_edits_of_different_task_fields_lose_no_update(api: Api, plan: dict[str, Any]) -> None:
    bulk = api.client("targets").post(
        f"/v1/plans/{plan['id']}/tasks/bulk",
        json={
            "tasks": [{"title": "t", "period": "2025Q2", "department": "operations", "external_ref": "lost"}]
        },
    )
    task_id = bulk.json()["results"][0]["id"]
    changes = [{"title": "new title"}, {"assignee": "kim"}, {"description": "why"}, {"status": "in_progress"}]
    clients = [api.client("targets") for _ in changes]
    answers = race(len(changes), lambda i: clients[i].patch(f"/v1/tasks/{task_id}", json=changes[i]))
    assert [a.status_code for a in answers] == [200] * len(changes), [a.text for a in answers]
    stored = api.client("targets").get(f"/v1/tasks/{task_id}").json()
    for change in changes:
        assert stored.items() >= change.items()
    assert stored["version"] == 1 + len(changes)


def test_racing_creations_of_one_plan_code_make_one_plan(api: Api, unique: str) -> None:
    clients = [api.client("targets") for _ in range(WRITERS)]
    body = {"code": f"once-{unique}", "name": "Once", "fiscal_year": 2025}
    answers = race(WRITERS, lambda i: clients[i].post("/v1/plans", json=body))
    assert Counter(a.status_code for a in answers) == {201: 1, 409: WRITERS - 1}, [a.text for a in answers]
    listed = api.client("targets").get("/v1/plans", params={"code": f"once-{unique}"}).json()["items"]
    assert len(listed) == 1


def test_racing_decompositions_of_one_target_make_one_set_of_children(api: Api, plan: dict[str, Any]) -> None:
    created = api.client("targets").post(
        f"/v1/plans/{plan['id']}/targets",
        json={
            "name": "year",
            "metric": "gmv",
            "period": "2025",
            "target_value": "1200",
            "department": "marketing",
        },
    )
    assert created.status_code == 201, created.text
    target_id = created.json()["id"]
    clients = [api.client("targets") for _ in range(8)]
    answers = race(8, lambda i: clients[i].post(f"/v1/targets/{target_id}/decompose", json={"by": "quarter"}))
    statuses = Counter(a.status_code for a in answers)
    assert statuses[201] == 1, [a.text for a in answers]
    assert statuses[409] == 7
    children = api.client("targets").get(f"/v1/targets/{target_id}").json()["children_ids"]
    assert len(children) == 4
    targets = (
        api.client("targets").get(f"/v1/plans/{plan['id']}/targets", params={"limit": 500}).json()["items"]
    )
    assert len(targets) == 5


def test_racing_retries_with_one_idempotency_key_do_the_work_once_and_answer_alike(
    api: Api, unique: str
) -> None:
    category = f"idem-race-{unique}"
    batch = [
        {"event_id": f"{unique}-{i}", "metric": "gmv", "value": "2.5", "occurred_at": "2025-05-05T12:00:00Z",
         "dims": {"category": category}}
        for i in range(300)
    ]  # fmt: skip
    clients = [api.client("metrics", role="admin") for _ in range(WRITERS)]
    headers = {"Idempotency-Key": f"race-{unique}"}
    answers = race(WRITERS, lambda i: clients[i].post("/v1/events", json={"events": batch}, headers=headers))
    assert [a.status_code for a in answers] == [200] * WRITERS, [a.text for a in answers]
    assert all(a.json() == {"accepted": 300, "duplicates": 0, "rejected": []} for a in answers)
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == WRITERS - 1
    total = api.client("metrics", role="viewer").get(
        "/v1/metrics/gmv/value", params={"start": "2025-05-01", "end": "2025-05-31", "category": category}
    )
    assert total.json()["value"] == "750.0"


def test_racing_reuses_of_one_idempotency_key_with_other_bodies_let_one_body_through(
    api: Api, plan: dict[str, Any]
) -> None:
    clients = [api.client("targets") for _ in range(WRITERS)]
    headers = {"Idempotency-Key": f"bodies-{plan['id']}"}
    answers = race(
        WRITERS,
        lambda i: clients[i].post(
            f"/v1/plans/{plan['id']}/tasks/bulk",
            json={
                "tasks": [
                    {"title": f"t{i}", "period": "2025Q2", "department": "tech", "external_ref": f"r{i}"}
                ]
            },
            headers=headers,
        ),
    )
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: 1, 422: WRITERS - 1}, [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 422):
        assert_problem(refused, 422, "idempotency_key_reused")
    listed = api.client("targets").get(f"/v1/plans/{plan['id']}/tasks").json()["items"]
    assert len(listed) == 1
