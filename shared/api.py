"""The common shape of every Pacer service: routes under /v1, JSON decimals kept exact,
problem+json errors, request ids, health, readiness and Prometheus metrics."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from sqlalchemy import text

from shared.db import create_engine, create_sessionmaker
from shared.errors import PROBLEM_JSON, Problem, install_problem_handlers, problem_response
from shared.logging import configure_logging
from shared.middleware import BodySizeLimitMiddleware, NulCharacterMiddleware, RequestContextMiddleware
from shared.settings import PROMETHEUS_DIR_VARIABLE, Settings, get_settings


class DecimalJSONRequest(Request):
    """Parses JSON numbers as Decimal, so 0.1 arrives as Decimal('0.1'), never as a float."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = json.loads(body, parse_float=Decimal)
            if b"\\u0000" in body and _holds_nul(self._json):
                # PostgreSQL text cannot hold NUL; refuse it here rather than fail deep in a write.
                # An HTTPException is the one error FastAPI's body reader passes on untouched.
                raise HTTPException(422, "Text may not contain the NUL character (\\u0000).")
        return self._json


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _query_parameters(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        names.update(param.alias for param in current.query_params)
        pending.extend(current.dependencies)
    return frozenset(names)


class DecimalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        # The query parameters the route declares, its dependencies' included. Any other is
        # refused: a misspelt filter (`?categroy=beauty`) would otherwise be ignored and an
        # unfiltered number read as a filtered one.
        known = _query_parameters(self.dependant)

        async def decimal_handler(request: Request) -> Response:
            unknown = sorted(set(request.query_params) - known)
            if unknown:
                raise Problem(
                    422,
                    "unknown_parameter",
                    f"Unknown query parameter(s): {', '.join(unknown)}.",
                    parameters=unknown,
                    known=sorted(known),
                )
            return await handler(DecimalJSONRequest(request.scope, request.receive))

        return decimal_handler


def v1_router(**kwargs: Any) -> APIRouter:
    """Every contract route is under /v1 and parses decimals exactly."""
    return APIRouter(route_class=DecimalRoute, **kwargs)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, description in {
        401: "Missing or invalid credentials",
        403: "The caller may not do this",
        422: "The request does not match the schema",
    }.items()
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation for the problem answers a route may give."""
    descriptions = {
        400: "Malformed request",
        404: "Not found",
        409: "Conflict with the current state",
        412: "The If-Match version is stale",
        413: "Payload too large",
        428: "If-Match required",
        503: "A service this one depends on is unavailable",
    }
    out = dict(PROBLEM_RESPONSES)
    for status in statuses:
        out[status] = {
            "description": descriptions.get(status, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out


_PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details with a stable machine-readable `code`.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "additionalProperties": True,
}


_BODY_PROBLEMS = {
    400: "The body is not valid JSON (`malformed_json`), cannot be parsed (`bad_request`), or holds NUL",
    408: "The body did not arrive within the read timeout (`request_timeout`)",
    413: "The body is over the size limit (`payload_too_large`)",
}


def _document_early_problems(schema: dict[str, Any]) -> None:
    """Every route that reads a body or parameters may answer these before the route itself
    runs, and every paged route answers 400 `invalid_cursor` to a cursor it did not issue."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            problems: dict[int, str] = {}
            parameters = operation.get("parameters", [])
            if parameters:
                problems[400] = "A parameter holds the NUL character (`invalid_character`)"
            if any(p.get("name") == "cursor" for p in parameters):
                problems[400] = (
                    "The cursor is not one this API issued (`invalid_cursor`) or a parameter holds NUL"
                )
            if "requestBody" in operation:
                problems = _BODY_PROBLEMS | problems
            responses = operation.setdefault("responses", {})
            for status, description in problems.items():
                responses.setdefault(
                    str(status),
                    {
                        "description": description,
                        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                )


def create_service_app(
    name: str,
    routers: Sequence[APIRouter],
    *,
    description: str,
    settings: Settings | None = None,
    on_startup: Callable[[FastAPI], Coroutine[Any, Any, None]] | None = None,
    on_shutdown: Callable[[FastAPI], Coroutine[Any, Any, None]] | None = None,
    with_database: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(name, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        if with_database:
            if not settings.database_url:
                raise RuntimeError("DATABASE_URL is not set; start Pacer with `pacer run`.")
            app.state.engine = create_engine(settings.database_url)
            app.state.sessionmaker = create_sessionmaker(app.state.engine)
        if on_startup:
            await on_startup(app)
        # What is loaded by now lives as long as the process. Frozen, it is out of the garbage
        # collector's sight: a full collection during a large answer (tens of thousands of
        # objects per dashboard) no longer walks it — one took about 60 ms in the metrics service.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            if on_shutdown:
                await on_shutdown(app)
            if with_database:
                await app.state.engine.dispose()

    app = FastAPI(
        title=f"Pacer {name}",
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None if settings.production else "/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.service_name = name
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router, prefix="/v1")

    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.get("/readyz", tags=["health"], summary="Readiness: the database is reachable")
    async def readyz(request: Request) -> Response:
        if not with_database:
            return Response(json.dumps({"status": "ok", "service": name}), media_type="application/json")
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("select 1"))
        except Exception:
            return problem_response(
                503, "database_unavailable", "The database is not reachable.", request=request
            )
        return Response(json.dumps({"status": "ok", "service": name}), media_type="application/json")

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        if PROMETHEUS_DIR_VARIABLE in os.environ:  # as prometheus-client itself decides
            # Several worker processes: whichever answers reports the sum of all of them (the
            # per-process collectors, process_* and python_*, are not reported then).
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    original_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original_openapi()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
        schema["components"].setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "A JWT for people or an API key (`pk_…`) for machines.",
        }
        schema["security"] = [{"bearer": []}]
        _document_early_problems(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

    # Outermost first: the request id must exist before the size check answers.
    app.add_middleware(NulCharacterMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        read_timeout_seconds=settings.body_read_timeout_seconds,
    )
    app.add_middleware(RequestContextMiddleware, service=name)
    return app
