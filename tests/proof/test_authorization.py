"""Authorization against the OWASP API Security Top 10 (2023): object-level authorization
(API1), broken authentication (API2), property-level authorization / mass assignment (API3)
and function-level authorization (API5), across the three services and the gateway.

Already proven elsewhere and not repeated: tokens at the targets service, key hashing, keys
kept out of the targets/metrics logs (tests/foundation/test_auth.py); a member editing or
moving another department's task (tests/targets/test_tasks.py); members' findings
(tests/reviews/test_reviews.py).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import TEST_JWT_SECRET, Api
from tests.proof.conftest import make_api_key
from tests.proof.support import assert_problem, fetch

# ---- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def plan(api: Api, unique: str) -> dict[str, Any]:
    response = api.client("targets").post(
        "/v1/plans",
        json={"code": f"authz-{unique}", "name": f"Authz {unique}", "fiscal_year": 2025, "status": "active"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _task(api: Api, plan: dict[str, Any], ref: str, department: str) -> dict[str, Any]:
    response = api.client("targets").post(
        f"/v1/plans/{plan['id']}/tasks/bulk",
        json={
            "tasks": [
                {"title": f"Task {ref}", "period": "2025Q2", "department": department, "external_ref": ref}
            ]
        },
    )
    assert response.status_code == 200, response.text
    task_id = response.json()["results"][0]["id"]
    return dict(api.client("targets").get(f"/v1/tasks/{task_id}").json())


def _target(api: Api, plan: dict[str, Any]) -> dict[str, Any]:
    response = api.client("targets").post(
        f"/v1/plans/{plan['id']}/targets",
        json={
            "name": "GMV",
            "metric": "gmv",
            "period": "2025Q2",
            "target_value": "1000",
            "department": "marketing",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _gql(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables or {}})
    body: dict[str, Any] = response.json()
    return body


def _error_codes(body: dict[str, Any]) -> list[str]:
    return [str(e.get("extensions", {}).get("code")) for e in body.get("errors", [])]


# ---- API1: object-level authorization -------------------------------------------------------------


def test_a_member_cannot_delete_another_departments_task(api: Api, plan: dict[str, Any], unique: str) -> None:
    theirs = _task(api, plan, f"del-{unique}", "tech")
    member = api.client("targets", role="member", department="operations")
    assert_problem(member.delete(f"/v1/tasks/{theirs['id']}"), 403)
    assert api.client("targets").get(f"/v1/tasks/{theirs['id']}").status_code == 200


def test_a_member_cannot_change_another_departments_task_through_the_gateway(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    theirs = _task(api, plan, f"gw-{unique}", "tech")
    member = api.client("gateway", role="member", department="operations")
    body = _gql(
        member,
        'mutation($id: ID!) { updateTaskStatus(taskId: $id, status: "done") { id status } }',
        {"id": theirs["id"]},
    )
    assert not (body.get("data") or {}).get("updateTaskStatus")
    assert _error_codes(body) and set(_error_codes(body)) <= {"forbidden_department", "FORBIDDEN_DEPARTMENT"}
    stored = api.client("targets").get(f"/v1/tasks/{theirs['id']}").json()
    assert (stored["status"], stored["version"]) == (theirs["status"], theirs["version"])


def test_a_member_edits_nothing_of_another_department_even_knowing_every_id(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    theirs = _task(api, plan, f"all-{unique}", "finance")
    member = api.client("targets", role="member", department="operations")
    hijack = {"title": "hijack", "period": "2025Q2", "department": "finance", "external_ref": f"all-{unique}"}
    attempts = [
        member.patch(f"/v1/tasks/{theirs['id']}", json={"assignee": "me"}, headers={"If-Match": '"1"'}),
        member.patch(f"/v1/tasks/{theirs['id']}", json={"status": "done"}),
        member.post(f"/v1/plans/{plan['id']}/tasks/bulk", json={"tasks": [hijack]}),
    ]
    for response in attempts:
        assert_problem(response, 403)
    stored = api.client("targets").get(f"/v1/tasks/{theirs['id']}").json()
    assert stored == theirs


# ---- API3: property-level authorization (mass assignment) ------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        {"plan_id": str(uuid.uuid4())},
        {"id": str(uuid.uuid4())},
        {"external_ref": "stolen"},
        {"version": 99},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"starts_on": "2020-01-01"},
    ],
)
def test_a_task_patch_cannot_set_fields_the_server_owns(
    api: Api, plan: dict[str, Any], unique: str, field: dict[str, Any]
) -> None:
    task = _task(api, plan, f"mass-{unique}", "operations")
    for role in ("planner", "member"):
        response = api.client("targets", role=role, department="operations").patch(
            f"/v1/tasks/{task['id']}", json=field
        )
        assert_problem(response, 422)
    assert api.client("targets").get(f"/v1/tasks/{task['id']}").json() == task


@pytest.mark.parametrize(
    "field",
    [
        {"plan_id": str(uuid.uuid4())},
        {"id": str(uuid.uuid4())},
        {"version": 99},
        {"metric": "orders"},
        {"baseline_value": "1"},
        {"parent_id": str(uuid.uuid4())},
        {"kind": "growth"},
        {"direction": "lower_is_better"},
    ],
)
def test_a_target_patch_cannot_set_fields_the_server_owns(
    api: Api, plan: dict[str, Any], field: dict[str, Any]
) -> None:
    target = _target(api, plan)
    response = api.client("targets").patch(
        f"/v1/targets/{target['id']}", json=field, headers={"If-Match": '"1"'}
    )
    assert_problem(response, 422)
    stored = api.client("targets").get(f"/v1/targets/{target['id']}").json()
    assert stored == target


@pytest.mark.parametrize("field", [{"id": str(uuid.uuid4())}, {"version": 7}, {"code": "renamed"}])
def test_a_plan_patch_cannot_set_fields_the_server_owns(
    api: Api, plan: dict[str, Any], field: dict[str, Any]
) -> None:
    response = api.client("targets").patch(f"/v1/plans/{plan['id']}", json=field, headers={"If-Match": '"1"'})
    assert_problem(response, 422)
    stored = api.client("targets").get(f"/v1/plans/{plan['id']}").json()
    assert (stored["id"], stored["version"], stored["code"]) == (plan["id"], 1, plan["code"])


def test_creating_with_a_chosen_id_or_version_is_refused_or_ignored(api: Api, plan: dict[str, Any]) -> None:
    chosen = str(uuid.uuid4())
    body = {
        "name": "t",
        "metric": "gmv",
        "period": "2025Q2",
        "target_value": "5",
        "department": "marketing",
        "id": chosen,
        "version": 42,
        "baseline_value": "1",
    }
    response = api.client("targets").post(f"/v1/plans/{plan['id']}/targets", json=body)
    if response.status_code == 201:
        created = response.json()
        assert created["id"] != chosen and created["version"] == 1 and created["baseline_value"] is None
    else:
        assert_problem(response, 422)
    assert api.client("targets").get(f"/v1/targets/{chosen}").status_code == 404


def test_review_items_cannot_be_created_already_finalized_or_promoted(api: Api, plan: dict[str, Any]) -> None:
    reviews = api.client("reviews")
    created = reviews.post(
        "/v1/reviews", json={"plan_id": plan["id"], "quarter": "2025Q2", "status": "finalized", "version": 9}
    )
    if created.status_code != 201:
        assert_problem(created, 422)
        created = reviews.post("/v1/reviews", json={"plan_id": plan["id"], "quarter": "2025Q2"})
    review = created.json()
    assert (review["status"], review["version"]) == ("draft", 1)
    task_id = str(uuid.uuid4())
    item = reviews.post(
        f"/v1/reviews/{review['id']}/action-items",
        json={"title": "x", "department": "tech", "status": "promoted", "task_id": task_id},
    )
    if item.status_code == 201:
        assert (item.json()["status"], item.json()["task_id"]) == ("open", None)
    else:
        assert_problem(item, 422)


# ---- API5: function-level authorization — an ingest key pushes events and nothing else ------------


def _operations(api: Api, service: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{api.stack.url(service)}/openapi.json").json()
    out = []
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method.upper(), path))
    return out


def _concrete(path: str) -> str:
    """A path template with every parameter filled by an id that may or may not exist."""
    out = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            out.append("gmv" if part == "{key}" else str(uuid.uuid4()))
        else:
            out.append(part)
    return "/".join(out)


@pytest.mark.parametrize("service", ["metrics", "targets", "reviews"])
def test_an_ingest_key_is_refused_by_every_route_but_pushing_events(
    api: Api, service: str, unique: str
) -> None:
    key = make_api_key(api, "ingest", f"erp-scan-{service}-{unique}")
    client = api.client(service, token=key)
    operations = _operations(api, service)
    assert len(operations) >= 5
    allowed = []
    for method, path in operations:
        is_push = (method, path) == ("POST", "/v1/events")
        response = client.request(method, _concrete(path), json={"events": []} if is_push else {})
        if is_push:
            assert response.status_code == 200, response.text
            allowed.append(path)
            continue
        body = assert_problem(response, 403)
        assert body["code"] == "forbidden", (method, path, body)
    assert allowed == (["/v1/events"] if service == "metrics" else [])


def test_an_ingest_key_gets_no_data_and_changes_nothing_through_the_gateway(
    api: Api, plan: dict[str, Any], unique: str
) -> None:
    key = make_api_key(api, "ingest", f"erp-gw-{unique}")
    client = api.client("gateway", token=key)
    read = _gql(client, "{ plans { items { id code } } metricDefinitions { key } }")
    assert not any((read.get("data") or {}).values()), read
    assert read.get("errors")
    write = _gql(
        client,
        'mutation { createPlan(input: {code: "ingest-' + unique + '", name: "x", fiscalYear: 2025}) { id } }',
    )
    assert not (write.get("data") or {}).get("createPlan"), write
    listed = api.client("targets").get("/v1/plans", params={"code": f"ingest-{unique}"}).json()["items"]
    assert listed == []


# ---- API2: broken authentication — every service and the gateway refuse bad tokens ----------------


def _claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "mallory", "role": "admin", "exp": int(time.time()) + 600} | extra


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _bad_tokens() -> dict[str, str]:
    good_planner = jwt.encode(_claims(role="planner"), TEST_JWT_SECRET, algorithm="HS256")
    header, _payload, signature = good_planner.split(".")
    return {
        "expired": jwt.encode(_claims(exp=int(time.time()) - 30), TEST_JWT_SECRET, algorithm="HS256"),
        "forged_secret": jwt.encode(
            _claims(), "another-secret-another-secret-another-secret", algorithm="HS256"
        ),
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
        "alg_none_with_signature": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.{signature}",
        "escalated_payload": f"{header}.{_b64(_claims(role='admin'))}.{signature}",
        "no_expiry": jwt.encode({"sub": "mallory", "role": "admin"}, TEST_JWT_SECRET, algorithm="HS256"),
        "garbage": "a.b.c",
        "empty_api_key": "pk_",
        "unknown_api_key": "pk_000000000000_" + "x" * 43,
    }


PROBES = {
    "metrics": ("GET", "/v1/metrics"),
    "targets": ("GET", "/v1/plans"),
    "reviews": ("GET", "/v1/reviews"),
}


@pytest.mark.parametrize("kind", sorted(_bad_tokens()))
@pytest.mark.parametrize("service", ["metrics", "targets", "reviews", "gateway"])
def test_a_bad_token_is_refused_with_401_by_every_service_and_the_gateway(
    api: Api, service: str, kind: str
) -> None:
    token = _bad_tokens()[kind]
    client = api.client(service, token=token)
    if service == "gateway" and token.startswith("pk_"):
        # The gateway has no key store: the service it calls refuses the key, and no data flows.
        body = _gql(client, "{ plans { items { id } } }")
        assert not any((body.get("data") or {}).values()), body
        assert _error_codes(body) == ["INVALID_API_KEY"]
    elif service == "gateway":
        response = client.post("/graphql", json={"query": "{ plans { items { id } } }"})
        assert response.status_code == 401, response.text
        assert "data" not in response.json()
        assert response.headers["www-authenticate"].startswith("Bearer")
    else:
        method, path = PROBES[service]
        body = assert_problem(client.request(method, path), 401)
        assert body["code"] in ("invalid_token", "token_expired", "invalid_api_key")


# ---- API keys are never kept or logged in clear ------------------------------------------------------


def test_api_keys_used_at_every_process_never_reach_a_log_or_a_table_in_clear(
    api: Api, database_url: str, unique: str
) -> None:
    read_key = make_api_key(api, "read", f"bi-{unique}")
    ingest_key = make_api_key(api, "ingest", f"erp-{unique}")
    api.client("gateway", token=read_key).post("/graphql", json={"query": "{ plans { items { id } } }"})
    api.client("reviews", token=read_key).get("/v1/reviews")
    api.client("reviews", token=read_key).post("/v1/reviews", json={"plan_id": "x", "quarter": "2025Q2"})
    api.client("metrics", token=read_key).post("/v1/events", json={"events": []})
    api.client("metrics", token=ingest_key).post(
        "/v1/events", json={"events": []}, headers={"Idempotency-Key": f"secret-scan-{unique}"}
    )
    api.client("targets", token=ingest_key).get("/v1/plans")
    secrets = [key.split("_", 2)[2] for key in (read_key, ingest_key)]
    for service in ("gateway", "targets", "metrics", "reviews"):
        log = api.log(service)
        assert not any(secret in log for secret in secrets), f"an API key is in the {service} log"
    rows = fetch(
        database_url,
        "select string_agg(t::text, ' ') from ( select * from auth.api_keys where name in ($1, $2)) t",
        f"bi-{unique}",
        f"erp-{unique}",
    )
    stored = rows[0][0] or ""
    assert stored and not any(secret in stored for secret in secrets)
    for table in ("metrics.idempotency_keys", "targets.audit_log", "reviews.audit_log"):
        dump = fetch(database_url, f"select coalesce(string_agg(t::text, ' '), '') from {table} t")[0][0]
        assert not any(secret in dump for secret in secrets), table


def test_an_idempotency_key_replays_only_to_the_caller_who_used_it(api: Api, unique: str) -> None:
    batch = [
        {"event_id": f"own-{unique}", "metric": "gmv", "value": "1", "occurred_at": "2025-05-05T12:00:00Z"}
    ]
    headers = {"Idempotency-Key": f"shared-{unique}"}
    first = api.client("metrics", role="admin").post("/v1/events", json={"events": batch}, headers=headers)
    assert first.json()["accepted"] == 1
    other = api.client("metrics", token=make_api_key(api, "ingest", f"other-{unique}"))
    second = other.post("/v1/events", json={"events": batch}, headers=headers)
    assert second.status_code == 200, second.text
    assert second.headers.get("idempotent-replayed") is None
    assert second.json() == {"accepted": 0, "duplicates": 1, "rejected": []}
