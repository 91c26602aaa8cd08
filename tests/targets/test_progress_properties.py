"""Properties of the one progress computation (pure module, no I/O)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.progress import DayValue, Health, Progress, ProgressInput, compute

START, END = date(2025, 4, 1), date(2025, 6, 30)
HEALTH_RANK = {
    Health.OFF_TRACK: 0,
    Health.AT_RISK: 1,
    Health.ON_TRACK: 2,
    Health.MISSED: 0,
    Health.ACHIEVED: 2,
}

amounts = st.decimals(min_value=0, max_value=Decimal("1e7"), places=2, allow_nan=False)
positive = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e7"), places=2, allow_nan=False)
as_of_dates = st.integers(min_value=0, max_value=95).map(lambda d: START + timedelta(days=d))
profiles = st.lists(
    st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False), min_size=91, max_size=91
)


def last_year(values: list[Decimal]) -> list[DayValue]:
    return [DayValue(date(2024, 4, 1) + timedelta(days=i), v) for i, v in enumerate(values)]


def run(
    actual: Decimal,
    target: Decimal,
    as_of: date,
    direction: str,
    profile: list[DayValue],
    additive: bool = True,
) -> Progress:
    return compute(
        ProgressInput(
            target_value=target,
            starts_on=START,
            ends_on=END,
            as_of=as_of,
            direction=direction,  # type: ignore[arg-type]
            additive=additive,
            actual=actual,
            last_year_daily=profile,
            places=2,
        )
    )


@settings(max_examples=60, deadline=None)
@given(low=positive, extra=positive, target=positive, as_of=as_of_dates, values=profiles)
def test_progress_is_monotone_in_actual_when_higher_is_better(
    low: Decimal, extra: Decimal, target: Decimal, as_of: date, values: list[Decimal]
) -> None:
    profile = last_year(values)
    a, b = (
        run(low, target, as_of, "higher_is_better", profile),
        run(low + extra, target, as_of, "higher_is_better", profile),
    )
    assert b.attainment >= a.attainment  # type: ignore[operator]
    assert b.forecast >= a.forecast  # type: ignore[operator]
    if a.pace is not None and b.pace is not None:
        assert b.pace >= a.pace
    assert HEALTH_RANK[b.health] >= HEALTH_RANK[a.health]


@settings(max_examples=60, deadline=None)
@given(
    low=positive, extra=positive, target=positive, as_of=as_of_dates, values=profiles, additive=st.booleans()
)
def test_progress_is_anti_monotone_in_actual_when_lower_is_better(
    low: Decimal, extra: Decimal, target: Decimal, as_of: date, values: list[Decimal], additive: bool
) -> None:
    profile = last_year(values)
    a = run(low, target, as_of, "lower_is_better", profile, additive)
    b = run(low + extra, target, as_of, "lower_is_better", profile, additive)
    assert b.attainment <= a.attainment  # type: ignore[operator]
    if a.pace is not None and b.pace is not None:
        assert b.pace <= a.pace
    assert HEALTH_RANK[b.health] <= HEALTH_RANK[a.health]


@settings(max_examples=60, deadline=None)
@given(target=amounts, values=profiles, actual=amounts)
def test_seasonal_expected_to_date_at_the_period_end_equals_the_target(
    target: Decimal, values: list[Decimal], actual: Decimal
) -> None:
    # Weight on every day, so last year's profile covers the period and the pace is seasonal.
    result = run(actual, target, END, "higher_is_better", last_year([v + 1 for v in values]))
    assert result.expected_method == "seasonal"
    assert result.expected_to_date == target


@settings(max_examples=40, deadline=None)
@given(target=positive, values=profiles, day=st.integers(min_value=0, max_value=89))
def test_seasonal_expected_to_date_never_decreases_through_the_period(
    target: Decimal, values: list[Decimal], day: int
) -> None:
    profile = last_year(values)
    today = run(Decimal(1), target, START + timedelta(days=day), "higher_is_better", profile)
    tomorrow = run(Decimal(1), target, START + timedelta(days=day + 1), "higher_is_better", profile)
    assert tomorrow.expected_to_date >= today.expected_to_date  # type: ignore[operator]


@settings(max_examples=40, deadline=None)
@given(actual=positive, target=positive, values=profiles)
def test_the_forecast_band_is_wider_early_than_late(
    actual: Decimal, target: Decimal, values: list[Decimal]
) -> None:
    profile = last_year([v + 1 for v in values])
    early = run(actual, target, START + timedelta(days=6), "higher_is_better", profile)
    late = run(actual * 10, target, START + timedelta(days=80), "higher_is_better", profile)
    assert early.forecast_low <= early.forecast <= early.forecast_high  # type: ignore[operator]
    early_width = (early.forecast_high - early.forecast_low) / early.forecast  # type: ignore[operator]
    late_width = (late.forecast_high - late.forecast_low) / late.forecast  # type: ignore[operator]
    assert early_width > late_width


def test_a_rate_below_its_minimum_denominator_reports_insufficient_data() -> None:
    result = compute(
        ProgressInput(
            target_value=Decimal("0.03"),
            starts_on=START,
            ends_on=END,
            as_of=date(2025, 5, 1),
            additive=False,
            actual=Decimal("0.05"),
            numerator=Decimal(1),
            denominator=Decimal(20),
            min_denominator=Decimal(100),
        )
    )
    assert result.health == Health.INSUFFICIENT_DATA


def test_before_the_period_starts_nothing_is_coloured() -> None:
    result = run(Decimal(0), Decimal(100), START - timedelta(days=1), "higher_is_better", [])
    assert result.health == Health.NOT_STARTED


@settings(max_examples=25, deadline=None)
@given(exponent=st.integers(min_value=20, max_value=34))
def test_progress_of_actuals_far_past_28_digits_is_computed_not_refused(exponent: int) -> None:
    # Events accept values up to 10^30, so a period's sum can pass the default 28-digit context.
    result = compute(
        ProgressInput(
            target_value=Decimal("1000000.00"),
            starts_on=date(2025, 1, 1),
            ends_on=date(2025, 12, 31),
            as_of=date(2025, 6, 30),
            actual=Decimal("1" + "0" * exponent + ".01"),
        )
    )
    assert result.actual == Decimal("1" + "0" * exponent + ".01")
    assert result.health == Health.ON_TRACK


rates = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(rate=rates, target=rates, low=rates, high=rates, day=st.integers(min_value=0, max_value=89))
def test_a_rate_band_holds_its_forecast_and_stays_in_range_where_the_rate_does(
    rate: Decimal, target: Decimal, low: Decimal, high: Decimal, day: int
) -> None:
    value_min, value_max = min(low, high), max(low, high)
    inp = ProgressInput(
        target,
        START,
        END,
        START + timedelta(days=day),
        additive=False,
        actual=rate,
        value_min=value_min,
        value_max=value_max,
        places=6,  # as the targets service computes rates
    )
    result = compute(inp)
    places = Decimal(1).scaleb(-6)
    assert result.forecast_low <= result.forecast <= result.forecast_high  # type: ignore[operator]
    # Never beyond the range, unless the measured rate itself is (a range edited since).
    assert result.forecast_low >= min(value_min, rate).quantize(places)  # type: ignore[operator]
    assert result.forecast_high <= max(value_max, rate).quantize(places)  # type: ignore[operator]
