"""Service-to-service HTTP: timeouts everywhere, retries with backoff for idempotent reads,
the caller's credentials and request id forwarded, problems passed on with their code."""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson
import structlog
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from shared.errors import Problem
from shared.middleware import REQUEST_ID_HEADER
from shared.settings import get_settings

log = structlog.get_logger("pacer.http")


# The metrics service answers at most this many queries per `POST /v1/query`.
MAX_QUERIES_PER_CALL = 500


def largest_page() -> int:
    """The largest page a Pacer list answers (PACER_PAGE_SIZE_MAX, the same for every process):
    lists are read in as few pages as the services allow."""
    return get_settings().page_size_max


_OWN_FIELDS = frozenset({"type", "title", "status", "code", "detail", "instance", "request_id"})


class ServiceUnavailable(Problem):
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(
            503,
            "service_unavailable",
            f"The {service} service is unavailable: {reason}",
            service=service,
        )
        self.service = service


def _json_body(payload: Any) -> bytes:
    """A request body as JSON, by orjson (batched queries run to hundreds of kB); what orjson
    cannot write (an integer past 64 bits) is written by the standard library, as httpx wrote
    it. Callers send strings for decimals and never floats (orjson would write NaN as null)."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def json_value(data: bytes | str) -> Any:
    """JSON decoded by orjson (answers and JSON columns run to megabytes); what orjson refuses
    (an integer past 64 bits) by the standard library, which decodes everything else alike.
    The services write every decimal as a JSON string, so none is read as a float."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, _RetryableStatus)


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class ServiceClient:
    """One client per downstream service, shared by a process; credentials come per call."""

    def __init__(self, service: str, base_url: str, *, timeout: float = 5.0, retries: int = 3) -> None:
        self.service = service
        self.retries = retries
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    @staticmethod
    def forwarded_headers(authorization: str | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if authorization:
            headers["Authorization"] = authorization
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            headers[REQUEST_ID_HEADER] = str(request_id)
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        authorization: str | None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Sends one call; raises ServiceUnavailable when the service cannot be reached and
        re-raises a downstream problem with its status and code."""
        retry = idempotent if idempotent is not None else method.upper() in ("GET", "HEAD")
        all_headers = self.forwarded_headers(authorization) | (headers or {})
        content = None
        if json is not None:
            content = _json_body(json)
            if not any(name.lower() == "content-type" for name in all_headers):
                all_headers["Content-Type"] = "application/json"
        attempts = self.retries if retry else 1
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(attempts),
                wait=wait_exponential(multiplier=0.05, max=1.0),
                retry=retry_if_exception(_transient),
                reraise=True,
            ):
                with attempt:
                    response = await self._client.request(
                        method, path, content=content, params=params, headers=all_headers
                    )
                    if retry and response.status_code in (502, 503, 504):
                        raise _RetryableStatus(response)
        except httpx.InvalidURL as exc:
            # An identifier from the caller (a tab, a control character) cannot be sent on.
            raise Problem(
                422, "invalid_identifier", "An identifier in the request cannot be part of a URL."
            ) from exc
        except httpx.TimeoutException as exc:
            raise ServiceUnavailable(self.service, "timed out") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable(self.service, type(exc).__name__) from exc
        except _RetryableStatus as exc:
            response = exc.response
        if response.status_code >= 400:
            raise self._as_problem(response)
        return response

    def _as_problem(self, response: httpx.Response) -> Problem:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500 and not body.get("code"):
            return ServiceUnavailable(self.service, f"answered {response.status_code}")
        # The downstream path and request id are not ours to answer with: ours are added on render.
        extra = {k: v for k, v in body.items() if k not in _OWN_FIELDS}
        extra.setdefault("service", self.service)
        return Problem(
            response.status_code,
            str(body.get("code") or "upstream_error"),
            body.get("detail"),
            title=body.get("title"),
            **extra,
        )

    async def get_json(self, path: str, *, authorization: str | None, **kwargs: Any) -> Any:
        return json_value((await self.request("GET", path, authorization=authorization, **kwargs)).content)

    async def post_json(self, path: str, *, authorization: str | None, **kwargs: Any) -> Any:
        return json_value((await self.request("POST", path, authorization=authorization, **kwargs)).content)

    async def query_metrics(
        self, queries: list[dict[str, Any]], *, authorization: str | None
    ) -> dict[str, dict[str, Any]]:
        """The metrics service's answers to a batch of queries, by id: one `POST /v1/query` per
        MAX_QUERIES_PER_CALL queries, each retried on failure (a query changes nothing)."""
        results: dict[str, dict[str, Any]] = {}
        for start in range(0, len(queries), MAX_QUERIES_PER_CALL):
            response = await self.request(
                "POST",
                "/v1/query",
                authorization=authorization,
                json={"queries": queries[start : start + MAX_QUERIES_PER_CALL]},
                idempotent=True,
            )
            for result in json_value(response.content).get("results", []):
                results[str(result["id"])] = result
        return results

    async def get_all(
        self, path: str, *, authorization: str | None, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a paged list, following `next_cursor` with the largest page size."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = (params or {}) | {"limit": largest_page()} | ({"cursor": cursor} if cursor else {})
            page = await self.get_json(path, authorization=authorization, params=query)
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items
