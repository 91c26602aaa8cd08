"""A service's problem reaches the GraphQL client as an error with the problem's code."""

from __future__ import annotations

import uuid

from tests.conftest import Api
from tests.gateway.conftest import error_codes, gql


def test_an_unknown_plan_is_a_plan_not_found_error_with_the_services_code_and_status(api: Api) -> None:
    missing = str(uuid.uuid4())
    rest = api.client("targets").get(f"/v1/plans/{missing}").json()
    response = api.client("gateway").post(
        "/graphql", json={"query": "query($id: ID!) { plan(id: $id) { id } }", "variables": {"id": missing}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"plan": None}
    [error] = body["errors"]
    assert error["path"] == ["plan"]
    assert error["extensions"]["problemCode"] == rest["code"] == "plan_not_found"
    assert error["extensions"]["code"] == "PLAN_NOT_FOUND"
    assert error["extensions"]["status"] == 404
    assert error["extensions"]["service"] == "targets"
    assert error["message"] == rest["detail"]
    assert "Traceback" not in response.text and 'File "' not in response.text


def test_a_bad_cursor_is_an_invalid_cursor_error(api: Api) -> None:
    body = gql(api.client("gateway"), '{ plans(after: "%%%") { nextCursor } }')
    assert error_codes(body) == ["INVALID_CURSOR"]
    assert body["errors"][0]["extensions"]["status"] == 400


def test_the_callers_rights_are_decided_by_the_service_a_viewer_cannot_create_a_plan(
    api: Api, unique: str
) -> None:
    mutation = (
        f'mutation {{ createPlan(input: {{code: "viewer-{unique}", name: "x", fiscalYear: 2025}}) {{ id }} }}'
    )
    body = gql(api.client("gateway", role="viewer"), mutation)
    assert body["data"] == {"createPlan": None}
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["status"] == 403
    assert api.client("targets").get("/v1/plans", params={"code": f"viewer-{unique}"}).json()["items"] == []


def test_a_duplicate_plan_code_is_the_services_conflict_code(api: Api, unique: str) -> None:
    mutation = (
        f'mutation {{ createPlan(input: {{code: "dup-{unique}", name: "x", fiscalYear: 2025}}) {{ code }} }}'
    )
    gateway = api.client("gateway")
    assert gql(gateway, mutation)["data"] == {"createPlan": {"code": f"dup-{unique}"}}
    again = gql(gateway, mutation)
    assert again["data"] == {"createPlan": None}
    assert again["errors"][0]["extensions"]["status"] == 409
    assert again["errors"][0]["extensions"]["problemCode"] == "plan_code_taken"


def test_an_api_key_is_passed_on_and_the_service_applies_its_scopes(api: Api, unique: str) -> None:
    created = api.client("targets", role="admin").post(
        "/v1/api-keys", json={"name": f"bi-{unique}", "scopes": ["read"]}
    )
    assert created.status_code == 201, created.text
    key_client = api.client("gateway", token=created.json()["key"])
    assert "errors" not in gql(key_client, "{ plans(first: 1) { nextCursor } }")
    refused = gql(
        key_client,
        f'mutation {{ createPlan(input: {{code: "key-{unique}", name: "x", fiscalYear: 2025}}) {{ id }} }}',
    )
    assert error_codes(refused) == ["FORBIDDEN"]


def test_a_revoked_or_unknown_api_key_is_refused_by_the_service_not_answered_with_data(api: Api) -> None:
    body = gql(api.client("gateway", token="pk_000000000000_not-a-real-secret"), "{ plans { nextCursor } }")
    assert body["data"] == {"plans": None}
    assert error_codes(body) == ["INVALID_API_KEY"]
    assert body["errors"][0]["extensions"]["status"] == 401
