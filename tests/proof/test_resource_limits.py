"""Limits on what one caller may ask (OWASP API4, unrestricted resource consumption): bodies
over the size cap at every process, page sizes over the cap on every list route, and queries
that would fan out without bound — refused with a problem, while others are still served.

Proven elsewhere: 10,001-event batches (tests/metrics), slow bodies (tests/foundation), GraphQL
depth, aliases and tokens (tests/gateway).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.proof.support import assert_problem

LIMIT_BYTES = 16 * 1024 * 1024
PAGE_SIZE_MAX = 500

OVERSIZED = [
    ("gateway", "/graphql"),
    ("targets", f"/v1/plans/{uuid.uuid4()}/tasks/bulk"),
    ("targets", "/v1/plans"),
    ("reviews", "/v1/reviews"),
    ("metrics", "/v1/query"),
]


class _Endless:
    """A chunked body (no Content-Length) that streams past the limit."""

    def __init__(self, total: int) -> None:
        self.total = total

    def __iter__(self) -> Any:
        chunk = b"[" + b"1," * (512 * 1024)
        sent = 0
        while sent < self.total:
            yield chunk
            sent += len(chunk)


@pytest.mark.parametrize(("service", "path"), OVERSIZED)
def test_an_oversized_body_is_refused_with_413_by_every_process(api: Api, service: str, path: str) -> None:
    response = api.client(service, role="admin").post(
        path, content=b" " * (LIMIT_BYTES + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text[:300]
    if service != "gateway":
        assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize(("service", "path"), OVERSIZED)
def test_a_chunked_body_without_length_is_cut_off_at_the_limit(api: Api, service: str, path: str) -> None:
    try:
        response = api.client(service, role="admin").post(
            path, content=_Endless(LIMIT_BYTES * 2), headers={"content-type": "application/json"}
        )
    except httpx.TransportError:
        pass  # the server closed the connection after refusing: also a refusal
    else:
        assert response.status_code == 413, response.text[:300]
    assert api.client(service).get("/healthz").status_code == 200


def test_oversized_bodies_do_not_starve_other_callers(api: Api) -> None:
    errors: list[BaseException] = []

    def flood() -> None:
        try:
            for _ in range(3):
                api.client("targets", role="admin").post(
                    "/v1/plans",
                    content=b" " * (LIMIT_BYTES + 1),
                    headers={"content-type": "application/json"},
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for thread in threads:
        thread.start()
    reader = api.client("targets")
    answered = [reader.get("/v1/plans", params={"limit": 1}).status_code for _ in range(20)]
    for thread in threads:
        thread.join()
    assert answered == [200] * 20
    assert not errors, errors


def _list_routes(api: Api, service: str) -> list[str]:
    spec = httpx.get(f"{api.stack.url(service)}/openapi.json").json()
    routes = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get and any(p["name"] == "limit" for p in get.get("parameters", [])):
            routes.append(path)
    return routes


@pytest.mark.parametrize("service", ["metrics", "targets", "reviews"])
def test_every_list_route_refuses_a_page_size_over_the_cap(api: Api, service: str) -> None:
    routes = _list_routes(api, service)
    assert routes, f"{service} publishes no paged list"
    client = api.client(service, role="admin")
    for route in routes:
        path = route.replace("{plan_id}", str(uuid.uuid4())).replace("{review_id}", str(uuid.uuid4()))
        params: dict[str, Any] = {"limit": PAGE_SIZE_MAX + 1}
        if route == "/v1/audit":
            params |= {"entity_type": "plan", "entity_id": str(uuid.uuid4())}
        body = assert_problem(client.get(path, params=params), 422, "page_size_too_large")
        assert body["max_limit"] == PAGE_SIZE_MAX
        for bad in (0, -1, 10**12):
            assert_problem(client.get(path, params=params | {"limit": bad}), 422)


def test_a_query_batch_over_500_queries_is_refused(api: Api) -> None:
    query = {"id": "q", "metric": "gmv", "start": "2025-01-01", "end": "2025-01-31"}
    response = api.client("metrics", role="viewer").post(
        "/v1/query", json={"queries": [query | {"id": f"q{i}"} for i in range(501)]}
    )
    assert_problem(response, (413, 422))


def test_a_daily_series_over_decades_is_refused_not_computed(api: Api) -> None:
    response = api.client("metrics", role="viewer").post(
        "/v1/query",
        json={
            "queries": [
                {"id": "q", "metric": "gmv", "start": "1000-01-01", "end": "9998-12-31", "bucket": "day"}
            ]
        },
    )
    assert_problem(response, 422)


def test_a_progress_batch_naming_thousands_of_targets_is_refused_or_bounded(api: Api) -> None:
    ids = [str(uuid.uuid4()) for _ in range(20_000)]
    response = api.client("targets").post("/v1/progress", json={"as_of": "2025-06-30", "target_ids": ids})
    assert response.status_code < 500, response.text[:300]
    assert_problem(response, (404, 413, 422))
