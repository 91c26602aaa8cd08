"""The metrics service: the metric catalogue, event ingestion, daily rollups and batched queries."""

from __future__ import annotations

from fastapi import FastAPI

from services.metrics.audit.endpoints import router as audit_router
from services.metrics.catalogue.endpoints import router as catalogue_router
from services.metrics.events.endpoints import router as events_router
from services.metrics.queries.endpoints import router as queries_router
from shared.api import create_service_app


def create_app() -> FastAPI:
    return create_service_app(
        "metrics",
        [catalogue_router, queries_router, events_router, audit_router],
        description="Metric definitions, exactly-once event ingestion, rollups and batched queries.",
    )
