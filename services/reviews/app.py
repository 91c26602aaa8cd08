"""The reviews service: quarterly retrospectives, snapshots, findings and action items."""

from __future__ import annotations

from fastapi import FastAPI

from services.reviews.audit.endpoints import router as audit_router
from services.reviews.reviews.endpoints import router as reviews_router
from shared.api import create_service_app
from shared.http import ServiceClient
from shared.settings import get_settings


def create_app() -> FastAPI:
    settings = get_settings()

    async def startup(app: FastAPI) -> None:
        app.state.clients = {
            name: ServiceClient(
                name, url, timeout=settings.http_timeout_seconds, retries=settings.http_retries
            )
            for name, url in (("targets", settings.targets_url), ("metrics", settings.metrics_url))
        }

    async def shutdown(app: FastAPI) -> None:
        for client in app.state.clients.values():
            await client.aclose()

    return create_service_app(
        "reviews",
        [reviews_router, audit_router],
        description="Quarterly retrospectives: snapshot, attribution, findings, action items, report.",
        settings=settings,
        on_startup=startup,
        on_shutdown=shutdown,
    )
