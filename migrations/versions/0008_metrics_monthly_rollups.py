"""metrics monthly rollups: the daily sums summed again per business month

Revision ID: 0008_metrics_monthly_rollups
Revises: 0007_metrics_data_changes

A read over whole months (a year's monthly series, a quarter to date) reads one row per month
instead of one per day: the months a read covers completely come from these tables, its first
and last partial months from the daily ones. Only the shapes most reads have are kept per
month: without dimensions, and by one dimension at a time.

`magnitude` is the sum of the events' magnitudes (|value|). It bounds the magnitude of every
partial sum of the month's day totals, which is what tells the metrics service whether summing
a bucket's days in 28 digits would be exact.

The ingest and `rebuild_rollups()` write them in the same statement or function as the daily
rollups, so they always equal the sums of the raw events; their writes reach the data version
and the data changes through the daily rollups written beside them. Those two writers mark
their transaction (`pacer.monthly_rollups_written`) while they write. Any other write to
`daily_totals` or `daily_dimension_rollups` — a fix by hand — makes triggers sum the months it
touched again from the daily rows (their magnitude then from the day totals, still a bound),
and a truncate of them empties the monthly table too. The monthly tables themselves are not
edited by hand. At upgrade they are filled from the daily rollups (fixes by hand made before
included).

A fix by hand takes the data version's row before the monthly rows (the triggers fire in name
order, `bump_data_version` first) while a push takes them the other way round: the two can
deadlock when they meet in the same month, and PostgreSQL then aborts one of them. A push so
aborted stored nothing and can be sent again; fixes by hand are best made with pushes paused.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_metrics_monthly_rollups"
down_revision: str | None = "0007_metrics_data_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "metrics"
MONTH = "date_trunc('month', business_day::timestamp)::date"

_DAILY_REBUILD = f"""
            truncate {SCHEMA}.daily_rollups, {SCHEMA}.daily_totals, {SCHEMA}.daily_dimension_rollups;
            insert into {SCHEMA}.daily_rollups
                select metric, business_day, category, channel, region, sum(value), count(*), max(occurred_at)
                from {SCHEMA}.events group by 1, 2, 3, 4, 5 order by 1, 3, 4, 5, 2;
            insert into {SCHEMA}.daily_totals
                select metric, business_day, sum(value), count(*), max(occurred_at)
                from {SCHEMA}.events group by 1, 2 order by 1, 2;
            insert into {SCHEMA}.daily_dimension_rollups
                select metric, dimension, dimension_value, business_day,
                       sum(value), count(*), max(occurred_at)
                from {SCHEMA}.events
                cross join lateral (values ('category', category), ('channel', channel), ('region', region))
                    as d(dimension, dimension_value)
                group by 1, 2, 3, 4 order by 1, 2, 3, 4;
"""

_MONTHLY_FILL = (
    f"""
            insert into {SCHEMA}.monthly_totals
                select metric, {MONTH}, sum(value), sum(abs(value))
                from {SCHEMA}.events group by 1, 2 order by 1, 2;""",
    f"""
            insert into {SCHEMA}.monthly_dimension_rollups
                select metric, dimension, dimension_value, {MONTH}, sum(value), sum(abs(value))
                from {SCHEMA}.events
                cross join lateral (values ('category', category), ('channel', channel), ('region', region))
                    as d(dimension, dimension_value)
                group by 1, 2, 3, 4 order by 1, 2, 3, 4;""",
)


def _rebuild_function(body: str) -> str:
    return f"""
        create or replace function {SCHEMA}.rebuild_rollups() returns void language sql as $$
        {body}
        $$
        """


MARK = "pacer.monthly_rollups_written"
# (daily table, monthly table, the columns besides the day that key both)
FOLLOWED = (
    ("daily_totals", "monthly_totals", ("metric",)),
    ("daily_dimension_rollups", "monthly_dimension_rollups", ("metric", "dimension", "value")),
)
ROW_EVENTS = (
    ("insert", "new table as changed_rows"),
    ("update", "old table as old_rows new table as changed_rows"),
    ("delete", "old table as changed_rows"),
)
WRITTEN_BY_MARKED_WRITER = f"current_setting('{MARK}', true) is not distinct from pg_current_xact_id()::text"


def _follow_function(daily: str, monthly: str, keys: tuple[str, ...], event: str) -> str:
    """Sums the months a write by hand touched again, from the daily rows."""
    columns = ", ".join(keys)
    rows = f"select distinct {columns}, {MONTH} as month from changed_rows"
    if event == "update":
        rows += f" union select {columns}, {MONTH} from old_rows"
    same = " and ".join(f"{{t}}.{k} = c.{k}" for k in keys)
    return f"""
        create function {SCHEMA}.follow_{daily}_on_{event}() returns trigger language plpgsql as $$
        begin
            if {WRITTEN_BY_MARKED_WRITER} then
                return null;  -- the writer wrote the months itself
            end if;
            delete from {SCHEMA}.{monthly} m
            using ({rows}) c
            where {same.format(t="m")} and m.month = c.month;
            insert into {SCHEMA}.{monthly} as m ({columns}, month, total, magnitude)
            select {", ".join(f"c.{k}" for k in keys)}, c.month, sum(d.total), sum(abs(d.total))
            from ({rows}) c
            join {SCHEMA}.{daily} d
              on {same.format(t="d")}
             and d.business_day >= c.month and d.business_day < (c.month + interval '1 month')::date
            group by {", ".join(f"c.{k}" for k in keys)}, c.month
            on conflict ({columns}, month) do update
            set total = excluded.total, magnitude = excluded.magnitude;
            return null;
        end
        $$
        """


def upgrade() -> None:
    op.execute(
        f"""
        create table {SCHEMA}.monthly_totals (
            metric text not null,
            month date not null,
            total numeric not null,
            magnitude numeric not null,
            primary key (metric, month) include (total, magnitude)
        )
        """
    )
    op.execute(
        f"""
        create table {SCHEMA}.monthly_dimension_rollups (
            metric text not null,
            dimension text not null,
            value text not null,
            month date not null,
            total numeric not null,
            magnitude numeric not null,
            primary key (metric, dimension, value, month) include (total, magnitude)
        )
        """
    )
    # Filled from the daily rollups, which fixes by hand may have made differ from the events
    # (the magnitude is then summed from the day totals: still a bound).
    for daily, monthly, keys in FOLLOWED:
        columns = ", ".join(keys)
        op.execute(
            f"""
            insert into {SCHEMA}.{monthly} ({columns}, month, total, magnitude)
            select {columns}, {MONTH}, sum(total), sum(abs(total))
            from {SCHEMA}.{daily}
            group by {columns}, {MONTH}
            order by {columns}, {MONTH}
            """
        )
    for daily, monthly, keys in FOLLOWED:
        for event, referencing in ROW_EVENTS:
            op.execute(_follow_function(daily, monthly, keys, event))
            op.execute(
                f"""
                create trigger follow_{daily}_on_{event}
                after {event} on {SCHEMA}.{daily} referencing {referencing}
                for each statement execute function {SCHEMA}.follow_{daily}_on_{event}()
                """
            )
        op.execute(
            f"""
            create function {SCHEMA}.follow_{daily}_on_truncate() returns trigger language plpgsql as $$
            begin
                if not {WRITTEN_BY_MARKED_WRITER} then
                    delete from {SCHEMA}.{monthly};  -- truncate is refused while it is in use
                end if;
                return null;
            end
            $$
            """
        )
        op.execute(
            f"""
            create trigger follow_{daily}_on_truncate after truncate on {SCHEMA}.{daily}
            for each statement execute function {SCHEMA}.follow_{daily}_on_truncate()
            """
        )
    mark = f"select set_config('{MARK}', pg_current_xact_id()::text, true);"
    monthly_rebuild = f"truncate {SCHEMA}.monthly_totals, {SCHEMA}.monthly_dimension_rollups;"
    # The mark ends with the rebuild: a fix by hand later in the same transaction is followed.
    unmark = f"\n            select set_config('{MARK}', '', true);"
    op.execute(_rebuild_function(mark + _DAILY_REBUILD + monthly_rebuild + "".join(_MONTHLY_FILL) + unmark))


def downgrade() -> None:
    op.execute(_rebuild_function(_DAILY_REBUILD))
    for daily, _, _ in FOLLOWED:
        for event in (*(e for e, _ in ROW_EVENTS), "truncate"):
            op.execute(f"drop trigger follow_{daily}_on_{event} on {SCHEMA}.{daily}")
            op.execute(f"drop function {SCHEMA}.follow_{daily}_on_{event}()")
    op.execute(f"drop table {SCHEMA}.monthly_dimension_rollups")
    op.execute(f"drop table {SCHEMA}.monthly_totals")
