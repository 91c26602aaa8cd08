"""The targets service: plans, phases, departments, targets, initiatives, tasks, risks, progress."""

from __future__ import annotations

from fastapi import FastAPI

from services.targets.api_keys.endpoints import router as api_keys_router
from services.targets.plans.endpoints import router as plans_router
from shared.api import create_service_app


def create_app() -> FastAPI:
    return create_service_app(
        "targets",
        [plans_router, api_keys_router],
        description="Plans, SMART targets and their decomposition, initiatives, tasks, risks and progress.",
    )
