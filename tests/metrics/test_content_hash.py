"""The content hash decides whether a re-sent event_id is a duplicate or a conflict, against
hashes stored by every earlier version: its value for a given event may never change."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from services.metrics.events.parsing import content_hash, plain_decimal_text

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_a_stored_hash_is_still_the_hash_of_its_event() -> None:
    at = datetime(2025, 6, 19, 1, 0, tzinfo=timezone(timedelta(hours=8)))
    digest = content_hash("gmv", Decimal("12.50"), at, "beauty", "app", "east")
    stored = hashlib.md5(b"gmv\x1f12.5\x1f1750266000000000\x1fbeauty\x1fapp\x1feast").digest()
    assert digest == stored


@given(
    metric=st.text(min_size=1, max_size=8),
    value=st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20, places=6),
    microseconds=st.integers(0, 200 * 365 * 86_400 * 10**6),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
    dims=st.tuples(st.text(max_size=5), st.text(max_size=5), st.text(max_size=5)),
)
def test_the_hash_is_md5_of_the_canonical_text_whatever_the_spelling(
    metric: str,
    value: Decimal,
    microseconds: int,
    offset_minutes: int,
    dims: tuple[str, str, str],
) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    at = (EPOCH + timedelta(microseconds=microseconds)).astimezone(zone)
    # The formula every stored hash was made with, spelled as it first was.
    text = "0" if value == 0 else format(value.normalize(), "f")
    category, channel, region = dims
    canonical = f"{metric}\x1f{text}\x1f{microseconds}\x1f{category}\x1f{channel}\x1f{region}"
    expected = hashlib.md5(canonical.encode(), usedforsecurity=False).digest()
    assert content_hash(metric, value, at, *dims) == expected
    assert content_hash(metric, value * 1, at.astimezone(UTC), *dims) == expected


PLAIN_DECIMAL = r"-?[0-9]{1,20}(\.[0-9]{1,20})?"


@given(st.from_regex(PLAIN_DECIMAL, fullmatch=True))
@example("100000000000000.00000000000001")  # 29 digits: the formula rounds them to 28
@example("-0.000")
def test_a_value_spelled_as_plain_digits_gets_its_canonical_text_without_a_decimal(raw: str) -> None:
    value = Decimal(raw)
    assert plain_decimal_text(raw) == ("0" if value == 0 else format(value.normalize(), "f"))


@given(st.one_of(st.text(max_size=45), st.from_regex(r"[-+ .0-9eE\u0660-\u0669]{0,45}", fullmatch=True)))
def test_any_other_spelling_of_a_value_is_left_to_the_decimal_parser(raw: str) -> None:
    if re.fullmatch(PLAIN_DECIMAL, raw, flags=re.ASCII) is None:
        assert plain_decimal_text(raw) is None
    else:
        assert plain_decimal_text(raw) is not None
