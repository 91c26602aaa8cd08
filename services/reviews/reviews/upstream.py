"""What the reviews service asks of the targets and metrics services — a constant number of
calls per request, never one per target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request

from shared.auth import bearer_token
from shared.errors import Problem
from shared.http import ServiceClient

Json = dict[str, Any]


@dataclass(frozen=True)
class Upstream:
    targets: ServiceClient
    metrics: ServiceClient
    authorization: str | None

    async def plan(self, plan_id: str) -> Json:
        try:
            # Quoted: the id comes from the caller, and must stay one path segment.
            plan: Json = await self.targets.get_json(
                f"/v1/plans/{quote(plan_id, safe='')}", authorization=self.authorization
            )
        except Problem as exc:
            if exc.status in (404, 422):
                raise Problem(
                    exc.status, "plan_not_found", f"Plan {plan_id} does not exist.", plan_id=plan_id
                ) from exc
            raise
        return plan

    async def targets_active_in(self, plan_id: str, quarter: str) -> list[Json]:
        return await self.targets.get_all(
            f"/v1/plans/{plan_id}/targets", authorization=self.authorization, params={"active_in": quarter}
        )

    async def progress(self, plan_id: str, quarter: str, as_of: date) -> dict[str, Json]:
        """Progress of every target active in the quarter, in ONE call to the targets service."""
        body = {"as_of": as_of.isoformat(), "plan_id": plan_id, "active_in": quarter}
        answer = await self.targets.post_json(
            "/v1/progress", authorization=self.authorization, json=body, idempotent=True
        )
        return {str(row["target_id"]): row for row in answer["results"]}

    async def catalogue(self) -> dict[str, Json]:
        rows = await self.metrics.get_all("/v1/metrics", authorization=self.authorization)
        return {row["key"]: row for row in rows}

    async def require_department(self, department: str | None) -> None:
        """A department must be one the targets service knows (422 `unknown_department`)."""
        if department is None:
            return
        known = {
            row["key"]
            for row in await self.targets.get_all("/v1/departments", authorization=self.authorization)
        }
        if department not in known:
            raise Problem(
                422, "unknown_department", f"Unknown department '{department}'.", departments=[department]
            )

    async def query(self, queries: list[Json]) -> dict[str, Json]:
        return await self.metrics.query_metrics(queries, authorization=self.authorization)

    async def create_task(self, plan_id: str, task: Json) -> Json:
        """Creates (or finds, by its external_ref) one task; safe to retry, so retried on failure."""
        answer = await self.targets.post_json(
            f"/v1/plans/{plan_id}/tasks/bulk",
            authorization=self.authorization,
            json={"tasks": [task]},
            idempotent=True,
        )
        result: Json = answer["results"][0]
        return result


def _upstream(request: Request) -> Upstream:
    token = bearer_token(request)
    clients: dict[str, ServiceClient] = request.app.state.clients
    return Upstream(clients["targets"], clients["metrics"], f"Bearer {token}" if token else None)


Downstream = Annotated[Upstream, Depends(_upstream)]
