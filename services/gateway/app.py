"""The GraphQL gateway: owns no data; calls the targets, metrics and reviews services over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import FastAPI, Request

from services.gateway.clients import SERVICE_NAMES, Upstream
from services.gateway.context import GatewayContext
from services.gateway.dashboard import dashboard_router
from services.gateway.errors import GatewayRefusal, GatewayRouter, refusal_response
from services.gateway.schema import build_schema
from services.gateway.security import check_request
from shared.api import create_service_app
from shared.http import ServiceClient
from shared.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    service_urls = {
        "targets": settings.targets_url,
        "metrics": settings.metrics_url,
        "reviews": settings.reviews_url,
    }

    async def startup(app: FastAPI) -> None:
        app.state.clients = {
            name: ServiceClient(
                name, service_urls[name], timeout=settings.http_timeout_seconds, retries=settings.http_retries
            )
            for name in SERVICE_NAMES
        }

    async def shutdown(app: FastAPI) -> None:
        for client in app.state.clients.values():
            await client.aclose()

    async def context_getter(request: Request) -> AsyncIterator[GatewayContext]:
        authorization = await check_request(request, settings)
        context = GatewayContext(Upstream(request.app.state.clients, authorization), settings)
        try:
            yield context
        finally:
            context.loaders.release()

    graphql = GatewayRouter(
        build_schema(settings),
        context_getter=context_getter,
        graphql_ide=None if settings.production else "graphiql",
        allow_queries_via_get=False,
        multipart_uploads_enabled=False,
    )
    app = create_service_app(
        "gateway",
        [],
        description="GraphQL over the targets, metrics and reviews services.",
        settings=settings,
        on_startup=startup,
        on_shutdown=shutdown,
        with_database=False,
    )
    app.add_exception_handler(GatewayRefusal, refusal_response)
    app.include_router(graphql, prefix="/graphql")
    app.include_router(dashboard_router(settings))
    return app
