"""The metrics service: the metric catalogue, event ingestion, daily rollups and batched queries."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from services.metrics.audit.endpoints import router as audit_router
from services.metrics.catalogue.endpoints import router as catalogue_router
from services.metrics.events.endpoints import router as events_router
from services.metrics.queries.endpoints import router as queries_router
from shared.api import create_service_app


async def _freeze_startup_objects(app: FastAPI) -> None:
    # What is loaded by now lives as long as the process. Frozen, it is out of the garbage
    # collector's sight: a full collection during a query batch (thousands of rows and answer
    # objects) no longer walks it, which took about 60 ms.
    gc.collect()
    gc.freeze()


def create_app() -> FastAPI:
    return create_service_app(
        "metrics",
        [catalogue_router, queries_router, events_router, audit_router],
        description="Metric definitions, exactly-once event ingestion, rollups and batched queries.",
        on_startup=_freeze_startup_objects,
    )
