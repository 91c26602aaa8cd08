"""Helpers for driving the gateway and observing what it costs the services."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Api

_NOT_TRAFFIC = {"/metrics", "/healthz", "/readyz"}


def gql(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Posts one operation; GraphQL answers 200 even when fields fail, so the body is returned."""
    response = client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


def service_calls(api: Api, service: str) -> int:
    """Requests the service has answered so far, read from its own Prometheus counter."""
    text = httpx.get(f"{api.stack.url(service)}/metrics", timeout=10).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != "pacer_http_requests":
            continue
        for sample in family.samples:
            if (
                sample.name == "pacer_http_requests_total"
                and sample.labels.get("service") == service
                and sample.labels.get("route") not in _NOT_TRAFFIC
            ):
                total += sample.value
    return int(total)


def all_service_calls(api: Api) -> dict[str, int]:
    return {name: service_calls(api, name) for name in ("targets", "metrics", "reviews")}
