"""The metrics service as the targets service sees it: definitions and batched queries,
always over its API (never its tables)."""

from __future__ import annotations

from typing import Any

from shared.errors import Problem
from shared.http import ServiceClient


class MetricsClient:
    def __init__(self, client: ServiceClient, authorization: str | None) -> None:
        self._client = client
        self._authorization = authorization

    async def definition(self, key: str) -> dict[str, Any]:
        """The metric definition; an unknown key is the caller's mistake (422 unknown_metric)."""
        try:
            body = await self._client.get_json(f"/v1/metrics/{key}", authorization=self._authorization)
        except Problem as exc:
            if exc.status == 404:
                raise Problem(422, "unknown_metric", f"There is no metric '{key}'.", metric=key) from exc
            raise
        if not isinstance(body, dict):
            raise Problem(502, "bad_gateway", "The metrics service answered an unexpected shape.")
        return body

    async def catalogue(self) -> dict[str, dict[str, Any]]:
        """Every metric definition as it is now, by key (read, so retried when it fails)."""
        definitions = await self._client.get_all("/v1/metrics", authorization=self._authorization)
        return {str(d["key"]): d for d in definitions}

    async def query(self, queries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Answers a batch of queries, by id, in as few round trips as the metrics service allows."""
        return await self._client.query_metrics(queries, authorization=self._authorization)
