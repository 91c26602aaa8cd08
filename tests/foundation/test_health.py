"""Liveness, readiness and Prometheus metrics on every process."""

from __future__ import annotations

import pytest

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
