"""Every error answer is RFC 9457 problem+json with a stable code, and never a stack trace."""

from __future__ import annotations

import pytest

from tests.conftest import Api


def assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["title"]
    assert "Traceback" not in response.text
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("service", ["targets", "metrics", "reviews"])
def test_an_unknown_route_is_a_not_found_problem(api: Api, service: str) -> None:
    assert_problem(api.client(service).get("/v1/no-such-thing"), 404, "not_found")


def test_a_wrong_method_is_a_method_not_allowed_problem(api: Api) -> None:
    assert_problem(api.client("targets").delete("/v1/plans"), 405, "method_not_allowed")


def test_a_malformed_json_body_is_a_malformed_json_problem(api: Api) -> None:
    response = api.client("targets", role="admin").post(
        "/v1/api-keys", content=b'{"name": "erp", "scopes": [', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")


def test_a_body_that_breaks_the_schema_is_a_validation_problem_listing_the_fields(api: Api) -> None:
    response = api.client("targets", role="admin").post("/v1/api-keys", json={"name": "", "scopes": ["root"]})
    body = assert_problem(response, 422, "validation_error")
    fields = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "name") in fields
    assert ("body", "scopes", "0") in fields


def test_an_oversized_body_is_refused_with_413_before_it_is_read(api: Api) -> None:
    limit = 16 * 1024 * 1024
    response = api.client("metrics", role="admin").post(
        "/v1/events", content=b"x" * (limit + 1), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


def test_a_page_size_over_the_cap_is_refused(api: Api) -> None:
    body = assert_problem(
        api.client("targets").get("/v1/plans", params={"limit": 100_000}), 422, "page_size_too_large"
    )
    assert body["max_limit"] == 500


def test_a_problem_carries_the_request_id_to_quote(api: Api) -> None:
    response = api.client("targets").get("/v1/no-such-thing", headers={"x-request-id": "quote-me-123"})
    assert response.json()["request_id"] == "quote-me-123"
    assert response.headers["x-request-id"] == "quote-me-123"


def test_a_misspelt_query_parameter_is_refused_not_ignored(api: Api) -> None:
    # Ignored, `categroy` would answer the unfiltered total as if it were beauty's.
    response = api.client("metrics").get(
        "/v1/metrics/gmv/value", params={"start": "2025-01-01", "end": "2025-01-31", "categroy": "beauty"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["code"], body["parameters"]) == ("unknown_parameter", ["categroy"])
    assert "category" in body["known"]
    # Declared parameters of a route's dependencies (paging) are known.
    assert api.client("targets").get("/v1/plans", params={"limit": 1}).status_code == 200
