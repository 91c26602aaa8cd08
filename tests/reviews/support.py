"""Building review scenarios through the public APIs: plans and targets on the targets service,
events on the metrics service, reviews on the reviews service."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import Api


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


@dataclass
class Scenario:
    """A plan of fiscal year 2025 with a region of its own, so no other test's events reach it."""

    api: Api
    unique: str
    plan: dict[str, Any] = field(default_factory=dict)
    _events: int = 0

    @property
    def region(self) -> str:
        return f"r-{self.unique}"

    @property
    def plan_id(self) -> str:
        return str(self.plan["id"])

    def targets_api(self, role: str = "planner") -> httpx.Client:
        return self.api.client("targets", role=role)

    def reviews_api(self, role: str = "planner", department: str | None = None) -> httpx.Client:
        return self.api.client("reviews", role=role, department=department)

    def create_plan(self) -> Scenario:
        self.plan = ok(
            self.targets_api().post(
                "/v1/plans",
                json={
                    "code": f"rv-{self.unique}",
                    "name": f"Review plan {self.unique}",
                    "fiscal_year": 2025,
                    "status": "active",
                },
            ),
            201,
        )
        return self

    def target(self, **fields: Any) -> dict[str, Any]:
        body = {
            "name": f"GMV {self.unique}",
            "metric": "gmv",
            "scope": {"region": self.region},
            "period": "2025Q2",
            "kind": "absolute",
            "department": "marketing",
        } | fields
        return ok(self.targets_api().post(f"/v1/plans/{self.plan_id}/targets", json=body), 201)  # type: ignore[no-any-return]

    def push(self, *events: tuple[str, str, Decimal | int | str, dict[str, str]]) -> None:
        """Events as (metric, business day, value, dims); the region is always the scenario's."""
        batch = []
        for metric, day, value, dims in events:
            self._events += 1
            batch.append(
                {
                    "event_id": f"{self.unique}-{self._events}",
                    "metric": metric,
                    "value": str(value),
                    # 04:00Z is midday in Asia/Shanghai: the event belongs to `day`.
                    "occurred_at": f"{day}T04:00:00+00:00",
                    "dims": {"region": self.region} | dims,
                    "source": "review-tests",
                }
            )
        answer = ok(self.api.client("metrics", role="admin").post("/v1/events", json={"events": batch}))
        assert answer["accepted"] == len(batch), answer

    def open_review(self, quarter: str = "2025Q2") -> dict[str, Any]:
        return ok(  # type: ignore[no-any-return]
            self.reviews_api().post("/v1/reviews", json={"plan_id": self.plan_id, "quarter": quarter}), 201
        )

    def snapshot(self, review_id: str) -> dict[str, Any]:
        return ok(self.reviews_api().post(f"/v1/reviews/{review_id}/snapshot"))  # type: ignore[no-any-return]


def item_of(review: dict[str, Any], target_id: str) -> dict[str, Any]:
    for item in review["snapshot"]["items"]:
        if item["target_id"] == target_id:
            return item  # type: ignore[no-any-return]
    raise AssertionError(f"target {target_id} is not in the snapshot")


def dec_sum(values: list[str]) -> Decimal:
    return sum((Decimal(v) for v in values), Decimal(0))
