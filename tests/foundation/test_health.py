"""Liveness, readiness and Prometheus metrics on every process."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Api

ALL = ["gateway", "targets", "metrics", "reviews"]


@pytest.mark.parametrize("service", ALL)
def test_healthz_answers_without_credentials(api: Api, service: str) -> None:
    response = api.client(service, role=None).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": service}


@pytest.mark.parametrize("service", ALL)
def test_readyz_answers_200_when_the_database_is_reachable(api: Api, service: str) -> None:
    assert api.client(service, role=None).get("/readyz").status_code == 200


@pytest.mark.parametrize("service", ALL)
def test_prometheus_metrics_count_requests(api: Api, service: str) -> None:
    client = api.client(service, role=None)
    client.get("/healthz")
    text = client.get("/metrics").text
    assert "pacer_http_requests_total" in text
    assert f'service="{service}"' in text


@pytest.mark.parametrize("service", ["targets", "metrics", "reviews"])
def test_each_service_publishes_its_openapi_with_v1_routes(api: Api, service: str) -> None:
    spec = api.client(service, role=None).get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert any(path.startswith("/v1/") for path in spec["paths"])
    assert "Problem" in spec["components"]["schemas"]


def _requests(client: httpx.Client, route: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if sample.name == "pacer_http_requests_total" and sample.labels.get("route") == route
    )


def _counted(client: httpx.Client, route: str, expected: float) -> float:
    """The count once it reaches `expected` (a request is counted just after it is answered),
    or as it stands after a few seconds."""
    deadline = time.monotonic() + 5
    while (count := _requests(client, route)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def test_requests_are_counted_under_the_route_template_the_client_called(api: Api) -> None:
    # GET /v1/metrics (the catalogue) is not the Prometheus route /metrics; a plan is counted
    # under its template, not its id.
    metrics, targets = api.client("metrics", role="viewer"), api.client("targets", role="viewer")
    catalogue = _requests(metrics, "/v1/metrics")
    assert metrics.get("/v1/metrics").status_code == 200
    assert _counted(metrics, "/v1/metrics", catalogue + 1) == catalogue + 1
    plans = _requests(targets, "/v1/plans/{plan_id}")
    plan_id = uuid.uuid4()
    assert targets.get(f"/v1/plans/{plan_id}").status_code == 404
    assert _counted(targets, "/v1/plans/{plan_id}", plans + 1) == plans + 1
    assert _requests(targets, f"/v1/plans/{plan_id}") == 0
