"""Validation of pushed events, item by item, into rows ready for one set-based insert.

Pure: no I/O. Each bad item is rejected with its own code; the good ones go on. Two items of
one batch with the same event_id are one event when their content is equal (the second counts
as a duplicate) and a `conflict` when it differs.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.periods import business_day

DIMENSIONS = ("category", "channel", "region")
CSV_COLUMNS = ("event_id", "metric", "value", "occurred_at", "category", "channel", "region", "source")
REQUIRED = ("event_id", "metric", "value", "occurred_at")
MAX_EVENT_ID_LENGTH = 200
MAX_DIMENSION_LENGTH = 100
MAX_SOURCE_LENGTH = 200
# Business days outside these years are refused (they would need absurd partitions).
FIRST_YEAR, LAST_YEAR = 1970, 2199
# numeric handles any size, but a value like 1E+100000 is a typo, not a measurement.
MAX_VALUE_EXPONENT = 30


@dataclass(frozen=True, slots=True)
class MetricRules:
    """What ingestion needs to know about a metric."""

    derived: bool
    dimensions: frozenset[str]
    value_min: Decimal | None
    value_max: Decimal | None


@dataclass(slots=True)
class EventRow:
    index: int
    event_id: str
    content_hash: bytes
    metric: str
    value: Decimal
    occurred_at: datetime
    business_day: date
    category: str
    channel: str
    region: str
    source: str | None


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    event_id: str | None
    code: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "event_id": self.event_id, "code": self.code, "detail": self.detail}


@dataclass
class ParsedBatch:
    rows: list[EventRow]
    rejected: list[Rejection]
    duplicates_in_batch: int


class _Reject(Exception):
    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        self.detail = detail


def _text(value: Decimal) -> str:
    """A canonical spelling of a value: 1.50, 1.5 and 15E-1 hash alike."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def content_hash(
    metric: str, value: Decimal, occurred_at: datetime, category: str, channel: str, region: str
) -> bytes:
    """What makes two pushes of one event_id the same event (the source is provenance, not content)."""
    instant = occurred_at.astimezone(UTC).isoformat()
    canonical = "\x1f".join((metric, _text(value), instant, category, channel, region))
    return hashlib.md5(canonical.encode(), usedforsecurity=False).digest()


def parse_value(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise _Reject("invalid_value", "value must be a decimal number, not a boolean.")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, str):
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise _Reject("invalid_value", f"'{raw[:50]}' is not a decimal number.") from None
    else:
        raise _Reject("invalid_value", "value must be a decimal number or a string holding one.")
    if not value.is_finite():
        raise _Reject("invalid_value", "value must be finite (not NaN or infinite).")
    exponent = value.as_tuple().exponent
    if value != 0 and (
        value.adjusted() > MAX_VALUE_EXPONENT
        or (isinstance(exponent, int) and exponent < -MAX_VALUE_EXPONENT)
    ):
        raise _Reject("invalid_value", "value is out of the supported range.")
    return value


def parse_timestamp(raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise _Reject("invalid_timestamp", "occurred_at must be an ISO 8601 string with a zone.")
    try:
        stamp = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise _Reject("invalid_timestamp", f"'{raw[:50]}' is not an ISO 8601 timestamp.") from None
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise _Reject(
            "timestamp_without_zone", f"'{raw[:50]}' carries no zone; add Z or an offset such as +08:00."
        )
    return stamp


def _dimension_values(raw: Any, rules: MetricRules, metric: str) -> tuple[str, str, str]:
    if raw is None:
        return "", "", ""
    if not isinstance(raw, Mapping):
        raise _Reject("invalid_dimension", 'dims must be an object such as {"category": "beauty"}.')
    values = {"category": "", "channel": "", "region": ""}
    for name, value in raw.items():
        if name not in values:
            raise _Reject(
                "invalid_dimension", f"'{str(name)[:50]}' is not a dimension (category, channel, region)."
            )
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > MAX_DIMENSION_LENGTH or not value.strip():
            raise _Reject(
                "invalid_dimension",
                f"{name} must be a non-blank string of at most {MAX_DIMENSION_LENGTH} characters.",
            )
        if name not in rules.dimensions:
            raise _Reject("invalid_dimension", f"{metric} is not reported by {name}.")
        values[name] = value
    return values["category"], values["channel"], values["region"]


def _row(index: int, item: Any, catalogue: Mapping[str, MetricRules], tz: str) -> EventRow:
    if not isinstance(item, Mapping):
        raise _Reject("missing_field", "The item is not an object with event_id, metric, value, occurred_at.")
    for name in REQUIRED:
        value = item.get(name)
        if value is None or value == "":
            raise _Reject("missing_field", f"{name} is required.")
    event_id = item["event_id"]
    if not isinstance(event_id, str) or len(event_id) > MAX_EVENT_ID_LENGTH or not event_id.strip():
        raise _Reject(
            "invalid_field", f"event_id must be a string of at most {MAX_EVENT_ID_LENGTH} characters."
        )
    metric = item["metric"]
    rules = catalogue.get(metric) if isinstance(metric, str) else None
    if rules is None:
        raise _Reject("unknown_metric", f"'{str(metric)[:64]}' is not in the metric catalogue.")
    if rules.derived:
        raise _Reject("derived_metric", f"{metric} is derived from other metrics; push its parts instead.")
    value = parse_value(item["value"])
    if rules.value_min is not None and value < rules.value_min:
        raise _Reject("invalid_value", f"{metric} cannot be below {rules.value_min}.")
    if rules.value_max is not None and value > rules.value_max:
        raise _Reject("invalid_value", f"{metric} cannot be above {rules.value_max}.")
    occurred_at = parse_timestamp(item["occurred_at"])
    day = business_day(occurred_at, tz)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise _Reject("invalid_timestamp", f"occurred_at must fall between {FIRST_YEAR} and {LAST_YEAR}.")
    category, channel, region = _dimension_values(item.get("dims"), rules, metric)
    source = item.get("source")
    if source is not None and (not isinstance(source, str) or len(source) > MAX_SOURCE_LENGTH):
        raise _Reject("invalid_field", f"source must be a string of at most {MAX_SOURCE_LENGTH} characters.")
    return EventRow(
        index=index,
        event_id=event_id,
        content_hash=content_hash(metric, value, occurred_at, category, channel, region),
        metric=metric,
        value=value,
        occurred_at=occurred_at,
        business_day=day,
        category=category,
        channel=channel,
        region=region,
        source=source or None,
    )


def validate_items(items: Iterable[Any], catalogue: Mapping[str, MetricRules], tz: str) -> ParsedBatch:
    rows: list[EventRow] = []
    rejected: list[Rejection] = []
    seen: dict[str, bytes] = {}
    duplicates = 0
    for index, item in enumerate(items):
        try:
            row = _row(index, item, catalogue, tz)
        except _Reject as problem:
            event_id = item.get("event_id") if isinstance(item, Mapping) else None
            rejected.append(
                Rejection(
                    index, event_id if isinstance(event_id, str) else None, problem.code, problem.detail
                )
            )
            continue
        earlier = seen.get(row.event_id)
        if earlier is None:
            seen[row.event_id] = row.content_hash
            rows.append(row)
        elif earlier == row.content_hash:
            duplicates += 1
        else:
            rejected.append(
                Rejection(
                    index,
                    row.event_id,
                    "conflict",
                    f"event_id {row.event_id} appears earlier in this batch with other content.",
                )
            )
    return ParsedBatch(rows, rejected, duplicates)


class CsvError(ValueError):
    pass


def csv_items(body: bytes) -> list[dict[str, Any]]:
    """Rows of a CSV push as items shaped like JSON events (dims gathered, blanks as absent)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError("The CSV body is not UTF-8.") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return []
    columns = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise CsvError(f"The CSV header lacks {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}.")
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    if unknown:
        raise CsvError(f"Unknown CSV column(s): {', '.join(unknown)}; expected {','.join(CSV_COLUMNS)}.")
    position = {name: i for i, name in enumerate(columns)}
    items: list[dict[str, Any]] = []
    for record in reader:
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        cells = {name: (record[i].strip() if i < len(record) else "") for name, i in position.items()}
        item: dict[str, Any] = {name: cells.get(name) or None for name in (*REQUIRED, "source")}
        item["dims"] = {d: cells[d] for d in DIMENSIONS if cells.get(d)}
        items.append(item)
    return items
