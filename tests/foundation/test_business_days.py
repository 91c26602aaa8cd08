"""The business day of an instant, worked out for a batch of events (remembered per UTC hour),
is always the day `business_day` gives, in zones with daylight saving, half-hour and 45-minute
offsets and historical transitions alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.periods import BusinessDays, business_day, zone

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZONES = [
    "Asia/Shanghai",
    "America/New_York",
    "Europe/Dublin",  # its "winter time" is the negative offset in the tz database
    "Australia/Lord_Howe",  # a half-hour daylight saving shift
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "America/Sao_Paulo",
    "Africa/Casablanca",
]
# Near a local midnight (an hour of UTC may straddle it, with offsets such as +05:45) or near a
# transition: where remembering an hour could go wrong.
DAYS = st.dates(date(1900, 1, 1), date(2199, 12, 30))
TRANSITIONS = [
    datetime(2011, 12, 30, 10, tzinfo=UTC),  # Apia's skipped day
    datetime(2025, 3, 9, 7, tzinfo=UTC),  # New York springs forward
    datetime(2025, 11, 2, 6, tzinfo=UTC),  # New York falls back
    datetime(2025, 4, 5, 15, tzinfo=UTC),  # Lord Howe's half hour back
    datetime(1986, 1, 1, tzinfo=UTC),  # Kathmandu from +05:30 to +05:45
]


def microseconds(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(ZONES),
    day=DAYS,
    transition=st.one_of(st.none(), st.sampled_from(TRANSITIONS)),
    steps=st.lists(st.integers(-2 * 3600 * 10**6, 2 * 3600 * 10**6), min_size=1, max_size=40),
)
def test_the_days_of_a_batch_of_instants_are_their_business_days(
    name: str, day: date, transition: datetime | None, steps: list[int]
) -> None:
    start = transition or datetime.combine(day, time(0), zone(name))
    days = BusinessDays(zone(name))
    instant = microseconds(start)
    for step in steps:
        instant += step
        assert days.of(instant) == business_day(EPOCH + timedelta(microseconds=instant), name)


class FallsBackAcrossMidnight(tzinfo):
    """+01:30 until 2030-01-01T22:45Z, then +00:30: local time passes midnight into 2030-01-02,
    reaches 00:15 and goes back to 23:15 on 2030-01-01. (The tz database has zones that fall back
    at midnight.)"""

    BEFORE, AFTER = timedelta(hours=1, minutes=30), timedelta(minutes=30)
    SWITCH = datetime(2030, 1, 1, 22, 45)  # UTC, naive

    def utcoffset(self, dt: datetime | None) -> timedelta:
        assert dt is not None
        local = dt.replace(tzinfo=None)
        if local < self.SWITCH + self.AFTER:
            return self.BEFORE
        if local < self.SWITCH + self.BEFORE:  # the half hour lived twice
            return self.AFTER if dt.fold else self.BEFORE
        return self.AFTER

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "FBM"

    def fromutc(self, dt: datetime) -> datetime:
        utc = dt.replace(tzinfo=None)
        if utc < self.SWITCH:
            return (utc + self.BEFORE).replace(tzinfo=self)
        local = utc + self.AFTER
        return local.replace(tzinfo=self, fold=int(local < self.SWITCH + self.BEFORE))


def test_an_hour_that_leaves_its_day_and_comes_back_is_worked_out_instant_by_instant() -> None:
    zone_ = FallsBackAcrossMidnight()
    # The UTC hour 22:00-23:00 starts at 23:30 and ends at 23:29 local on 01-01, but from 22:30
    # to 22:45 it is 00:00-00:15 on 01-02.
    for first in (0, 40, 59, 30, 44):
        days = BusinessDays(zone_)
        for minute in (first, 0, 29, 30, 35, 44, 45, 59):
            at = datetime(2030, 1, 1, 22, minute, tzinfo=UTC)
            assert days.of(microseconds(at)) == at.astimezone(zone_).date()
