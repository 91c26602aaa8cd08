"""Exactly-once ingestion of metric events pushed by ERP / BI systems."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import structlog
from fastapi import Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.metrics.catalogue.models import SCHEMA
from services.metrics.catalogue.schemas import Kind
from services.metrics.catalogue.service import kept_catalogue
from services.metrics.events import repository
from services.metrics.events.parsing import (
    CsvError,
    InexactNumbers,
    MetricRules,
    MisshapenRow,
    ParsedBatch,
    Rejection,
    csv_items,
    outcome,
    plain_events,
    validate_items,
)
from shared.auth import Permission, Principal
from shared.errors import Problem
from shared.idempotency import answer_is_kept, run_idempotent
from shared.settings import Settings

log = structlog.get_logger("pacer.metrics.events")

INGEST_BATCHES = Counter(
    "pacer_ingest_batches_total",
    "Pushes with valid items, counted after their commit, by how they were stored: known (every id "
    "was stored before: nothing written), new (by the statement for ids not seen before), "
    "retried (that statement met a stored id or, on a day's first push, a rollup row written "
    "meanwhile; the general statement then stored the push).",
    ["path"],
)
# Each path is exported from the start, at 0.
_BATCHES_BY_PATH = {
    path: INGEST_BATCHES.labels(path=path) for path in (repository.KNOWN, repository.NEW, repository.RETRIED)
}


def _decode_json(body: bytes, *, exact: bool) -> Any:
    """The body as JSON. Exact: every number with a fraction or exponent arrives as Decimal
    (0.1 stays 0.1). Not exact (orjson, several times faster): such numbers and integers beyond
    64 bits arrive as floats, which validation never accepts silently: it asks for the exact
    parse (`InexactNumbers`) as soon as an item it has to judge holds one."""
    if not exact:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # the standard library decides what is malformed
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise Problem(400, "malformed_json", "The request body is not valid JSON.") from exc


def _holds_nul_text(body: bytes) -> bool:
    return b"\\u0000" in body or b"\x00" in body


def _items_from_body(
    body: bytes, content_type: str, max_events: int, *, exact: bool = False, typed: bool = False
) -> list[Any]:
    """The items of a push. `typed`: a JSON body is first tried as typed items (`plain_events`), a
    CSV body's complete rows become typed items; `exact`: the general decoder reads numbers as
    exact decimals."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    items: Any = None
    if media_type in ("text/csv", "application/csv"):
        try:
            items = csv_items(body, typed=typed)
        except CsvError as exc:
            raise Problem(422, "invalid_csv", str(exc)) from exc
    elif media_type not in ("", "application/json") and not media_type.endswith("+json"):
        raise Problem(415, "unsupported_media_type", "Send application/json or text/csv.")
    elif typed:
        items = plain_events(body)  # None: the general decoder reads it
    if items is None:
        envelope = _decode_json(body, exact=exact)
        if not isinstance(envelope, dict) or not isinstance(envelope.get("events"), list):
            raise Problem(422, "invalid_batch", 'The body must be {"events": [...]}.')
        items = envelope["events"]
    if len(items) > max_events:
        raise Problem(
            413,
            "batch_too_large",
            f"A batch holds at most {max_events} events; this one has {len(items)}.",
            max_events=max_events,
        )
    return list(items)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


def _screen_rows(items: list[Any]) -> dict[int, Rejection]:
    """CSV rows with cells beyond the header are blanked (so validation rejects them) and
    their rejection says why."""
    out: dict[int, Rejection] = {}
    for index, item in enumerate(items):
        if isinstance(item, MisshapenRow):
            out[index] = Rejection(index, item.event_id, "invalid_csv_row", item.detail)
            items[index] = None
    return out


def _screen_nul(items: list[Any]) -> dict[int, Rejection]:
    """PostgreSQL text cannot hold NUL: such items are blanked (so validation rejects them) and
    their rejection says why."""
    out: dict[int, Rejection] = {}
    for index, item in enumerate(items):
        if _holds_nul(item):
            event_id = item.get("event_id") if isinstance(item, dict) else None
            out[index] = Rejection(
                index,
                event_id if isinstance(event_id, str) and "\x00" not in event_id else None,
                "invalid_field",
                "Text may not contain the NUL character (\\u0000).",
            )
            items[index] = None
    return out


async def _store(
    session: AsyncSession, parsed: ParsedBatch, *, commit: bool
) -> tuple[dict[str, Any], str | None]:
    """The push's answer, and how its valid items were stored (None: there were none)."""
    claimed, stored, path = await repository.insert_events(session, parsed, commit=commit)
    accepted, duplicates, rejected = outcome(parsed, claimed, stored)
    answer = {"accepted": accepted, "duplicates": duplicates, "rejected": [r.as_dict() for r in rejected]}
    return answer, path


async def push_events(
    session: AsyncSession, engine: AsyncEngine, settings: Settings, request: Request, principal: Principal
) -> JSONResponse:
    """Validates every item, stores the good ones once, and answers per item."""
    principal.require(Permission.INGEST)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    holds_nul = _holds_nul_text(body)
    # The usual push decodes straight into typed items; one holding NUL is screened item by item.
    items = _items_from_body(body, content_type, settings.max_events_per_batch, typed=not holds_nul)
    catalogue = await kept_catalogue().current(session)
    rules = {
        key: MetricRules(
            derived=d.kind == Kind.DERIVED,
            dimensions=frozenset(x.value for x in d.dimensions),
            value_min=d.value_min,
            value_max=d.value_max,
        )
        for key, d in catalogue.definitions.items()
    }
    screened = _screen_rows(items) | (_screen_nul(items) if holds_nul else {})
    try:
        parsed = validate_items(items, rules, settings.business_tz)
    except InexactNumbers:
        items = _items_from_body(body, content_type, settings.max_events_per_batch, exact=True)
        screened = _screen_nul(items) if holds_nul else {}
        parsed = validate_items(items, rules, settings.business_tz, exact_numbers=True)
    if screened:
        parsed.rejected = [screened.get(r.index, r) for r in parsed.rejected]
    await repository.ensure_partitions(engine, set(parsed.business_days))

    stored_by: str | None = None

    async def work() -> tuple[int, Any]:
        nonlocal stored_by
        # Without an Idempotency-Key nothing else joins the batch's transaction: it may commit
        # in the statement that stores it.
        answer, stored_by = await _store(session, parsed, commit=not answer_is_kept(request))
        log.info(
            "events_pushed",
            items=len(items),
            accepted=answer["accepted"],
            duplicates=answer["duplicates"],
            rejected=len(answer["rejected"]),
        )
        return 200, answer

    response = await run_idempotent(session, SCHEMA, request, principal, work, body=body)
    # Counted once the push's transaction has ended (a push whose commit fails is not counted),
    # and not for a replayed answer.
    if stored_by is not None:
        _BATCHES_BY_PATH[stored_by].inc()
    return response
