"""Reads of the daily rollups: every base-metric read of a query batch in one statement.

Reads are grouped by shape (which rollup table, which dimensions filter, which group, per day or
not), and each shape becomes one subquery whose conditions are plain index conditions: the
planner sees `category = any(...)` rather than `(... is null or category = any(...))`, so it
walks only the index ranges a read needs. The subqueries of a batch run as one statement.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from shared.periods import next_month

DIMENSION_COLUMNS = {"category": "categories", "channel": "channels", "region": "regions"}
# The bucket of seven-day runs from a read's start (not a calendar week).
SEVEN_DAYS = "seven_days"

# A row of `read_rollups`: (leaf, day or bucket start or None, category, channel, region, total,
# bound). An asyncpg record, read by position or unpacked like a tuple.
RollupRow = Any


@dataclass(frozen=True)
class ReadShape:
    """What decides a read's SQL: its rollup source, filtered and grouped dimensions, days."""

    filtered: tuple[str, ...]
    grouped: tuple[str, ...]
    per_day: bool
    # "week" | "month" | "quarter" | SEVEN_DAYS: one row per bucket (clipped to start), not per day.
    bucket: str | None = None

    @functools.cached_property
    def used(self) -> tuple[str, ...]:
        return tuple(d for d in DIMENSION_COLUMNS if d in self.filtered or d in self.grouped)

    @functools.cached_property
    def monthly(self) -> bool:
        """Whether the months the read covers completely are read from the monthly rollups:
        sums over the whole read or per month or quarter, without dimensions or by one."""
        if len(self.used) > 1:
            return False
        return self.bucket in ("month", "quarter") or (self.bucket is None and not self.per_day)


@functools.lru_cache(maxsize=1024)
def read_shape(
    filtered: tuple[str, ...], grouped: tuple[str, ...], per_day: bool, bucket: str | None
) -> ReadShape:
    """The shape of these parts, one instance per distinct shape (its properties computed once)."""
    return ReadShape(filtered, grouped, per_day, bucket)


@functools.lru_cache(maxsize=4096)
def whole_months(start: date, end: date) -> tuple[date, date]:
    """(first, until): the first days of the months [start, end] covers completely are those
    from `first` up to, not including, `until`; both are the day after `end` when there is none."""
    after_end = end + timedelta(days=1)
    first = start if start.day == 1 else next_month(start)
    until = after_end if after_end.day == 1 else end.replace(day=1)
    if first >= until:
        return after_end, after_end
    return first, until


_RECORD = (
    "q(leaf int, metric text, start_day date, end_day date, "
    "categories text[], channels text[], regions text[])"
)


_MONTHLY_RECORD = _RECORD.replace(")", ", month_from date, month_until date)")


def _monthly_subquery(shape: ReadShape, parameter: str) -> str:
    """A monthly read: its whole months from the monthly rollups, the days before and after
    them from the daily ones — three plain index ranges, summed together."""

    def day(column: str) -> str:
        if shape.bucket is None:
            return "null::date"
        return f"greatest(date_trunc('{shape.bucket}', {column}::timestamp)::date, q.start_day)"

    bound = "null::numeric" if shape.bucket is None else "sum(x.bound)"
    where = "{t}.metric = q.metric"
    group = "null::text"
    if shape.used:
        (dimension,) = shape.used
        daily, monthly, name = "daily_dimension_rollups", "monthly_dimension_rollups", dimension
        where += f" and {{t}}.dimension = '{dimension}'"
        if dimension in shape.filtered:
            where += f" and {{t}}.value = any(q.{DIMENSION_COLUMNS[dimension]})"
        if dimension in shape.grouped:
            group = "{t}.value"
        columns = ", ".join(f"a.{d}" if d == dimension else "null::text" for d in DIMENSION_COLUMNS)
    else:
        daily, monthly, name = "daily_totals", "monthly_totals", "grouped"
        columns = "null::text, null::text, null::text"

    def days(low: str, high: str) -> str:
        return f"""
                select {day("r.business_day")} as day, {group.format(t="r")} as grouped,
                       r.total, abs(r.total) as bound
                from metrics.{daily} r
                where {where.format(t="r")} and r.business_day between {low} and {high}"""

    return f"""
        select q.leaf, a.day, {columns}, a.total, a.bound
        from jsonb_to_recordset(cast({parameter} as jsonb)) as {_MONTHLY_RECORD}
        cross join lateral (
            select x.day, x.grouped as {name}, sum(x.total) as total, {bound} as bound
            from ({days("q.start_day", "q.month_from - 1")}
                union all
                select {day("m.month")}, {group.format(t="m")}, m.total, m.magnitude
                from metrics.{monthly} m
                where {where.format(t="m")} and m.month >= q.month_from and m.month < q.month_until
                union all {days("q.month_until", "q.end_day")}
            ) x
            group by 1, 2
        ) a"""


def _rollup_subquery(shape: ReadShape, parameter: str) -> str:
    if shape.monthly:
        return _monthly_subquery(shape, parameter)
    if shape.bucket == SEVEN_DAYS:
        # Runs of seven days counted from the read's start (a seasonal profile's weeks).
        day = "q.start_day + (r.business_day - q.start_day) / 7 * 7"
        bound = "sum(abs(r.total))"
    elif shape.bucket is not None:
        # The bucket's first day, clipped to the read's start; weeks start on Monday (ISO).
        day = f"greatest(date_trunc('{shape.bucket}', r.business_day::timestamp)::date, q.start_day)"
        # The sum of the rows' magnitudes: it bounds every partial sum of the bucket's rows, so
        # the caller can tell whether summing them day by day in 28 digits would be exact.
        bound = "sum(abs(r.total))"
    else:
        day = "r.business_day" if shape.per_day else "null::date"
        bound = "null::numeric"
    used = shape.used
    if not used:
        # Without dimensions: one row per (metric, day).
        return f"""
        select q.leaf, a.day, null::text, null::text, null::text, a.total, a.bound
        from jsonb_to_recordset(cast({parameter} as jsonb)) as {_RECORD}
        cross join lateral (
            select {day} as day, sum(r.total) as total, {bound} as bound
            from metrics.daily_totals r
            where r.metric = q.metric and r.business_day between q.start_day and q.end_day
            group by 1
        ) a"""
    if len(used) == 1:
        # One dimension: a contiguous index range per (metric, dimension, value).
        (dimension,) = used
        values = f"and r.value = any(q.{DIMENSION_COLUMNS[dimension]})" if dimension in shape.filtered else ""
        group = "r.value" if dimension in shape.grouped else "null::text"
        columns = ", ".join(f"a.{d}" if d == dimension else "null::text" for d in DIMENSION_COLUMNS)
        return f"""
        select q.leaf, a.day, {columns}, a.total, a.bound
        from jsonb_to_recordset(cast({parameter} as jsonb)) as {_RECORD}
        cross join lateral (
            select {day} as day, {group} as {dimension}, sum(r.total) as total, {bound} as bound
            from metrics.daily_dimension_rollups r
            where r.metric = q.metric and r.dimension = '{dimension}' {values}
              and r.business_day between q.start_day and q.end_day
            group by 1, 2
        ) a"""
    conditions = " ".join(
        f"and r.{d} = any(q.{DIMENSION_COLUMNS[d]})" for d in DIMENSION_COLUMNS if d in shape.filtered
    )
    groups = ", ".join(
        f"r.{d} as {d}" if d in shape.grouped else f"null::text as {d}" for d in DIMENSION_COLUMNS
    )
    return f"""
        select q.leaf, a.day, a.category, a.channel, a.region, a.total, a.bound
        from jsonb_to_recordset(cast({parameter} as jsonb)) as {_RECORD}
        cross join lateral (
            select {day} as day, {groups}, sum(r.total) as total, {bound} as bound
            from metrics.daily_rollups r
            where r.metric = q.metric and r.business_day between q.start_day and q.end_day {conditions}
            group by 1, 2, 3, 4
        ) a"""


# The latest event lies on the latest business day with data, or at most two days before it
# (were the business zone ever changed, two zones' days differ by at most 26 hours).
_LATEST_MARGIN_DAYS = 2


def _latest_subquery(filtered: tuple[str, ...], parameter: str) -> str:
    record = f"jsonb_to_recordset(cast({parameter} as jsonb)) as {_RECORD}"
    if not filtered:
        return f"""
        select q.leaf, (
            select max(r.last_event_at) from metrics.daily_totals r
            where r.metric = q.metric
              and r.business_day >= (select max(t.business_day) from metrics.daily_totals t
                                     where t.metric = q.metric) - {_LATEST_MARGIN_DAYS})
        from {record}"""
    if len(filtered) == 1:
        (dimension,) = filtered
        return f"""
        select q.leaf, (
            select max(l.last_event_at)
            from unnest(q.{DIMENSION_COLUMNS[dimension]}) as v(value)
            cross join lateral (
                select max(r.last_event_at) as last_event_at from metrics.daily_dimension_rollups r
                where r.metric = q.metric and r.dimension = '{dimension}' and r.value = v.value
                  and r.business_day >= (
                      select max(t.business_day) from metrics.daily_dimension_rollups t
                      where t.metric = q.metric and t.dimension = '{dimension}' and t.value = v.value
                  ) - {_LATEST_MARGIN_DAYS}
            ) l)
        from {record}"""
    conditions = " ".join(f"and {{t}}.{d} = any(q.{DIMENSION_COLUMNS[d]})" for d in filtered)
    # The latest day of the combinations: first looked for in the metric's last week (a few
    # index entries per combination), over all days only when that week has none.
    latest_day = f"""coalesce(
                (select max(t.business_day) from metrics.daily_rollups t
                 where t.metric = q.metric {conditions.format(t="t")}
                   and t.business_day >= (select max(d.business_day) from metrics.daily_totals d
                                          where d.metric = q.metric) - 7),
                (select max(t.business_day) from metrics.daily_rollups t
                 where t.metric = q.metric {conditions.format(t="t")}))"""
    return f"""
        select q.leaf, (
            select max(r.last_event_at) from metrics.daily_rollups r
            where r.metric = q.metric {conditions.format(t="r")}
              and r.business_day >= {latest_day} - {_LATEST_MARGIN_DAYS})
        from {record}"""


async def _fetch(
    session: AsyncSession, statement: str, groups: Sequence[Sequence[dict[str, Any]]]
) -> list[Any]:
    # Straight on the driver connection: thousands of rows come back as asyncpg records,
    # without a result-row layer on top.
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    # orjson writes dates as ISO dates, as the statements read them.
    return list(await raw.fetch(statement, *(orjson.dumps(rows).decode() for rows in groups)))


async def read_rollups(
    session: AsyncSession, reads: Sequence[tuple[ReadShape, dict[str, Any]]]
) -> list[RollupRow]:
    """Rows (leaf, day, category, channel, region, total, bound) of every read, one statement.

    day is the business day (per-day reads), the bucket's clipped first day (bucketed reads) or
    None; bound is the sum of the summed rows' magnitudes (bucketed reads) or None. The driver's
    records are returned as they are (no copy)."""
    if not reads:
        return []
    by_shape: dict[ReadShape, list[dict[str, Any]]] = {}
    for shape, row in reads:
        by_shape.setdefault(shape, []).append(row)
    shapes = sorted(by_shape, key=repr)  # a stable statement text per set of shapes
    statement = " union all ".join(_rollup_subquery(s, f"${i + 1}") for i, s in enumerate(shapes))
    return await _fetch(session, statement, [by_shape[s] for s in shapes])


async def read_latest(
    session: AsyncSession, reads: Sequence[tuple[tuple[str, ...], dict[str, Any]]]
) -> dict[int, datetime | None]:
    """The latest event time per read (leaf), under the read's filters, whatever its date."""
    if not reads:
        return {}
    by_filters: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for filtered, row in reads:
        by_filters.setdefault(filtered, []).append(row)
    keys = sorted(by_filters)
    statement = " union all ".join(_latest_subquery(k, f"${i + 1}") for i, k in enumerate(keys))
    return {int(leaf): at for leaf, at in await _fetch(session, statement, [by_filters[k] for k in keys])}


@dataclass(frozen=True)
class Weights:
    """A read's days weighed: the sums of its positive day totals, over all its days and up to
    a day, and the first and last days with a positive total."""

    total: Decimal
    done: Decimal
    first_day: date | None
    last_day: date | None


NO_WEIGHT = Weights(Decimal(0), Decimal(0), None, None)


async def read_weights(
    session: AsyncSession, reads: Sequence[tuple[ReadShape, dict[str, Any], date]]
) -> dict[int, Weights]:
    """Per read (leaf): its day totals weighed, summed in SQL (exact); `reads` are per-day,
    ungrouped reads with the day `done` counts up to. One statement; reads without a positive
    day are left out (`NO_WEIGHT`)."""
    if not reads:
        return {}
    by_shape: dict[ReadShape, list[dict[str, Any]]] = {}
    throughs = {row["leaf"]: through for _, row, through in reads}
    for shape, row, _ in reads:
        by_shape.setdefault(shape, []).append(row)
    shapes = sorted(by_shape, key=repr)
    days = " union all ".join(_rollup_subquery(s, f"${i + 1}") for i, s in enumerate(shapes))
    through = f"${len(shapes) + 1}"
    statement = f"""
        select d.leaf,
               sum(d.total) filter (where d.total > 0),
               sum(d.total) filter (where d.total > 0 and d.day <= t.through),
               min(d.day) filter (where d.total > 0),
               max(d.day) filter (where d.total > 0)
        from ({days}) as d(leaf, day, category, channel, region, total, bound)
        join jsonb_to_recordset(cast({through} as jsonb)) as t(leaf int, through date) on t.leaf = d.leaf
        group by d.leaf
        having max(d.day) filter (where d.total > 0) is not null"""
    groups: list[Any] = [by_shape[s] for s in shapes]
    groups.append([{"leaf": leaf, "through": day} for leaf, day in throughs.items()])
    return {
        int(leaf): Weights(total, done or Decimal(0), first, last)
        for leaf, total, done, first, last in await _fetch(session, statement, groups)
    }
