"""Last year's profile summarised once answers exactly what the plain day-by-day sums answer."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.periods import Period
from shared.progress import DayValue, ProgressInput, SeasonalProfile, compute, elapsed_share, weekly_spread

START, END = date(2025, 4, 1), date(2025, 6, 30)
LAST_YEAR_START = date(2024, 4, 1)

sides = st.none() | st.decimals(min_value=-50, max_value=1000, places=2, allow_nan=False)
# Short profiles (history that stops early) and ones as long as the period or longer; zeros,
# negatives and gaps anywhere, the edges included.
days_of_profile = st.lists(st.tuples(sides, sides, sides), min_size=0, max_size=100) | st.lists(
    st.tuples(sides, sides, sides), min_size=91, max_size=100
)
weights = st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2, allow_nan=False)
as_of_dates = st.integers(min_value=0, max_value=95).map(lambda d: START + timedelta(days=d))


def daily(points: list[tuple[Decimal | None, Decimal | None, Decimal | None]]) -> list[DayValue]:
    return [
        DayValue(LAST_YEAR_START + timedelta(days=i), value, numerator, denominator)
        for i, (value, numerator, denominator) in enumerate(points)
    ]


def weight(p: DayValue, additive: bool) -> Decimal:
    raw = p.value if additive else p.denominator
    return raw if raw is not None and raw > 0 else Decimal(0)


def plain_covers(profile: list[DayValue], additive: bool) -> bool:
    """Last year's period is 2024-04-01..2024-06-30 (91 days, so an edge of 7 days): the
    weighted days must reach into its first week and into its last week."""
    weighted = [p.day for p in profile if weight(p, additive) > 0]
    return bool(weighted) and min(weighted) <= date(2024, 4, 7) and max(weighted) >= date(2024, 6, 24)


def plain_share(profile: list[DayValue], additive: bool, upto: date) -> Decimal | None:
    """The seasonal share as the definition reads: positive weight up to the same day last
    year over the whole year's positive weight (None when the profile does not cover last
    year's period)."""
    if not plain_covers(profile, additive):
        return None
    total = sum((weight(p, additive) for p in profile), Decimal(0))
    same_day = Period(upto, upto).shift_years(-1).start
    done = sum((weight(p, additive) for p in profile if p.day <= same_day), Decimal(0))
    return min(Decimal(1), done / total)


def plain_weeks(profile: list[DayValue], additive: bool) -> list[Decimal | None]:
    """The value of each full seven-day run from the first day, recomputed plainly."""
    ordered = sorted(profile, key=lambda p: p.day)
    weeks = [ordered[i : i + 7] for i in range(0, len(ordered) - 6, 7)]
    values: list[Decimal | None] = []
    for week in weeks:
        if additive:
            values.append(sum((p.value or Decimal(0) for p in week), Decimal(0)))
            continue
        denominators = [p.denominator for p in week if p.denominator is not None]
        present = [p.value for p in week if p.value is not None]
        if denominators and sum(denominators, Decimal(0)) > 0:
            numerators = [p.numerator for p in week if p.numerator is not None]
            values.append(sum(numerators, Decimal(0)) / sum(denominators, Decimal(0)))
        else:
            values.append(sum(present, Decimal(0)) / len(present) if present else None)
    return values


def plain_spread(profile: list[DayValue], additive: bool) -> Decimal:
    """Coefficient of variation of full seven-day runs from the first day, recomputed plainly."""
    values = [v for v in plain_weeks(profile, additive) if v is not None]
    if len(values) < 2:
        return Decimal("0.30")
    mean = sum(values, Decimal(0)) / len(values)
    if mean <= 0:
        return Decimal("0.30")
    variance = sum(((v - mean) ** 2 for v in values), Decimal(0)) / (len(values) - 1)
    return max(Decimal("0.05"), variance.sqrt() / mean)


@settings(max_examples=60, deadline=None)
@given(points=days_of_profile, additive=st.booleans(), as_of=as_of_dates)
def test_the_summarised_share_equals_the_plain_sums(
    points: list[tuple[Decimal | None, Decimal | None, Decimal | None]], additive: bool, as_of: date
) -> None:
    profile = daily(points)
    upto = min(as_of, END)
    inp = ProgressInput(Decimal(100), START, END, as_of, additive=additive, last_year_daily=profile)
    share, method = elapsed_share(inp, upto)
    expected = plain_share(profile, additive, upto)
    if expected is None:
        assert method == "linear"
    else:
        assert (share, method) == (expected, "seasonal")


@settings(max_examples=60, deadline=None)
@given(points=days_of_profile, additive=st.booleans())
def test_the_summarised_weekly_spread_equals_the_plain_one(
    points: list[tuple[Decimal | None, Decimal | None, Decimal | None]], additive: bool
) -> None:
    profile = daily(points)
    shuffled = random.Random(len(points)).sample(profile, len(profile))
    assert weekly_spread(shuffled, additive) == plain_spread(profile, additive)


@settings(max_examples=40, deadline=None)
@given(
    points=days_of_profile,
    additive=st.booleans(),
    as_of=as_of_dates,
    actual=st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False),
)
def test_progress_from_a_summarised_profile_equals_progress_from_the_days(
    points: list[tuple[Decimal | None, Decimal | None, Decimal | None]],
    additive: bool,
    as_of: date,
    actual: Decimal,
) -> None:
    profile = daily(points)
    from_days = ProgressInput(
        Decimal("5000"), START, END, as_of, additive=additive, actual=actual, last_year_daily=profile
    )
    summarised = ProgressInput(
        Decimal("5000"),
        START,
        END,
        as_of,
        additive=additive,
        actual=actual,
        last_year=SeasonalProfile.of(profile, additive),
    )
    assert compute(summarised) == compute(from_days)


@settings(max_examples=60, deadline=None)
@given(
    points=days_of_profile,
    additive=st.booleans(),
    as_of=as_of_dates,
    actual=st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False),
)
def test_progress_from_the_metrics_services_summary_equals_progress_from_the_days(
    points: list[tuple[Decimal | None, Decimal | None, Decimal | None]],
    additive: bool,
    as_of: date,
    actual: Decimal,
) -> None:
    """The summary a profile query answers (total, weight done by the day asked about, first
    and last weighted days, weekly values), recomputed plainly here, paces exactly like the
    days it summarises."""
    profile = daily(points)
    through = Period(min(as_of, END), min(as_of, END)).shift_years(-1).start
    weighted = [p.day for p in profile if weight(p, additive) > 0]
    summary = SeasonalProfile.of_summary(
        additive,
        total=sum((weight(p, additive) for p in profile), Decimal(0)),
        through=through,
        done=sum((weight(p, additive) for p in profile if p.day <= through), Decimal(0)),
        first_weighted=min(weighted, default=None),
        last_weighted=max(weighted, default=None),
        weeks=plain_weeks(profile, additive),
    )
    from_days = ProgressInput(
        Decimal("5000"), START, END, as_of, additive=additive, actual=actual, last_year_daily=profile
    )
    summarised = ProgressInput(
        Decimal("5000"), START, END, as_of, additive=additive, actual=actual, last_year=summary
    )
    assert compute(summarised) == compute(from_days)


def test_a_summary_answers_only_for_the_day_it_was_asked_about() -> None:
    summary = SeasonalProfile.of_summary(
        True,
        total=Decimal(10),
        through=date(2024, 5, 1),
        done=Decimal(4),
        first_weighted=date(2024, 4, 1),
        last_weighted=date(2024, 6, 30),
        weeks=[],
    )
    assert summary.done_through(date(2024, 5, 1)) == Decimal(4)
    assert summary.done_through(date(2024, 3, 31)) == Decimal(0)  # before any weight
    assert summary.done_through(date(2024, 6, 30)) == Decimal(10)  # all of it
    with pytest.raises(LookupError):
        summary.done_through(date(2024, 5, 2))


def linear_share(upto: date) -> Decimal:
    return Decimal((upto - START).days + 1) / Decimal((END - START).days + 1)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(weights, min_size=91, max_size=91),
    additive=st.booleans(),
    as_of=as_of_dates,
)
def test_a_profile_covering_last_years_period_paces_seasonally(
    values: list[Decimal], additive: bool, as_of: date
) -> None:
    profile = daily([(v, v, v) for v in values])
    upto = min(as_of, END)
    inp = ProgressInput(Decimal(100), START, END, as_of, additive=additive, last_year_daily=profile)
    assert elapsed_share(inp, upto) == (plain_share(profile, additive, upto), "seasonal")


@settings(max_examples=60, deadline=None)
@given(
    first=st.integers(min_value=0, max_value=90),
    length=st.integers(min_value=1, max_value=91),
    weight_of_day=weights,
    additive=st.booleans(),
    as_of=as_of_dates,
)
def test_a_profile_not_covering_last_years_period_paces_linearly(
    first: int, length: int, weight_of_day: Decimal, additive: bool, as_of: date
) -> None:
    # Weight only on days first .. first + length - 1 of last year's 91: history that starts
    # after the first week or stops before the last one.
    last = min(90, first + length - 1)
    assume(first > 6 or last < 84)
    profile = daily(
        [
            (weight_of_day, weight_of_day, weight_of_day) if first <= i <= last else (None, None, None)
            for i in range(91)
        ]
    )
    upto = min(as_of, END)
    inp = ProgressInput(
        Decimal(9000), START, END, as_of, additive=additive, actual=Decimal(1), last_year_daily=profile
    )
    assert elapsed_share(inp, upto) == (linear_share(upto), "linear")
    result = compute(inp)
    assert result.expected_method == "linear"
    if additive and as_of < END:
        assert result.expected_to_date == (Decimal(9000) * linear_share(upto)).quantize(Decimal("0.01"))
