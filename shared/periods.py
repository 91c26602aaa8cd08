"""Periods of the planning calendar ("2025", "2025Q2", "2025-05") and the business-day cut."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import Problem

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# Room for the year before (baselines) and the quarter after (promoted tasks) within `date`.
_FIRST_YEAR, _LAST_YEAR = 1000, 9998


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of business days; `label` is its canonical name when it has one."""

    start: date
    end: date
    label: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise Problem(422, "invalid_period", f"Period ends ({self.end}) before it starts ({self.start}).")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    def shift_years(self, years: int) -> Period:
        """The same period `years` later (negative: earlier); 29 Feb becomes 28 Feb."""
        return Period(
            _shift_date(self.start, years), _shift_date(self.end, years), _shift_label(self.label, years)
        )

    def __str__(self) -> str:
        return self.label or f"{self.start.isoformat()}..{self.end.isoformat()}"


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@lru_cache(maxsize=8192)  # progress shifts the same few period edges for every target
def _shift_date(day: date, years: int) -> date:
    year = day.year + years
    return date(year, day.month, min(day.day, monthrange(year, day.month)[1]))


def _shift_label(label: str | None, years: int) -> str | None:
    if label is None:
        return None
    return f"{int(label[:4]) + years}{label[4:]}"


def year(y: int) -> Period:
    return Period(date(y, 1, 1), date(y, 12, 31), f"{y:04d}")


def quarter(y: int, q: int) -> Period:
    first_month = 3 * (q - 1) + 1
    last_month = first_month + 2
    return Period(date(y, first_month, 1), date(y, last_month, monthrange(y, last_month)[1]), f"{y:04d}Q{q}")


def month(y: int, m: int) -> Period:
    return Period(date(y, m, 1), date(y, m, monthrange(y, m)[1]), f"{y:04d}-{m:02d}")


def parse_period(text: str) -> Period:
    """ "2025" → the year, "2025Q2" → the quarter, "2025-05" → the month."""
    value = text.strip().upper()
    if (m := _YEAR.match(value[:4])) and not _FIRST_YEAR <= int(m.group(1)) <= _LAST_YEAR:
        raise Problem(
            422, "invalid_period", f"'{text}' lies outside the years {_FIRST_YEAR} to {_LAST_YEAR}."
        )
    if m := _YEAR.match(value):
        return year(int(m.group(1)))
    if m := _QUARTER.match(value):
        return quarter(int(m.group(1)), int(m.group(2)))
    if m := _MONTH.match(value):
        return month(int(m.group(1)), int(m.group(2)))
    raise Problem(
        422,
        "invalid_period",
        f"'{text}' is not a period; use a year (2025), a quarter (2025Q2) or a month (2025-05).",
    )


def parse_quarter(text: str) -> Period:
    period = parse_period(text)
    if period.label is None or "Q" not in period.label:
        raise Problem(422, "invalid_quarter", f"'{text}' is not a quarter such as 2025Q2.")
    return period


def quarter_of(day: date) -> Period:
    return quarter(day.year, (day.month - 1) // 3 + 1)


def next_quarter(label: str) -> Period:
    current = parse_quarter(label)
    return quarter_of(current.end + timedelta(days=1))


def split(period: Period, by: str) -> list[Period]:
    """The quarters or months that cover `period`, each clipped to it."""
    if by not in ("quarter", "month"):
        raise ValueError(by)
    parts: list[Period] = []
    cursor = period.start
    while cursor <= period.end:
        whole = quarter_of(cursor) if by == "quarter" else month(cursor.year, cursor.month)
        start, end = max(whole.start, period.start), min(whole.end, period.end)
        label = whole.label if (start, end) == (whole.start, whole.end) else None
        parts.append(Period(start, end, label))
        cursor = whole.end + timedelta(days=1)
    return parts


def days_of(period: Period) -> list[date]:
    return [period.start + timedelta(days=i) for i in range(period.days)]


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Problem(422, "invalid_timezone", f"'{name}' is not an IANA time zone.") from exc


def business_day(ts: datetime, tz: str) -> date:
    """The business day an instant belongs to, cut in the business time zone.

    2025-06-18T17:00Z is 2025-06-19 01:00 in Asia/Shanghai, so it belongs to 2025-06-19.
    """
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise Problem(422, "timestamp_without_zone", f"{ts.isoformat()} carries no time zone.")
    return ts.astimezone(zone(tz)).date()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR = 3_600_000_000  # microseconds


class BusinessDays:
    """`business_day` of many instants (microseconds since 1970-01-01 UTC) in one zone, remembered
    per UTC hour: a batch of events spends most of its time in a few days' worth of hours.

    An hour whose first and last microsecond fall on the same business day at the same UTC offset
    lies wholly in that day, given that a zone's offset never changes twice within one hour (no
    zone has two transitions that close). Any other hour is worked out instant by instant.
    """

    def __init__(self, business_zone: tzinfo) -> None:
        self._zone = business_zone
        self._days: dict[int, date] = {}

    def of(self, instant: int) -> date:
        hour = instant // _HOUR
        day = self._days.get(hour)
        if day is not None:
            return day
        first = (_EPOCH + timedelta(microseconds=hour * _HOUR)).astimezone(self._zone)
        last = (_EPOCH + timedelta(microseconds=hour * _HOUR + _HOUR - 1)).astimezone(self._zone)
        if first.date() == last.date() and first.utcoffset() == last.utcoffset():
            self._days[hour] = first.date()
            return first.date()
        return (_EPOCH + timedelta(microseconds=instant)).astimezone(self._zone).date()
