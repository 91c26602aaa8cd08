"""The gateway's view of the three services for one GraphQL request.

The `ServiceClient`s are shared by the process (connection pools, timeouts, retries); an
`Upstream` is made per request: it carries the caller's credentials and counts the calls it
sends, so a response can show what it cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from shared.http import ServiceClient, json_value, largest_page

ServiceName = Literal["targets", "metrics", "reviews"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("targets", "metrics", "reviews")


class Upstream:
    """Calls the services on behalf of one caller and counts every call."""

    def __init__(self, clients: Mapping[str, ServiceClient], authorization: str | None) -> None:
        self._clients = clients
        self.authorization = authorization
        self.calls: Counter[str] = Counter()

    async def request(
        self,
        service: ServiceName,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        self.calls[service] += 1
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        return await self._clients[service].request(
            method,
            path,
            authorization=self.authorization,
            json=json,
            params=clean_params or None,
            headers=headers,
            idempotent=idempotent,
        )

    async def get(self, service: ServiceName, path: str, **params: Any) -> Any:
        return json_value((await self.request(service, "GET", path, params=params)).content)

    async def post(
        self, service: ServiceName, path: str, body: Any, *, headers: dict[str, str] | None = None
    ) -> Any:
        return json_value((await self.request(service, "POST", path, json=body, headers=headers)).content)

    async def read(self, service: ServiceName, path: str, body: Any) -> Any:
        """A read sent as POST because its question is a body (batched queries, progress):
        idempotent, so retried with backoff like a GET."""
        return json_value((await self.request(service, "POST", path, json=body, idempotent=True)).content)

    async def get_all(self, service: ServiceName, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged list, following `next_cursor` with the largest page size."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await self.get(service, path, limit=largest_page(), cursor=cursor, **params)
            items.extend(page.get("items", []))
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def counts(self) -> dict[str, int]:
        return {name: self.calls.get(name, 0) for name in SERVICE_NAMES}
