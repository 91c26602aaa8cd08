"""Progress remembered for equal inputs is exactly what computing it afresh gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.targets.progress.service import compute_remembered
from shared.progress import ProgressInput, compute

LAST_EVENT = datetime(2025, 5, 10, 12, 0, tzinfo=UTC)


def _input(target: str, actual: str, asked_at: datetime, zone: timezone = UTC) -> ProgressInput:
    return ProgressInput(
        Decimal(target),
        date(2025, 4, 1),
        date(2025, 6, 30),
        date(2025, 5, 12),
        actual=Decimal(actual),
        last_event_at=LAST_EVENT.astimezone(zone),
        expected_frequency_hours=24,
        stale_reference=asked_at,
    )


@settings(max_examples=60, deadline=None)
@given(
    hours_after=st.integers(0, 72),
    target=st.sampled_from(["1000", "1000.0", "1000.00"]),
    actual=st.sampled_from(["450", "450.0", "450.50"]),
    offset=st.sampled_from([0, 8, -5]),
)
def test_remembered_progress_equals_fresh_progress_to_the_character(
    hours_after: int, target: str, actual: str, offset: int
) -> None:
    # The same input asked at another moment, written with other trailing zeros or zone.
    zone = timezone(timedelta(hours=offset))
    compute_remembered(_input("1000", "450", LAST_EVENT + timedelta(hours=1)))
    inp = _input(target, actual, LAST_EVENT + timedelta(hours=hours_after), zone)

    remembered, fresh = compute_remembered(inp), compute(inp)

    assert remembered == fresh
    assert repr(remembered) == repr(fresh)  # 1000.0 stays 1000.0, +08:00 stays +08:00
    assert remembered.stale is (hours_after > 24)
