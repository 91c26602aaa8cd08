"""Progress of a target as of a date — the one computation every service and the gateway use.

Pure: plain values in, plain values out, no I/O. The caller fetches the actual to date and last
year's profile (its days, or the metrics service's summary of them — one batched metrics query)
and passes them in.

Definitions (T = target value, A = actual to date, s = expected share of the period done):

- s, the elapsed share. *Seasonal* when last year's daily profile of the same period and scope
  covers that period: the cumulative share last year had reached on the same calendar day (for
  rates, the share of last year's denominator volume). *Linear* otherwise: elapsed days /
  period days. The profile covers last year's period when its first day with positive weight
  is no later than the period's `edge`-th day and its last such day no earlier than the
  period's `edge`-th last day, where ``edge = max(1, min(7, period_days // 4))`` (a week, so a weekly rhythm
  with quiet weekends still covers; less for periods shorter than four weeks). History that
  starts late (a metric first tracked mid-year) or stops early (a partial back-fill) would
  otherwise claim that the whole period's volume falls inside the days it happens to hold.
- expected_to_date: additive metrics T × s; rate (non-additive) metrics T — a rate target holds
  on every day of the period.
- attainment = A / T, pace = A / expected — inverted (T / A, expected / A) for
  lower-is-better metrics, so that above 1 always means "better than planned".
- forecast for the period end: additive A / s (A once the period is over); rate: the current
  rate.
- forecast_low / forecast_high: a 90 % band around the forecast. Its relative half-width is
  ``1.645 × c × sqrt((1 − s) / (s × n))`` — the standard error of estimating a total from the
  share s already observed out of n weekly buckets (finite-population correction), where c is
  the coefficient of variation of last year's weekly values in the same period (0.30 when there
  is no history; never below 0.05). A week is a run of seven days from the first day of last
  year's period, a last, shorter run left out; its value is the metric's own value over it, as
  a metrics query of that run answers it (the sum, the ratio of the run's sums, or the metric's
  aggregation of its days) — the metrics service computes them (a query's `profile`). Early
  in the period (small s) the band is wide; it closes to the forecast itself at the end. An
  additive band never goes below what is already booked; a rate band stays inside the
  metric's possible range, yet always holds the forecast (should the measured rate itself lie
  outside that range).
- health: NOT_STARTED before the period starts or while there is no data; INSUFFICIENT_DATA for
  a rate whose denominator is below the metric's minimum; after the period has ended (as-of on
  or after its last day) ACHIEVED when the actual meets the target, else MISSED; before that
  ON_TRACK when the forecast reaches `on_track` × target, AT_RISK when it reaches `at_risk` ×
  target, else OFF_TRACK (for lower-is-better: forecast at most target / threshold).
- stale: the metric has received no event for longer than its expected frequency, judged at
  the end of the as-of day (or now, when that is earlier).
- growth targets measure from their frozen baseline: `growth_to_date` is the growth over the
  baseline's same share of the period (additive: A / (baseline × s) − 1; rate: A / baseline − 1).
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Literal

from shared.periods import Period

Direction = Literal["higher_is_better", "lower_is_better"]
Method = Literal["seasonal", "linear"]

RATIO_PLACES = 4
BAND_Z = Decimal("1.645")
DEFAULT_SPREAD = Decimal("0.30")
MIN_SPREAD = Decimal("0.05")
DAYS_PER_BUCKET = 7


class Health(enum.StrEnum):
    NOT_STARTED = "NOT_STARTED"
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    OFF_TRACK = "OFF_TRACK"
    ACHIEVED = "ACHIEVED"
    MISSED = "MISSED"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class Thresholds:
    on_track: Decimal = Decimal("1.00")
    at_risk: Decimal = Decimal("0.90")


@dataclass(frozen=True)
class DayValue:
    """One day of a series: the value, and for ratio metrics the two sides of the ratio."""

    day: date
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None


@dataclass(frozen=True)
class ProgressInput:
    target_value: Decimal
    starts_on: date
    ends_on: date
    as_of: date
    direction: Direction = "higher_is_better"
    additive: bool = True
    kind: Literal["absolute", "growth"] = "absolute"
    baseline_value: Decimal | None = None
    actual: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    last_year_daily: Sequence[DayValue] = ()
    # The same profile summarised once (see `SeasonalProfile`); when given, it is read instead of
    # `last_year_daily`, so computing many dates against one profile stays linear.
    last_year: SeasonalProfile | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    min_denominator: Decimal | None = None
    last_event_at: datetime | None = None
    expected_frequency_hours: Decimal | int | None = None
    stale_reference: datetime | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    places: int = 2


@dataclass(frozen=True)
class Progress:
    as_of: date
    actual: Decimal | None
    expected_to_date: Decimal | None
    attainment: Decimal | None
    pace: Decimal | None
    forecast: Decimal | None
    forecast_low: Decimal | None
    forecast_high: Decimal | None
    health: Health
    stale: bool
    target_value: Decimal
    baseline_value: Decimal | None
    expected_method: Method
    numerator: Decimal | None
    denominator: Decimal | None
    last_event_at: datetime | None
    elapsed_share: Decimal | None
    growth_to_date: Decimal | None


# ---- small arithmetic ---------------------------------------------------------------------------


def _round(value: Decimal | None, places: int) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def _places_of(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def better_ratio(value: Decimal | None, reference: Decimal | None, direction: Direction) -> Decimal | None:
    """value / reference, or reference / value for lower-is-better; above 1 means better."""
    if value is None or reference is None:
        return None
    numerator, denominator = (value, reference) if direction == "higher_is_better" else (reference, value)
    if denominator == 0:
        return None
    return numerator / denominator


def reaches(value: Decimal, target: Decimal, fraction: Decimal, direction: Direction) -> bool:
    """Whether `value` is at least `fraction` of the way to `target`, the right way round.

    Compared by multiplication, so a zero actual or a zero target never divides by zero.
    """
    if direction == "higher_is_better":
        return value >= target * fraction
    return value * fraction <= target


def shifted_back_a_year(day: date) -> date:
    return Period(day, day).shift_years(-1).start


# ---- elapsed share and spread -------------------------------------------------------------------


ZERO = Decimal(0)


@dataclass(frozen=True)
class SeasonalProfile:
    """Last year's daily profile, summarised once for every question progress asks of it.

    A day's weight is its value for additive metrics, its denominator volume for rates; days at
    or below zero weigh nothing. `total` is the weight of every day, `first_weighted` and
    `last_weighted` the first and last days with weight, `done[i]` the cumulative weight through
    `days[i]` — every day of a profile read day by day (`daily`), or only the day progress asks
    about when the metrics service summarised the profile — and `spread` the coefficient of
    variation of the weekly values (`spread_of`).
    """

    additive: bool
    total: Decimal = ZERO
    first_weighted: date | None = None
    last_weighted: date | None = None
    spread: Decimal = DEFAULT_SPREAD
    days: tuple[date, ...] = ()
    done: tuple[Decimal, ...] = ()
    daily: bool = True

    def covers(self, start: date, end: date) -> bool:
        """Whether the weighted days reach into the first and the last `edge` days of
        [start, end] (see the module docstring): only then is the profile a seasonal shape."""
        if self.first_weighted is None or self.last_weighted is None:
            return False
        edge = timedelta(days=max(1, min(7, ((end - start).days + 1) // 4)) - 1)
        return self.first_weighted <= start + edge and self.last_weighted >= end - edge

    def done_through(self, day: date) -> Decimal:
        """The weight of the profile's days up to and including `day`."""
        if self.first_weighted is None or self.last_weighted is None or day < self.first_weighted:
            return ZERO
        if day >= self.last_weighted:
            return self.total
        index = bisect_right(self.days, day)
        if self.daily:
            return self.done[index - 1] if index else ZERO
        if index and self.days[index - 1] == day:
            return self.done[index - 1]
        raise LookupError(f"the profile was summarised without the weight done by {day}")

    @classmethod
    def of(cls, daily: Sequence[DayValue], additive: bool) -> SeasonalProfile:
        ordered = sorted(daily, key=lambda p: p.day)
        return cls.of_columns(
            [p.day for p in ordered],
            [p.value for p in ordered],
            [p.numerator for p in ordered],
            [p.denominator for p in ordered],
            additive,
        )

    @classmethod
    def of_columns(
        cls,
        days: Sequence[date],
        values: Sequence[Decimal | None],
        numerators: Sequence[Decimal | None],
        denominators: Sequence[Decimal | None],
        additive: bool,
        weeks: Sequence[Decimal | None] | None = None,
    ) -> SeasonalProfile:
        """The profile from its columns, one entry per day, in day order; `weeks`, when given,
        are the weekly values as the metrics service computed them (else `weekly_values` of
        the columns)."""
        running = ZERO
        done: list[Decimal] = []
        first: date | None = None
        last: date | None = None
        for day, raw in zip(days, values if additive else denominators, strict=True):
            if raw is not None and raw > 0:
                running += raw
                first = first or day
                last = day
            done.append(running)
        return cls(
            additive=additive,
            total=running,
            first_weighted=first,
            last_weighted=last,
            spread=spread_of(
                weekly_values(values, numerators, denominators, additive) if weeks is None else weeks
            ),
            days=tuple(days),
            done=tuple(done),
        )

    @classmethod
    def of_summary(
        cls,
        additive: bool,
        *,
        total: Decimal,
        through: date,
        done: Decimal,
        first_weighted: date | None,
        last_weighted: date | None,
        weeks: Sequence[Decimal | None],
    ) -> SeasonalProfile:
        """The profile from the metrics service's summary of it (a query's `profile`): the
        weight done is known for the one day `through`."""
        return cls(
            additive=additive,
            total=total,
            first_weighted=first_weighted,
            last_weighted=last_weighted,
            spread=spread_of(weeks),
            days=(through,),
            done=(done,),
            daily=False,
        )


def _profile_of(inp: ProgressInput) -> SeasonalProfile:
    if inp.last_year is not None and inp.last_year.additive == inp.additive:
        return inp.last_year
    return SeasonalProfile.of(inp.last_year_daily, inp.additive)


def _elapsed_share(inp: ProgressInput, profile: SeasonalProfile, upto: date) -> tuple[Decimal, Method]:
    last_year = Period(inp.starts_on, inp.ends_on).shift_years(-1)
    if profile.covers(last_year.start, last_year.end):
        done = profile.done_through(shifted_back_a_year(upto))
        return min(Decimal(1), done / profile.total), "seasonal"
    period_days = (inp.ends_on - inp.starts_on).days + 1
    elapsed_days = (upto - inp.starts_on).days + 1
    return Decimal(elapsed_days) / Decimal(period_days), "linear"


def elapsed_share(inp: ProgressInput, upto: date) -> tuple[Decimal, Method]:
    """How much of the period's volume is normally done by `upto` (seasonal when last year's
    profile covers the period). A profile summarised by the metrics service knows the weight
    done by one day only: `upto` must be the day it was asked for (else LookupError)."""
    return _elapsed_share(inp, _profile_of(inp), upto)


def weekly_spread(profile: Sequence[DayValue], additive: bool) -> Decimal:
    """Coefficient of variation of last year's weekly values (the band's width per bucket)."""
    return SeasonalProfile.of(profile, additive).spread


def weekly_values(
    values: Sequence[Decimal | None],
    numerators: Sequence[Decimal | None],
    denominators: Sequence[Decimal | None],
    additive: bool,
) -> list[Decimal | None]:
    """The value of each week of a profile given day by day, for callers without the metrics
    service's weekly values: weeks are consecutive runs of seven days from the profile's first
    day, a last, partial week left out; additive metrics sum the week, rates divide its summed
    sides — what the metrics service answers for sums and for ratios of summed parts. The
    columns cannot say how a metric aggregated by avg / last / max / min reads a week: for
    those (no denominators) this takes the mean of the daily values. Columns in day order."""
    weeks: list[Decimal | None] = []
    for start in range(0, len(values) - DAYS_PER_BUCKET + 1, DAYS_PER_BUCKET):
        stop = start + DAYS_PER_BUCKET
        if additive:
            weeks.append(sum((v or ZERO for v in values[start:stop]), ZERO))
            continue
        week_numerators = [n for n in numerators[start:stop] if n is not None]
        week_denominators = [d for d in denominators[start:stop] if d is not None]
        den = sum(week_denominators, ZERO)
        if week_denominators and den > 0:
            weeks.append(sum(week_numerators, ZERO) / den)
            continue
        week_values = [v for v in values[start:stop] if v is not None]
        weeks.append(sum(week_values, ZERO) / len(week_values) if week_values else None)
    return weeks


def spread_of(weeks: Sequence[Decimal | None]) -> Decimal:
    """Coefficient of variation of the weekly values that exist (never below MIN_SPREAD;
    DEFAULT_SPREAD with fewer than two weeks or a mean at or below zero)."""
    buckets = [week for week in weeks if week is not None]
    if len(buckets) < 2:
        return DEFAULT_SPREAD
    mean = sum(buckets, ZERO) / len(buckets)
    if mean <= 0:
        return DEFAULT_SPREAD
    variance = sum(((b - mean) ** 2 for b in buckets), ZERO) / (len(buckets) - 1)
    return max(MIN_SPREAD, variance.sqrt() / mean)


def band_half_width(spread: Decimal, share: Decimal, period_days: int) -> Decimal | None:
    """Relative half-width of the 90 % forecast band; None when nothing is observed yet."""
    if share <= 0:
        return None
    if share >= 1:
        return Decimal(0)
    buckets = max(Decimal(1), Decimal(period_days) / DAYS_PER_BUCKET)
    return BAND_Z * spread * ((1 - share) / (share * buckets)).sqrt()


def is_stale(inp: ProgressInput) -> bool:
    if inp.expected_frequency_hours is None or inp.as_of < inp.starts_on:
        return False
    if inp.last_event_at is None:
        return True
    end_of_day = datetime.combine(inp.as_of + timedelta(days=1), time(0), tzinfo=UTC)
    reference = inp.stale_reference or end_of_day
    return reference - inp.last_event_at > timedelta(hours=float(inp.expected_frequency_hours))


def _clamp(value: Decimal | None, low: Decimal | None, high: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


# ---- the computation ----------------------------------------------------------------------------


# Actuals are sums of events (each up to 10^30); rounding them to the target's places needs more
# than the default context's 28 digits.
_WIDE = Context(prec=80)


def compute(inp: ProgressInput) -> Progress:
    with localcontext(_WIDE):
        return _compute(inp)


def _compute(inp: ProgressInput) -> Progress:
    target = inp.target_value
    places = max(inp.places, _places_of(target))
    stale = is_stale(inp)

    def result(**values: object) -> Progress:
        base: dict[str, object] = {
            "as_of": inp.as_of,
            "actual": None,
            "expected_to_date": None,
            "attainment": None,
            "pace": None,
            "forecast": None,
            "forecast_low": None,
            "forecast_high": None,
            "health": Health.NOT_STARTED,
            "stale": stale,
            "target_value": target,
            "baseline_value": inp.baseline_value,
            "expected_method": "linear",
            "numerator": inp.numerator,
            "denominator": inp.denominator,
            "last_event_at": inp.last_event_at,
            "elapsed_share": None,
            "growth_to_date": None,
        }
        base.update(values)
        return Progress(**base)  # type: ignore[arg-type]

    if inp.as_of < inp.starts_on:
        return result(expected_to_date=Decimal(0) if inp.additive else None, elapsed_share=Decimal(0))

    ended = inp.as_of >= inp.ends_on
    upto = min(inp.as_of, inp.ends_on)
    period_days = (inp.ends_on - inp.starts_on).days + 1
    profile = _profile_of(inp)
    share, method = _elapsed_share(inp, profile, upto)
    if ended:
        share = Decimal(1)
    spread = profile.spread
    if inp.additive:
        return _additive(inp, result, share, method, ended, places, spread, period_days)
    return _rate(inp, result, share, method, ended, places, spread, period_days)


def _additive(
    inp: ProgressInput,
    result: Callable[..., Progress],
    share: Decimal,
    method: Method,
    ended: bool,
    places: int,
    spread: Decimal,
    period_days: int,
) -> Progress:
    target = inp.target_value
    actual = inp.actual if inp.actual is not None else Decimal(0)
    expected = target * share
    linear_share = Decimal((min(inp.as_of, inp.ends_on) - inp.starts_on).days + 1) / Decimal(period_days)
    # A seasonal share of zero so far (last year was silent on these days) cannot extrapolate.
    forecast_share = share if share > 0 else linear_share
    forecast = actual if ended else actual / forecast_share
    half_width = band_half_width(spread, forecast_share, period_days)
    if ended or half_width is None:
        low, high = forecast, forecast
    else:
        low, high = forecast * (1 - half_width), forecast * (1 + half_width)
        if actual >= 0:
            low = max(low, actual)  # what is booked stays booked
    growth = None
    if inp.kind == "growth" and inp.baseline_value:
        baseline_to_date = inp.baseline_value * share
        growth = actual / baseline_to_date - 1 if baseline_to_date else None
    no_data = inp.actual is None or (actual == 0 and inp.last_event_at is None)
    health = _health(inp.direction, forecast, actual, target, inp.thresholds, ended, no_data)
    return result(
        actual=actual,
        expected_to_date=_round(expected, places),
        attainment=_round(better_ratio(actual, target, inp.direction), RATIO_PLACES),
        pace=_round(better_ratio(actual, expected, inp.direction), RATIO_PLACES),
        forecast=_round(forecast, places),
        forecast_low=_round(low, places),
        forecast_high=_round(high, places),
        health=health,
        expected_method=method,
        elapsed_share=_round(share, RATIO_PLACES),
        growth_to_date=_round(growth, RATIO_PLACES),
    )


def _rate(
    inp: ProgressInput,
    result: Callable[..., Progress],
    share: Decimal,
    method: Method,
    ended: bool,
    places: int,
    spread: Decimal,
    period_days: int,
) -> Progress:
    target = inp.target_value
    actual = inp.actual
    if actual is None:
        # No denominator volume yet: nothing to colour.
        return result(
            expected_to_date=target,
            health=Health.INSUFFICIENT_DATA if ended else Health.NOT_STARTED,
            expected_method=method,
            elapsed_share=_round(share, RATIO_PLACES),
        )
    half_width = band_half_width(spread, share, period_days)
    if ended or half_width is None:
        low, high = actual, actual
    else:
        delta = abs(actual) * half_width
        low, high = actual - delta, actual + delta
    # Inside the metric's possible range; yet always around the forecast, should the measured
    # rate itself lie outside a range edited since.
    clamped_low, clamped_high = (
        _clamp(low, inp.value_min, inp.value_max),
        _clamp(high, inp.value_min, inp.value_max),
    )
    assert clamped_low is not None and clamped_high is not None
    low_in_range, high_in_range = min(clamped_low, actual), max(clamped_high, actual)
    insufficient = (
        inp.min_denominator is not None
        and inp.denominator is not None
        and inp.denominator < inp.min_denominator
    )
    if insufficient:
        health = Health.INSUFFICIENT_DATA
    else:
        health = _health(inp.direction, actual, actual, target, inp.thresholds, ended, no_data=False)
    growth = None
    if inp.kind == "growth" and inp.baseline_value:
        growth = actual / inp.baseline_value - 1
    ratio = better_ratio(actual, target, inp.direction)
    return result(
        actual=actual,
        expected_to_date=target,
        attainment=_round(ratio, RATIO_PLACES),
        pace=_round(ratio, RATIO_PLACES),
        forecast=_round(actual, places),
        forecast_low=_round(low_in_range, places),
        forecast_high=_round(high_in_range, places),
        health=health,
        expected_method=method,
        elapsed_share=_round(share, RATIO_PLACES),
        growth_to_date=_round(growth, RATIO_PLACES),
    )


def _health(
    direction: Direction,
    forecast: Decimal,
    actual: Decimal,
    target: Decimal,
    thresholds: Thresholds,
    ended: bool,
    no_data: bool,
) -> Health:
    if ended:
        return Health.ACHIEVED if reaches(actual, target, Decimal(1), direction) else Health.MISSED
    if no_data:
        return Health.NOT_STARTED
    if reaches(forecast, target, thresholds.on_track, direction):
        return Health.ON_TRACK
    if reaches(forecast, target, thresholds.at_risk, direction):
        return Health.AT_RISK
    return Health.OFF_TRACK


# ---- health over time ---------------------------------------------------------------------------


def running_actuals(series: Sequence[DayValue], aggregation: str, ratio: bool) -> list[DayValue]:
    """The actual to date after each day of a daily series, aggregated as the metric says:
    sums for additive metrics, the ratio of summed sides for ratio metrics (never an average of
    daily ratios), mean / last / max / min of the days with data otherwise."""
    out: list[DayValue] = []
    total = numerator = denominator = Decimal(0)
    seen: list[Decimal] = []
    for point in sorted(series, key=lambda p: p.day):
        if ratio:
            numerator += point.numerator or Decimal(0)
            denominator += point.denominator or Decimal(0)
            value = numerator / denominator if denominator else None
            out.append(DayValue(point.day, value, numerator, denominator))
            continue
        if aggregation == "sum":
            total += point.value or Decimal(0)
            out.append(DayValue(point.day, total))
            continue
        if point.value is not None:
            seen.append(point.value)
        value = None
        if seen:
            value = {
                "avg": lambda: sum(seen, Decimal(0)) / len(seen),
                "last": lambda: seen[-1],
                "max": lambda: max(seen),
                "min": lambda: min(seen),
            }.get(aggregation, lambda: sum(seen, Decimal(0)))()
        out.append(DayValue(point.day, value))
    return out
