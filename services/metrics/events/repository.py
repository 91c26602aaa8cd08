"""Set-based writes of events: a COPY into a staging table, then the dedup ledger, the partitioned
events and every rollup in two statements of one transaction."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from datetime import date
from typing import Any

import asyncpg
import structlog
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.metrics.events.parsing import ParsedBatch
from shared.periods import next_month

log = structlog.get_logger("pacer.metrics.events")

CONNECTION_SETUPS = Counter(
    "pacer_ingest_connection_setups_total",
    "Runs of the ingest's connection setup (staging table, prepared statements), by where: "
    "checkout (when the pool hands a connection out, outside any transaction; once per "
    "connection, the usual way) or push (inside a push's transaction, on a connection whose "
    "setup at its checkout failed: logged as ingest_setup_failed, tried again at its next checkout).",
    ["at"],
)
# Both series are exported from the start, at 0.
_SET_UP_AT_CHECKOUT, _SET_UP_IN_PUSH = (CONNECTION_SETUPS.labels(at=at) for at in ("checkout", "push"))

# How a push's valid items were stored (`pacer_ingest_batches_total`, counted by the service once
# the push has committed): every id was stored before, nothing written; by the statement for
# ids not seen before; or by the general statement after that one met a stored id or, on a
# day's first push, a rollup row written meanwhile.
KNOWN, NEW, RETRIED = "known", "new", "retried"

# Event ids are claimed in event_id order and rollup keys are written sorted, so two concurrent
# batches take their locks in the same order and cannot deadlock. The dedup ledger's primary key
# makes an event_id claimed by a concurrent batch wait for that batch and then count as not
# claimed. Rollups are fed from the rows this statement stores, in the same transaction: they
# always equal the sums of the raw events. Those rows are summed once per (metric, day,
# dimensions); the per-day, per-dimension and per-month rollups add up those few sums, not the
# events.
_CLAIM = """
    insert into metrics.event_ids (event_id, content_hash)
    select event_id, content_hash from ingest_staging order by event_id
"""
# The instant arrives as microseconds since 1970 (cheaper to send than a timestamp). PostgreSQL
# multiplies an interval in float8: exact below 2^53 microseconds (about 285 years) from 1970,
# which every accepted instant is (parsing checks it).
_STAGED_EVENTS = """
    select i.event_id, i.metric, i.value::numeric as value,
           timestamptz 'epoch' + i.occurred_us * interval '1 microsecond' as occurred_at, i.business_day,
           i.category, i.channel, i.region, i.source
    from ingest_staging i
"""
_STORE = """
    insert into metrics.events
        (event_id, metric, value, occurred_at, business_day, category, channel, region, source)
"""


def _grouped(rows: str) -> str:
    return f"""grouped as (
    select metric, business_day, category, channel, region,
           sum(value) as total, count(*) as event_count, max(occurred_at) as last_event_at,
           sum(abs(value)) as magnitude
    from {rows}
    group by metric, business_day, category, channel, region
)"""


_ADD_DAILY = """do update
    set total = {t}.total + excluded.total,
        event_count = {t}.event_count + excluded.event_count,
        last_event_at = greatest({t}.last_event_at, excluded.last_event_at)"""


def _day_rollups(name: str, only_if: str, on_conflict: bool) -> str:
    """The rollups per (metric, day, dimensions) and per (metric, dimension, value, day), written
    from `grouped` when `only_if` holds: as upserts, or as plain inserts of keys known to be new."""
    conflict_daily = (
        "on conflict (metric, category, channel, region, business_day) " + _ADD_DAILY.format(t="r")
        if on_conflict
        else ""
    )
    conflict_dimension = (
        "on conflict (metric, dimension, value, business_day) " + _ADD_DAILY.format(t="d")
        if on_conflict
        else ""
    )
    return f"""{name}day_rollups as (
    insert into metrics.daily_rollups as r
        (metric, business_day, category, channel, region, total, event_count, last_event_at)
    select metric, business_day, category, channel, region, total, event_count, last_event_at
    from grouped
    where {only_if}
    order by metric, category, channel, region, business_day
    {conflict_daily}
), {name}dimension_rollups as (
    insert into metrics.daily_dimension_rollups as d
        (metric, dimension, value, business_day, total, event_count, last_event_at)
    select g.metric, x.dimension, x.dimension_value, g.business_day,
           sum(g.total), sum(g.event_count)::bigint, max(g.last_event_at)
    from grouped g
    cross join lateral (values ('category', g.category), ('channel', g.channel), ('region', g.region))
        as x(dimension, dimension_value)
    where {only_if}
    group by 1, 2, 3, 4
    order by 1, 2, 3, 4
    {conflict_dimension}
)"""


# The rollups without dimensions, and per month.
_OTHER_ROLLUPS = """day_totals as (
    insert into metrics.daily_totals as t (metric, business_day, total, event_count, last_event_at)
    select metric, business_day, sum(total), sum(event_count)::bigint, max(last_event_at)
    from grouped
    group by metric, business_day
    order by metric, business_day
    on conflict (metric, business_day) do update
    set total = t.total + excluded.total,
        event_count = t.event_count + excluded.event_count,
        last_event_at = greatest(t.last_event_at, excluded.last_event_at)
), month_totals as (
    insert into metrics.monthly_totals as t (metric, month, total, magnitude)
    select metric, date_trunc('month', business_day::timestamp)::date, sum(total), sum(magnitude)
    from grouped
    group by 1, 2
    order by 1, 2
    on conflict (metric, month) do update
    set total = t.total + excluded.total,
        magnitude = t.magnitude + excluded.magnitude
), month_dimension_rollups as (
    insert into metrics.monthly_dimension_rollups as d (metric, dimension, value, month, total, magnitude)
    select g.metric, x.dimension, x.dimension_value, date_trunc('month', g.business_day::timestamp)::date,
           sum(g.total), sum(g.magnitude)
    from grouped g
    cross join lateral (values ('category', g.category), ('channel', g.channel), ('region', g.region))
        as x(dimension, dimension_value)
    group by 1, 2, 3, 4
    order by 1, 2, 3, 4
    on conflict (metric, dimension, value, month) do update
    set total = d.total + excluded.total,
        magnitude = d.magnitude + excluded.magnitude
)"""

# Claims the ids not stored yet, stores their events and rolls them up; answers the claimed ids.
_INGEST = f"""with claimed as ({_CLAIM}    on conflict (event_id) do nothing
    returning event_id
), inserted as ({_STORE}{_STAGED_EVENTS}    join claimed c on c.event_id = i.event_id
    returning metric, value, occurred_at, business_day, category, channel, region
), {_grouped("inserted")}, {_day_rollups("", "true", on_conflict=True)}, {_OTHER_ROLLUPS}
select event_id from claimed
"""
# The same for a batch of ids believed new: a plain insert into the ledger costs about half of
# an insert that resolves conflicts row by row, and every staged row is then claimed (no join,
# nothing to answer), so the rollups are summed from the staged rows themselves. When no (metric,
# day) of the batch has rollups yet (the first push of a day), its daily rollup rows are plain
# inserts too (about 40 % cheaper than upserts); one check for the whole batch, so its rollup
# keys are still written in one sorted pass. The check probes the day totals' key once per
# (metric, day) of the batch (`limit 1` keeps the probes from becoming a join, for which the
# planner read every day total ever stored). An id that is not new after all (stored since the
# look-up, or hidden in the middle of the batch), or a rollup key another batch wrote since,
# raises a unique violation, which undoes only this attempt (a savepoint); the batch then goes
# through `_INGEST`. The claim is a statement of its own, run first: as a CTE that nothing reads,
# PostgreSQL may run it after the rollups, and a batch holding rollup rows while it waits for
# another's ids deadlocks with it.
_INGEST_NEW_ROLL_UP = f"""with inserted as ({_STORE}{_STAGED_EVENTS}), {
    _grouped(f"({_STAGED_EVENTS}) as staged")
}, first_push as (
    select not exists (
        select from (select distinct metric, business_day from grouped) g
        cross join lateral (
            select from metrics.daily_totals t
            where t.metric = g.metric and t.business_day = g.business_day
            limit 1
        ) known_day
    ) as of_the_days
), {_day_rollups("new_", "(select of_the_days from first_push)", on_conflict=False)}, {
    _day_rollups("", "not (select of_the_days from first_push)", on_conflict=True)
}, {_OTHER_ROLLUPS}
select
"""

_MARK_MONTHLY_WRITTEN = "select set_config('pacer.monthly_rollups_written', pg_current_xact_id()::text, true)"
# ... only while the statement runs: a later write of the daily rollups is followed again.
_UNMARK_MONTHLY_WRITTEN = "select set_config('pacer.monthly_rollups_written', '', true)"

# Per connection, emptied at every commit: COPY needs a table to land in.
_STAGING = """
create temporary table if not exists ingest_staging (
    event_id text, content_hash bytea, metric text, value text, occurred_us bigint,
    business_day date, category text, channel text, region text, source text
) on commit delete rows
"""
_STAGING_COLUMNS = (
    "event_id", "content_hash", "metric", "value", "occurred_us",
    "business_day", "category", "channel", "region", "source",
)  # fmt: skip

# One index probe per id, however large the ledger grows. Written as `event_id = any($1)` (or as
# a join), the planner chose to read the whole ledger once it held about a million ids, and a
# re-sent batch of 5,000 then cost more than a first one (docs/benchmarks.md). The `limit 1`
# keeps PostgreSQL from turning the lateral subquery into such a join.
_EXISTING = """
    select wanted.event_id, stored.content_hash
    from unnest($1::text[]) as wanted(event_id)
    cross join lateral (
        select l.content_hash from metrics.event_ids l where l.event_id = wanted.event_id limit 1
    ) stored
"""

_known_partitions: set[date] = set()

# Statements every ingesting connection has prepared: parsed and planned once per connection
# (PostgreSQL plans them again when a table they use changes, a new partition say).
_PREPARED = {"ingest_claim": _CLAIM, "ingest_new": _INGEST_NEW_ROLL_UP}
# Connections whose staging table and prepared statements were set up outside any transaction,
# so that no rollback can take the table away again.
_set_up: weakref.WeakSet[Any] = weakref.WeakSet()


async def _set_up_connection(raw: asyncpg.Connection) -> None:
    """The staging table and the prepared statements, each made only when missing: a prepared
    statement outlives the rollback of the transaction that made it, a temporary table does not."""
    existing = {
        record[0]
        for record in await raw.fetch(
            "select name from pg_prepared_statements where name = any($1::text[])", list(_PREPARED)
        )
    }
    missing = [f"prepare {name} as {sql}" for name, sql in _PREPARED.items() if name not in existing]
    await raw.execute(";\n".join([_STAGING, *missing]))


def set_up_for_ingest(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool `checkout` listener of the metrics service's engine: sets a connection up for ingest
    the first time it is handed out, before any transaction of its user begins. A failure (the
    schema not migrated yet, say) is tried again at the next checkout."""
    raw = dbapi_connection.driver_connection
    if raw in _set_up or raw.is_in_transaction():
        return
    try:
        dbapi_connection.run_async(_set_up_connection)
    except asyncpg.PostgresError:
        log.warning("ingest_setup_failed", exc_info=True)
        return
    _set_up.add(raw)
    _SET_UP_AT_CHECKOUT.inc()


def _month_start(day: date) -> date:
    return day.replace(day=1)


async def ensure_partitions(engine: AsyncEngine, days: Iterable[date]) -> None:
    """Creates the monthly partitions a batch needs, once, outside the batch's transaction."""
    months = sorted({_month_start(d) for d in days} - _known_partitions)
    if not months:
        return
    async with engine.connect() as conn:
        for month in months:
            name = f"events_{month.year:04d}_{month.month:02d}"
            try:
                async with conn.begin():
                    # One creator at a time: CREATE ... IF NOT EXISTS alone still races.
                    await conn.execute(
                        text("select pg_advisory_xact_lock(hashtext('metrics.events.partitions'))")
                    )
                    exists = (
                        await conn.execute(text("select to_regclass(:name)"), {"name": f"metrics.{name}"})
                    ).scalar()
                    if exists is None:
                        await conn.execute(
                            text(
                                f"create table metrics.{name} partition of metrics.events for values "
                                f"from ('{month.isoformat()}') to ('{next_month(month).isoformat()}')"
                            )
                        )
            except DBAPIError:
                # E.g. rows of that month already sit in the default partition: they stay there.
                log.warning("partition_not_created", partition=name, exc_info=True)
            _known_partitions.add(month)


# A re-sent batch is cheap: ledger rows are never changed or deleted, so an event_id found there
# is settled. The first and last ids are probed; when either is known, every id is looked up and
# only the unknown ones are offered for storing (none at all when the whole batch is known).
_PROBE = text("select count(*) from metrics.event_ids where event_id = any(:ids)")


# Commits the batch in the message that stores it, then opens a new (empty) transaction for the
# session to end as usual. Concurrent batches of one month wait for each other on the monthly
# rollup rows and the data version from the moment they write them until they commit; ended by
# a later message, that wait would also last as long as the service is busy with other pushes
# before it reads this one's result (most of the time the ingest spent waiting, measured).
_COMMIT_AT_ONCE = "commit; begin"


async def insert_events(
    session: AsyncSession, batch: ParsedBatch, *, commit: bool = False
) -> tuple[set[str], dict[str, bytes], str | None]:
    """Stores the events not seen before; returns (claimed event_ids, stored hashes of the others,
    how they were stored: `KNOWN`, `NEW` or `RETRIED`; None for a batch without valid items).

    `commit`: a batch stored the short way (`_INGEST_NEW_ROLL_UP`) is committed by the message
    that stores it, and the session is then in a new, empty transaction. Otherwise — without
    `commit`, or for a batch of known ids, or one stored by the general statement after the short
    way failed — the session's transaction is left open for the caller to commit."""
    if not len(batch):
        return set(), {}, None
    # Also opens the session's transaction, which the raw statements below run in.
    probe = [batch.event_ids[0], batch.event_ids[-1]]
    known_ids = (await session.execute(_PROBE, {"ids": probe})).scalar_one()
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    stored: dict[str, bytes] = {}
    rows: range | list[int] = range(len(batch))
    if known_ids:
        stored = {rec[0]: bytes(rec[1]) for rec in await raw.fetch(_EXISTING, batch.event_ids)}
        if len(stored) == len(batch):
            return set(), stored, KNOWN
        rows = (
            range(len(batch)) if not stored else [i for i, e in enumerate(batch.event_ids) if e not in stored]
        )
    if raw not in _set_up:
        # Set up at checkout failed: done here, inside this push's transaction, and checked
        # again at the next push (a rollback would take the staging table with it).
        await _set_up_connection(raw)
        _SET_UP_IN_PUSH.inc()
    # COPY into the staging table, then one statement does dedup, insert and rollups.
    # Values travel as text: exact, and cheaper to encode than binary numeric.
    records = batch.rows if len(rows) == len(batch) else [batch.rows[i] for i in rows]
    await raw.copy_records_to_table("ingest_staging", columns=_STAGING_COLUMNS, records=records)
    # The statement writes the monthly rollups itself: the triggers that follow hand-made
    # writes of the daily rollups stand aside while it runs. (Marked before the savepoint, so
    # that undoing the first attempt keeps the mark.) On an error the statements after the
    # failing one are not run: nothing is committed.
    finish = _COMMIT_AT_ONCE if commit else f"release savepoint ingest_new; {_UNMARK_MONTHLY_WRITTEN}"
    try:
        await raw.execute(
            f"{_MARK_MONTHLY_WRITTEN}; savepoint ingest_new; "
            f"execute ingest_claim; execute ingest_new; {finish}"
        )
    except asyncpg.UniqueViolationError:
        await raw.execute("rollback to savepoint ingest_new")
        records = await raw.fetch(_INGEST)
        await raw.execute(_UNMARK_MONTHLY_WRITTEN)
        claimed = {record[0] for record in records}
    else:
        claimed = set(batch.event_ids) if len(rows) == len(batch) else {batch.event_ids[i] for i in rows}
        return claimed, stored, NEW  # every staged row was claimed
    others = [batch.event_ids[i] for i in rows if batch.event_ids[i] not in claimed]
    if others:
        stored.update({rec[0]: bytes(rec[1]) for rec in await raw.fetch(_EXISTING, others)})
    return claimed, stored, RETRIED
