"""Builders for targets tests: every fixture is made through the public API."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import Api


def create_plan(api: Api, unique: str, **fields: Any) -> dict[str, Any]:
    body = {"code": f"P-{unique}", "name": f"Plan {unique}", "fiscal_year": 2025} | fields
    response = api.client("targets").post("/v1/plans", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def create_target(api: Api, plan_id: str, **fields: Any) -> dict[str, Any]:
    response = api.client("targets").post(f"/v1/plans/{plan_id}/targets", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def push(api: Api, events: list[dict[str, Any]]) -> None:
    client = api.client("metrics", role="admin")
    for start in range(0, len(events), 5000):
        response = client.post("/v1/events", json={"events": events[start : start + 5000]})
        assert response.status_code in (200, 201, 202), response.text
        assert not response.json()["rejected"], response.json()["rejected"][:3]


def event(metric: str, day: date, value: Decimal | int | str, **dims: str) -> dict[str, Any]:
    """An event at noon business time (Asia/Shanghai) of `day`."""
    return {
        "event_id": uuid.uuid4().hex,
        "metric": metric,
        "value": str(value),
        "occurred_at": f"{day.isoformat()}T12:00:00+08:00",
        "dims": dims,
        "source": "tests",
    }


def daily(
    metric: str, start: date, end: date, value: Decimal | int | str, **dims: str
) -> list[dict[str, Any]]:
    days = (end - start).days + 1
    return [event(metric, start + timedelta(days=i), value, **dims) for i in range(days)]


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body
