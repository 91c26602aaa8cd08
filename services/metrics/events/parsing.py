"""Validation of pushed events, item by item, into rows ready for one set-based insert.

Pure: no I/O. Each bad item is rejected with its own code; the good ones go on. The first
item of a batch with a given event_id is the one offered for storing; later items reusing the
id are judged once the stored content of that id is known (`outcome`).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from shared.periods import BusinessDays, business_day, zone

try:
    # CPython's own MD5: the same digest as hashlib's, without an OpenSSL context per call
    # (twice as fast for a text of this size, and ingestion hashes every event).
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover - a Python built without it (FIPS builds, say)
    _md5 = functools.partial(hashlib.md5, usedforsecurity=False)

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
MAX_VALUE_CHARACTERS = 64


@dataclass(frozen=True, slots=True)
class MetricRules:
    """What ingestion needs to know about a metric."""

    derived: bool
    dimensions: frozenset[str]
    value_min: Decimal | None
    value_max: Decimal | None


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    event_id: str | None
    code: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "event_id": self.event_id, "code": self.code, "detail": self.detail}


# A valid item as staged for storing, in the staging table's column order: (event_id, content
# hash, metric, value as text, occurred_at as microseconds since 1970-01-01 UTC, business day,
# category, channel, region, source). The instant travels as an integer: asyncpg's encoding of
# an aware datetime costs more than all the other columns together.
Row = tuple[str, bytes, str, str, int, date, str, str, str, "str | None"]


@dataclass
class ParsedBatch:
    """The valid events as rows (what the set-based insert takes), and the rejections."""

    indexes: list[int] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # Later items of the batch reusing an event_id: (index, event_id, content hash).
    repeats: list[tuple[int, str, bytes]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.event_ids)

    @property
    def hashes(self) -> list[bytes]:
        return [row[1] for row in self.rows]

    @property
    def business_days(self) -> list[date]:
        return [row[5] for row in self.rows]


class InexactNumbers(Exception):
    """An item holds a float: its JSON must be parsed again with exact (Decimal) numbers."""


def _holds_float(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return True
    if kind is dict:
        return any(_holds_float(v) for v in value.values())
    if kind is list:
        return any(_holds_float(v) for v in value)
    return False


class _Reject(Exception):
    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        self.detail = detail


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Instants more than a day outside the accepted years are refused before they are converted to
# the business zone: near year 1 or 9999 that conversion would leave the calendar.
_EARLIEST_INSTANT = (datetime(FIRST_YEAR - 1, 12, 31, tzinfo=UTC) - _EPOCH) // _MICROSECOND
_LATEST_INSTANT = (datetime(LAST_YEAR + 1, 1, 2, tzinfo=UTC) - _EPOCH) // _MICROSECOND
# Staged instants become timestamps through a float8 product in the database, exact below 2^53.
if max(-_EARLIEST_INSTANT, _LATEST_INSTANT) >= 2**53:
    raise RuntimeError("The accepted years reach instants the staging of events cannot carry exactly.")


# The precision of the default decimal context, which `_text` normalizes in.
_CANONICAL_DIGITS = 28


def _text(value: Decimal) -> str:
    """A canonical spelling of a value: 1.50, 1.5 and 15E-1 hash alike."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def content_hash(
    metric: str, value: Decimal, occurred_at: datetime, category: str, channel: str, region: str
) -> bytes:
    """What makes two pushes of one event_id the same event (the source is provenance, not content).

    The instant counts, not its spelling: 2025-06-18T17:00Z and 2025-06-19T01:00+08:00 are equal.
    """
    return _digest(metric, _text(value), instant_of(occurred_at), category, channel, region)


def instant_of(occurred_at: datetime) -> int:
    """Microseconds since 1970-01-01 UTC."""
    return (occurred_at - _EPOCH) // _MICROSECOND


def _digest(metric: str, value_text: str, instant: int, category: str, channel: str, region: str) -> bytes:
    """`content_hash` of a value already in its canonical spelling (`_text`) at an instant."""
    return _md5(
        f"{metric}\x1f{value_text}\x1f{instant}\x1f{category}\x1f{channel}\x1f{region}".encode()
    ).digest()


def plain_decimal_text(raw: str) -> str | None:
    """`_text(Decimal(raw))` for a value spelled as plain ASCII digits (an optional minus, at most 20
    digits before and after an optional point), worked out on the text; None for any other spelling.
    Such a value is finite and within the supported range and precision."""
    negative = raw[:1] == "-"
    digits = raw[1:] if negative else raw
    whole, point, fraction = digits.partition(".")
    if not (
        digits.isascii()
        and whole.isdigit()
        and len(whole) <= 20
        and (not point or (fraction.isdigit() and len(fraction) <= 20))
    ):
        return None
    if len((whole + fraction).lstrip("0")) > _CANONICAL_DIGITS:
        # Normalizing rounds to the context's 28 digits: every stored hash of such a value did.
        return _text(Decimal(raw))
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    text = f"{whole}.{fraction}" if fraction else whole
    return "-" + text if negative and text != "0" else text


def parse_value(raw: Any) -> Decimal:
    kind = type(raw)
    if kind is Decimal:
        value: Decimal = raw
    elif kind is str:
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise _Reject("invalid_value", f"'{raw[:50]}' is not a decimal number.") from None
    elif kind is int:
        value = Decimal(raw)
    elif kind is bool:
        raise _Reject("invalid_value", "value must be a decimal number, not a boolean.")
    else:
        raise _Reject("invalid_value", "value must be a decimal number or a string holding one.")
    if not value.is_finite():
        raise _Reject("invalid_value", "value must be finite (not NaN or infinite).")
    if not within_supported_range(value):
        raise _Reject("invalid_value", "value is out of the supported range or precision.")
    return value


def within_supported_range(value: Decimal) -> bool:
    """Whether a finite value is one Pacer stores: exponent within ±30, at most 64 characters."""
    return not value or (
        -MAX_VALUE_EXPONENT <= value.adjusted() <= MAX_VALUE_EXPONENT
        and len(str(value)) <= MAX_VALUE_CHARACTERS
    )


def parse_timestamp(raw: Any) -> datetime:
    if type(raw) is not str:
        raise _Reject("invalid_timestamp", "occurred_at must be an ISO 8601 string with a zone.")
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
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
    """(category, channel, region) of an item's dims ('' for none). Judged in a fixed order (names
    that are not dimensions first, then category, channel, region), so an item's rejection does
    not depend on the order its keys were written in."""
    if raw is None:
        return "", "", ""
    if type(raw) is not dict:
        raise _Reject("invalid_dimension", 'dims must be an object such as {"category": "beauty"}.')
    for name in raw:
        if name not in _DIMENSION_SET:
            raise _Reject(
                "invalid_dimension", f"'{str(name)[:50]}' is not a dimension (category, channel, region)."
            )
    values = []
    for name in DIMENSIONS:
        value = raw.get(name)
        if value is None or value == "":
            values.append("")
            continue
        if type(value) is not str or len(value) > MAX_DIMENSION_LENGTH or value.isspace():
            raise _Reject(
                "invalid_dimension",
                f"{name} must be a non-blank string of at most {MAX_DIMENSION_LENGTH} characters.",
            )
        if name not in rules.dimensions:
            raise _Reject("invalid_dimension", f"{metric} is not reported by {name}.")
        values.append(value)
    return values[0], values[1], values[2]


_DIMENSION_SET = frozenset(DIMENSIONS)


def _fast_dimensions(raw: Any, rules: MetricRules) -> tuple[str, str, str] | None:
    """The dims of a plainly valid item, or None when `_dimension_values` must judge them."""
    if raw is None:
        return "", "", ""
    if type(raw) is PlainDims:
        # Absent, null and "" mean the same (no value), as `_dimension_values` reads them.
        category, channel, region = raw.category or "", raw.channel or "", raw.region or ""
        allowed = rules.dimensions
        if (
            (
                category
                and (len(category) > MAX_DIMENSION_LENGTH or category.isspace() or "category" not in allowed)
            )
            or (
                channel
                and (len(channel) > MAX_DIMENSION_LENGTH or channel.isspace() or "channel" not in allowed)
            )
            or (
                region and (len(region) > MAX_DIMENSION_LENGTH or region.isspace() or "region" not in allowed)
            )
        ):
            return None
        return category, channel, region
    if type(raw) is not dict or not raw.keys() <= rules.dimensions:
        return None
    for value in raw.values():
        if type(value) is not str or not value or len(value) > MAX_DIMENSION_LENGTH or value.isspace():
            return None
    return raw.get("category", ""), raw.get("channel", ""), raw.get("region", "")


# Not tracked by the garbage collector (they hold only text): 5,000 tracked items per push made
# the collector run over and over, and cost more than decoding them.
class PlainDims(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    category: str | None = None
    channel: str | None = None
    region: str | None = None


class PlainEvent(msgspec.Struct, gc=False):
    """An item spelled the usual way: text id, metric, value and time; dims naming only the
    three dimensions. Whether its values are valid is still judged item by item."""

    event_id: str
    metric: str
    value: str
    occurred_at: str
    dims: PlainDims | None = None
    source: str | None = None

    def as_item(self) -> dict[str, Any]:
        """The item as the JSON decoder would have given it (for `_checked`'s wording)."""
        dims = self.dims
        return {
            "event_id": self.event_id,
            "metric": self.metric,
            "value": self.value,
            "occurred_at": self.occurred_at,
            "dims": None if dims is None else {k: v for k, v in msgspec.structs.asdict(dims).items() if v},
            "source": self.source,
        }


class _PlainBatch(msgspec.Struct):
    events: list[PlainEvent]


_decode_plain_batch = msgspec.json.Decoder(_PlainBatch).decode


def plain_events(body: bytes) -> list[PlainEvent] | None:
    """The items of a JSON push whose every item is spelled the usual way, decoded and
    type-checked in one pass (several times faster than decoding to dicts); None when any part
    of the body is otherwise (a number as value, an unknown dimension, malformed JSON ...): the
    general decoder then reads it and words each item's rejection."""
    if not body.isascii():
        try:
            body.decode()  # msgspec does not check the text of the fields it skips
        except UnicodeDecodeError:
            return None
    try:
        return _decode_plain_batch(body).events
    except (msgspec.MsgspecError, ValueError, RecursionError):  # skipping deep nesting recurses
        return None


def _checked(
    item: Any, catalogue: Mapping[str, MetricRules], tz: str
) -> tuple[str, Decimal, str, datetime, date, str, str, str, Any]:
    """(event_id, value, metric, occurred_at, business day, category, channel, region, source) of a
    valid item; raises `_Reject` with the first problem of an invalid one."""
    if type(item) is not dict:
        raise _Reject("missing_field", "The item is not an object with event_id, metric, value, occurred_at.")
    event_id = item.get("event_id")
    metric: Any = item.get("metric")
    raw_value = item.get("value")
    raw_time = item.get("occurred_at")
    for name, given in (
        ("event_id", event_id),
        ("metric", metric),
        ("value", raw_value),
        ("occurred_at", raw_time),
    ):
        if given is None or given == "":
            raise _Reject("missing_field", f"{name} is required.")
    if type(event_id) is not str or len(event_id) > MAX_EVENT_ID_LENGTH or event_id.isspace():
        raise _Reject(
            "invalid_field", f"event_id must be a string of at most {MAX_EVENT_ID_LENGTH} characters."
        )
    rules = catalogue.get(metric) if type(metric) is str else None
    if rules is None:
        raise _Reject("unknown_metric", f"'{str(metric)[:64]}' is not in the metric catalogue.")
    if rules.derived:
        raise _Reject("derived_metric", f"{metric} is derived from other metrics; push its parts instead.")
    value = parse_value(raw_value)
    if rules.value_min is not None and value < rules.value_min:
        raise _Reject("invalid_value", f"{metric} cannot be below {rules.value_min}.")
    if rules.value_max is not None and value > rules.value_max:
        raise _Reject("invalid_value", f"{metric} cannot be above {rules.value_max}.")
    occurred_at = parse_timestamp(raw_time)
    if not _EARLIEST_INSTANT <= instant_of(occurred_at) <= _LATEST_INSTANT:
        raise _outside_years()
    day = business_day(occurred_at, tz)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise _outside_years()
    category, channel, region = _dimension_values(item.get("dims"), rules, metric)
    source = item.get("source")
    if source is not None and (type(source) is not str or len(source) > MAX_SOURCE_LENGTH):
        raise _Reject("invalid_field", f"source must be a string of at most {MAX_SOURCE_LENGTH} characters.")
    return event_id, value, metric, occurred_at, day, category, channel, region, source


_from_iso = datetime.fromisoformat


def _outside_years() -> _Reject:
    return _Reject("invalid_timestamp", f"occurred_at must fall between {FIRST_YEAR} and {LAST_YEAR}.")


def _plain_checked(
    event_id: Any,
    metric: Any,
    raw_value: Any,
    raw_time: Any,
    raw_dims: Any,
    source: Any,
    catalogue: Mapping[str, MetricRules],
    business_days: BusinessDays,
) -> Row | None:
    """What `_checked` answers for an item spelled the plain way (string id, catalogue metric,
    digit value, ISO timestamp with an offset, known dims), checked in far fewer steps, with the
    value as given, as a staged row; None for any other item, which `_checked` then judges."""
    rules = catalogue.get(metric) if type(metric) is str else None
    if (
        rules is None
        or rules.derived
        or type(event_id) is not str
        or not event_id
        or len(event_id) > MAX_EVENT_ID_LENGTH
        or event_id.isspace()
        or type(raw_value) is not str
        or type(raw_time) is not str
        or (source is not None and (type(source) is not str or len(source) > MAX_SOURCE_LENGTH))
    ):
        return None
    value_text = plain_decimal_text(raw_value)
    if value_text is None:
        return None
    if rules.value_min is not None or rules.value_max is not None:
        value = Decimal(raw_value)
        if (rules.value_min is not None and value < rules.value_min) or (
            rules.value_max is not None and value > rules.value_max
        ):
            return None
    try:
        occurred_at = _from_iso(raw_time)
    except ValueError:
        return None
    if occurred_at.tzinfo is None:  # otherwise a fixed offset: fromisoformat makes no other zone
        return None
    dims = _fast_dimensions(raw_dims, rules)
    if dims is None:
        return None
    category, channel, region = dims
    instant = (occurred_at - _EPOCH) // _MICROSECOND
    if not _EARLIEST_INSTANT <= instant <= _LATEST_INSTANT:
        return None
    day = business_days.of(instant)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    digest = _digest(metric, value_text, instant, category, channel, region)
    return event_id, digest, metric, raw_value, instant, day, category, channel, region, source or None


def validate_items(
    items: Iterable[Any], catalogue: Mapping[str, MetricRules], tz: str, *, exact_numbers: bool = False
) -> ParsedBatch:
    """Checks every item (a decoded JSON object, or a `PlainEvent`); the valid ones become
    columns, each invalid one a rejection.

    Items spelled the plain way (string ids, catalogue metrics, digit values, ISO timestamps with
    an offset, known dims) pass a short path (`_plain_checked`); any other item is judged by
    `_checked`, the one place that words each rejection. Without `exact_numbers` (items parsed
    by orjson), such an item holding a float raises `InexactNumbers`: the short path takes
    strings only.
    """
    batch = ParsedBatch()
    seen: set[str] = set()
    business_days = BusinessDays(zone(tz))
    for index, item in enumerate(items):
        kind = type(item)
        if kind is PlainEvent:
            checked = _plain_checked(
                item.event_id, item.metric, item.value, item.occurred_at, item.dims, item.source,
                catalogue, business_days,
            )  # fmt: skip
            if checked is None:
                item = item.as_item()
        elif kind is dict:
            checked = _plain_checked(
                item.get("event_id"), item.get("metric"), item.get("value"), item.get("occurred_at"),
                item.get("dims"), item.get("source"), catalogue, business_days,
            )  # fmt: skip
        else:
            checked = None
        if checked is None:
            if not exact_numbers and _holds_float(item):
                raise InexactNumbers
            try:
                event_id, value, metric, occurred_at, day, category, channel, region, source = _checked(
                    item, catalogue, tz
                )
            except _Reject as problem:
                given_id = item.get("event_id") if type(item) is dict else None
                batch.rejected.append(
                    Rejection(
                        index, given_id if type(given_id) is str else None, problem.code, problem.detail
                    )
                )
                continue
            checked = (
                event_id, content_hash(metric, value, occurred_at, category, channel, region), metric,
                str(value), instant_of(occurred_at), day, category, channel, region, source or None,
            )  # fmt: skip
        event_id = checked[0]
        if event_id in seen:
            # Judged after storing, against the content that event_id ends up with.
            batch.repeats.append((index, event_id, checked[1]))
            continue
        seen.add(event_id)
        batch.indexes.append(index)
        batch.event_ids.append(event_id)
        batch.rows.append(checked)
    return batch


def outcome(
    batch: ParsedBatch, claimed: set[str], stored: Mapping[str, bytes]
) -> tuple[int, int, list[Rejection]]:
    """(accepted, duplicates, rejections) once the batch met the store.

    An event_id's content is what this batch stored (claimed) or what was stored before; an item
    with that content is a duplicate, an item with other content a `conflict`.
    """
    final: dict[str, bytes] = {}
    rejected = list(batch.rejected)
    duplicates = 0
    if len(claimed) == len(batch):
        # Every id was new (the usual first push): only the later items reusing one are judged.
        if batch.repeats:
            final = dict(zip(batch.event_ids, batch.hashes, strict=True))
        pairs: Iterable[tuple[int, str, bytes]] = ()
    else:
        pairs = zip(batch.indexes, batch.event_ids, batch.hashes, strict=True)
    for index, event_id, digest in pairs:
        if event_id in claimed:
            final[event_id] = digest
            continue
        final[event_id] = stored.get(event_id, b"")
        if final[event_id] == digest:
            duplicates += 1
        else:
            rejected.append(
                Rejection(
                    index,
                    event_id,
                    "conflict",
                    f"event_id {event_id} was stored before with other content; it is never overwritten.",
                )
            )
    for index, event_id, digest in batch.repeats:
        if final.get(event_id) == digest:
            duplicates += 1
        else:
            rejected.append(
                Rejection(index, event_id, "conflict", f"event_id {event_id} is stored with other content.")
            )
    rejected.sort(key=lambda r: r.index)
    return len(claimed), duplicates, rejected


class CsvError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MisshapenRow:
    """A CSV row with text beyond the header's columns: its cells cannot be trusted to be in
    their columns (an unquoted comma shifts every cell after it)."""

    event_id: str | None
    detail: str


def _records(text: str) -> Iterator[list[str]]:
    """The records of a CSV text. One the csv module cannot read (a cell beyond its field size
    limit, say) refuses the whole body: the cells after it cannot be trusted to be in place."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise CsvError(f"Line {reader.line_num} of the CSV body cannot be read: {exc}.") from exc


def csv_items(body: bytes, *, typed: bool = False) -> list[dict[str, Any] | MisshapenRow | PlainEvent]:
    """Rows of a CSV push as items shaped like JSON events (dims gathered, blanks as absent);
    a row with text in cells beyond the header as a `MisshapenRow` (blank extra cells, as a
    trailing comma leaves, are ignored).

    `typed`: a row with every required cell filled becomes a `PlainEvent`, as a JSON push spelled
    the usual way does: judged the same, about 0.8 µs per event cheaper than a dict item (made and
    judged; it is also not tracked by the garbage collector). Other rows stay dicts, whose
    rejections `_checked` words. A body holding NUL must be read untyped: `_screen_nul` looks
    into dicts only."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError("The CSV body is not UTF-8.") from exc
    reader = _records(text)
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise CsvError(f"The CSV body is empty; it starts with the header {','.join(CSV_COLUMNS)}.")
    columns = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise CsvError(f"The CSV header lacks {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}.")
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    if unknown:
        raise CsvError(f"Unknown CSV column(s): {', '.join(unknown)}; expected {','.join(CSV_COLUMNS)}.")
    position = {name: i for i, name in enumerate(columns)}
    width = len(columns)
    # Where each field is (-1: a column the header lacks); a row's cells are read by position.
    at_id, at_metric, at_value, at_time = (position[name] for name in REQUIRED)
    at_source = position.get("source", -1)
    dimensions_at = [(d, position[d]) for d in DIMENSIONS if d in position]
    items: list[dict[str, Any] | MisshapenRow | PlainEvent] = []
    for record in reader:
        count = len(record)
        if count == 0 or (count == 1 and not record[0].strip()):
            continue
        if count < width:  # a short row: its missing cells are blank
            record = record + [""] * (width - count)
        elif count > width and any(cell.strip() for cell in record[width:]):
            items.append(
                MisshapenRow(
                    record[at_id].strip() or None,
                    f"The row has {count} cells, the header {width} columns; quote a value "
                    "that contains a comma.",
                )
            )
            continue
        event_id, metric = record[at_id].strip(), record[at_metric].strip()
        value, occurred_at = record[at_value].strip(), record[at_time].strip()
        source = (record[at_source].strip() or None) if at_source >= 0 else None
        dims = {}
        for dimension, at in dimensions_at:
            cell = record[at].strip()
            if cell:
                dims[dimension] = cell
        if typed and event_id and metric and value and occurred_at:
            items.append(PlainEvent(event_id, metric, value, occurred_at, PlainDims(**dims), source))
            continue
        items.append(
            {
                "event_id": event_id or None,
                "metric": metric or None,
                "value": value or None,
                "occurred_at": occurred_at or None,
                "source": source,
                "dims": dims,
            }
        )
    return items
