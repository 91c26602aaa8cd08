"""The targets service: plans, phases, departments, targets, initiatives, tasks, risks, progress."""

from __future__ import annotations

from fastapi import FastAPI

from services.targets.api_keys.endpoints import router as api_keys_router
from services.targets.audit.endpoints import router as audit_router
from services.targets.departments.endpoints import router as departments_router
from services.targets.initiatives.endpoints import router as initiatives_router
from services.targets.phases.endpoints import router as phases_router
from services.targets.plans.endpoints import router as plans_router
from services.targets.progress.endpoints import router as progress_router
from services.targets.risks.endpoints import router as risks_router
from services.targets.targets.endpoints import router as targets_router
from services.targets.tasks.endpoints import router as tasks_router
from shared.api import create_service_app
from shared.http import ServiceClient
from shared.settings import get_settings


def create_app() -> FastAPI:
    settings = get_settings()

    async def startup(app: FastAPI) -> None:
        app.state.metrics = ServiceClient(
            "metrics",
            settings.metrics_url,
            timeout=settings.http_timeout_seconds,
            retries=settings.http_retries,
        )

    async def shutdown(app: FastAPI) -> None:
        await app.state.metrics.aclose()

    return create_service_app(
        "targets",
        [
            plans_router,
            targets_router,
            progress_router,
            tasks_router,
            initiatives_router,
            risks_router,
            phases_router,
            departments_router,
            audit_router,
            api_keys_router,
        ],
        description="Plans, SMART targets and their decomposition, initiatives, tasks, risks and progress.",
        settings=settings,
        on_startup=startup,
        on_shutdown=shutdown,
    )
