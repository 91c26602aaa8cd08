"""A push spelled the usual way is decoded straight into typed items; every other push by the
general JSON decoder. Both paths must judge every item alike: the same stored columns, the
same rejections with the same codes and words, for any mix of plain and odd items."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from services.metrics.events.parsing import (
    InexactNumbers,
    MetricRules,
    ParsedBatch,
    PlainEvent,
    plain_events,
    validate_items,
)

TZ = "Asia/Shanghai"
CATALOGUE = {
    "gmv": MetricRules(
        derived=False,
        dimensions=frozenset({"category", "channel", "region"}),
        value_min=None,
        value_max=None,
    ),
    "orders": MetricRules(
        derived=False, dimensions=frozenset({"category"}), value_min=Decimal(0), value_max=Decimal(1000)
    ),
    "aov": MetricRules(derived=True, dimensions=frozenset({"category"}), value_min=None, value_max=None),
}

# A usual item, then up to two of its fields spelled oddly: most items are accepted, so the
# checks between them (dimensions a metric is not reported by, bounds, the business day) matter.
names = st.sampled_from(["beauty", "home", "a", "\u00e9t\u00e9"])
usual_items = st.fixed_dictionaries(
    {
        "event_id": st.sampled_from(["e1", "e2", "e3", "e4"]),
        "metric": st.sampled_from(["gmv", "orders"]),
        "value": st.decimals(
            allow_nan=False, allow_infinity=False, places=3, min_value=-2000, max_value=2000
        ).map(str),
        "occurred_at": st.sampled_from(
            [
                "2025-06-18T17:00:00Z",
                "2025-06-18T17:00:00+00:00",
                "2025-06-19T01:00:00+08:00",
                "2025-06-18T15:59:59.999999-01:00",
                "1970-01-01T00:00:00+08:00",
            ]
        ),
        "dims": st.one_of(
            st.dictionaries(st.sampled_from(["category", "channel", "region"]), st.one_of(names, st.none())),
            st.none(),
        ),
    },
    optional={"source": st.one_of(names, st.none())},
)
odd_fields = st.sampled_from(
    [
        ("event_id", ""),
        ("event_id", " "),
        ("event_id", "x" * 201),
        ("metric", "aov"),
        ("metric", "nope"),
        ("metric", ""),
        ("value", "0012.500"),
        ("value", "-0"),
        ("value", "1E+3"),
        ("value", " 7 "),
        ("value", "NaN"),
        ("value", "ten"),
        ("value", ""),
        ("value", "1001"),
        ("occurred_at", "2025-06-18T17:00:00"),
        ("occurred_at", " 2025-06-18T17:00:00Z "),
        ("occurred_at", "1969-12-31T10:00:00Z"),
        ("occurred_at", "2025-13-01T00:00:00Z"),
        ("occurred_at", "yesterday"),
        ("occurred_at", ""),
        ("dims", {"category": ""}),
        ("dims", {"category": " "}),
        ("dims", {"channel": "x" * 101}),
        ("source", ""),
        ("source", "x" * 201),
    ]
)
items = st.builds(lambda item, odd: {**item, **dict(odd)}, usual_items, st.lists(odd_fields, max_size=2))


def _columns(batch: ParsedBatch) -> dict[str, Any]:
    """The batch, with each staged value as the number PostgreSQL stores from it: the short path
    stages the text as given ("0012.500"), the general one Decimal's spelling ("12.500")."""
    columns = {name: getattr(batch, name) for name in ParsedBatch.__dataclass_fields__}
    columns["rows"] = [(*row[:3], Decimal(row[3]).as_tuple(), *row[4:]) for row in batch.rows]
    return columns


def _general(body: bytes) -> ParsedBatch:
    items = orjson.loads(body)["events"]
    try:
        return validate_items(items, CATALOGUE, TZ)
    except InexactNumbers:
        exact = json.loads(body, parse_float=Decimal)["events"]
        return validate_items(exact, CATALOGUE, TZ, exact_numbers=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(items, max_size=12))
def test_plain_and_general_decoding_judge_every_item_alike(drawn: list[dict[str, Any]]) -> None:
    body = orjson.dumps({"events": drawn})
    plain = plain_events(body)
    assert plain is not None, "items of text fields only are plain"
    assert all(type(item) is PlainEvent for item in plain)
    assert _columns(validate_items(plain, CATALOGUE, TZ)) == _columns(_general(body))


def test_a_number_an_unknown_dimension_or_a_missing_field_sends_the_whole_push_the_general_way() -> None:
    plain_item = {"event_id": "e1", "metric": "gmv", "value": "1", "occurred_at": "2025-06-18T17:00:00Z"}
    assert plain_events(orjson.dumps({"events": [plain_item]})) is not None
    for odd in (
        {**plain_item, "value": 1.5},
        {**plain_item, "dims": {"colour": "red"}},
        {key: value for key, value in plain_item.items() if key != "value"},
        {**plain_item, "event_id": 7},
        "not an object",
    ):
        assert plain_events(orjson.dumps({"events": [plain_item, odd]})) is None
    assert plain_events(b'{"events": [') is None
    assert plain_events(b'{"events": ["\xff"]}') is None


def test_text_that_is_not_utf8_or_deep_nesting_anywhere_sends_the_push_the_general_way() -> None:
    item = b'{"event_id": "e1", "metric": "gmv", "value": "1", "occurred_at": "2025-06-18T17:00:00Z"'
    for extra in (b'"caf\xe9"', b'"\xed\xa0\x80"', b"[" * 5_000 + b"]" * 5_000):
        assert plain_events(b'{"events": [' + item + b', "note": ' + extra + b"}]}") is None
