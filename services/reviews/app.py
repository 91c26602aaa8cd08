"""The reviews service: quarterly retrospectives, snapshots, findings and action items."""

from __future__ import annotations

from fastapi import FastAPI

from services.reviews.reviews.endpoints import router as reviews_router
from shared.api import create_service_app


def create_app() -> FastAPI:
    return create_service_app(
        "reviews",
        [reviews_router],
        description="Quarterly retrospectives: snapshot, attribution, findings, action items, report.",
    )
