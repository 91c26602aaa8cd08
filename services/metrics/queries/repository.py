"""Reads of the daily rollups: every base-metric read of a query batch in one statement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# One row per read (`leaf`); the lateral subquery sums the matching rollup rows per day (when the
# read needs days) and per requested dimension. Reads without filters or grouping use the
# dimension-less daily totals, reads that filter or group by one dimension only the
# per-dimension rollups, and only the others the full (metric, day, dimensions) rollups.
_READ_ROLLUPS = text(
    """
    select q.leaf, a.day, a.category, a.channel, a.region, a.total
    from jsonb_to_recordset(cast(:reads as jsonb)) as q(
        leaf int, metric text, start_day date, end_day date, per_day bool, use_totals bool,
        dimension text, dimension_values text[],
        by_category bool, by_channel bool, by_region bool,
        categories text[], channels text[], regions text[])
    cross join lateral (
        select case when q.per_day then r.business_day end as day,
               case when q.by_category then r.category end as category,
               case when q.by_channel then r.channel end as channel,
               case when q.by_region then r.region end as region,
               sum(r.total) as total
        from metrics.daily_rollups r
        where not q.use_totals and q.dimension is null
          and r.metric = q.metric
          and r.business_day between q.start_day and q.end_day
          and (q.categories is null or r.category = any(q.categories))
          and (q.channels is null or r.channel = any(q.channels))
          and (q.regions is null or r.region = any(q.regions))
        group by 1, 2, 3, 4
        union all
        select case when q.per_day then d.business_day end,
               case when q.by_category then d.value end,
               case when q.by_channel then d.value end,
               case when q.by_region then d.value end,
               sum(d.total)
        from metrics.daily_dimension_rollups d
        where q.dimension is not null
          and d.metric = q.metric
          and d.dimension = q.dimension
          and (q.dimension_values is null or d.value = any(q.dimension_values))
          and d.business_day between q.start_day and q.end_day
        group by 1, 2, 3, 4
        union all
        select case when q.per_day then t.business_day end, null, null, null, sum(t.total)
        from metrics.daily_totals t
        where q.use_totals
          and t.metric = q.metric
          and t.business_day between q.start_day and q.end_day
        group by 1
    ) a
    """
)

_READ_LATEST = text(
    """
    select q.leaf,
           (select max(l.last_event_at)
              from metrics.latest_events l
             where l.metric = q.metric
               and (q.categories is null or l.category = any(q.categories))
               and (q.channels is null or l.channel = any(q.channels))
               and (q.regions is null or l.region = any(q.regions))) as last_event_at
    from jsonb_to_recordset(cast(:reads as jsonb)) as q(
        leaf int, metric text, categories text[], channels text[], regions text[])
    """
)

RollupRow = tuple[int, date | None, str | None, str | None, str | None, Decimal]


def _encode(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


async def read_rollups(session: AsyncSession, reads: Sequence[dict[str, Any]]) -> list[RollupRow]:
    if not reads:
        return []
    result = await session.execute(_READ_ROLLUPS, {"reads": json.dumps(reads, default=_encode)})
    return [tuple(row) for row in result.all()]


async def read_latest(session: AsyncSession, reads: Sequence[dict[str, Any]]) -> dict[int, datetime | None]:
    if not reads:
        return {}
    result = await session.execute(_READ_LATEST, {"reads": json.dumps(reads, default=_encode)})
    return {int(leaf): at for leaf, at in result.all()}
