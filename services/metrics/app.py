"""The metrics service: the metric catalogue, event ingestion, daily rollups and batched queries."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import event

from services.metrics.audit.endpoints import router as audit_router
from services.metrics.catalogue.endpoints import router as catalogue_router
from services.metrics.events.endpoints import router as events_router
from services.metrics.events.repository import set_up_for_ingest
from services.metrics.queries.endpoints import router as queries_router
from shared.api import create_service_app


async def _set_up_connections_for_ingest(app: FastAPI) -> None:
    event.listen(app.state.engine.sync_engine, "checkout", set_up_for_ingest)


def create_app() -> FastAPI:
    return create_service_app(
        "metrics",
        [catalogue_router, queries_router, events_router, audit_router],
        description="Metric definitions, exactly-once event ingestion, rollups and batched queries.",
        on_startup=_set_up_connections_for_ingest,
    )
