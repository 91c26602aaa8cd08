"""metrics data changes: which metric's month changed at which data version

Revision ID: 0007_metrics_data_changes
Revises: 0006_reviews_task_plan

`data_version` (0005) says that something changed; this says what. Every statement that
writes a rollup records, for each metric and business month whose rows it wrote, the version
its transaction bumped to. A query answer read from rollups of some metrics over some months
still holds as long as none of those months changed after it was computed: last year's
seasonal profiles stay valid through this year's daily pushes. A change that may touch every
answer — the catalogue edited, a rollup table truncated (`rebuild_rollups()`) — records its
version in `data_version.everything_changed_at` instead.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_metrics_data_changes"
down_revision: str | None = "0006_reviews_task_plan"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "metrics"
ROLLUPS = ("daily_rollups", "daily_totals", "daily_dimension_rollups")
# Transition tables allow one event per trigger: (event, the tables the function reads).
ROW_EVENTS = (
    ("insert", "new table as changed_rows"),
    ("update", "old table as old_rows new table as changed_rows"),
    ("delete", "old table as changed_rows"),
)


def upgrade() -> None:
    op.execute(
        f"""
        create table {SCHEMA}.data_changes (
            metric text not null,
            month date not null,
            version bigint not null,
            primary key (metric, month)
        )
        """
    )
    op.execute(f"create index data_changes_by_version on {SCHEMA}.data_changes (version)")
    op.execute(
        f"alter table {SCHEMA}.data_version add column everything_changed_at bigint not null default 1"
    )
    # Fired after bump_data_version (triggers of one event fire in name order), so the version
    # read here is the one this transaction bumped to. Writers wait for each other on the
    # data_version row from their bump to their commit, so versions become visible in order.
    for event, _ in ROW_EVENTS:
        old_rows = (
            "union select metric, date_trunc('month', business_day::timestamp)::date from old_rows"
            if event == "update"
            else ""
        )
        op.execute(
            f"""
            create function {SCHEMA}.note_data_changes_on_{event}() returns trigger language plpgsql as $$
            begin
                insert into {SCHEMA}.data_changes as c (metric, month, version)
                select m.metric, m.month, v.version
                from (select metric, date_trunc('month', business_day::timestamp)::date as month
                      from changed_rows {old_rows}) m
                cross join {SCHEMA}.data_version v
                group by m.metric, m.month, v.version
                order by m.metric, m.month
                on conflict (metric, month) do update set version = excluded.version
                where c.version < excluded.version;
                return null;
            end
            $$
            """
        )
    op.execute(
        f"""
        create function {SCHEMA}.note_everything_changed() returns trigger language plpgsql as $$
        begin
            update {SCHEMA}.data_version set everything_changed_at = version
            where everything_changed_at < version;
            return null;
        end
        $$
        """
    )
    for table in ROLLUPS:
        for event, referencing in ROW_EVENTS:
            op.execute(
                f"""
                create trigger note_data_changes_on_{event}
                after {event} on {SCHEMA}.{table} referencing {referencing}
                for each statement execute function {SCHEMA}.note_data_changes_on_{event}()
                """
            )
        op.execute(
            f"""
            create trigger note_everything_changed after truncate on {SCHEMA}.{table}
            for each statement execute function {SCHEMA}.note_everything_changed()
            """
        )
    op.execute(
        f"""
        create trigger note_everything_changed
        after insert or update or delete or truncate on {SCHEMA}.metric_definitions
        for each statement execute function {SCHEMA}.note_everything_changed()
        """
    )


def downgrade() -> None:
    op.execute(f"drop trigger note_everything_changed on {SCHEMA}.metric_definitions")
    for table in ROLLUPS:
        op.execute(f"drop trigger note_everything_changed on {SCHEMA}.{table}")
        for event, _ in ROW_EVENTS:
            op.execute(f"drop trigger note_data_changes_on_{event} on {SCHEMA}.{table}")
    op.execute(f"drop function {SCHEMA}.note_everything_changed()")
    for event, _ in ROW_EVENTS:
        op.execute(f"drop function {SCHEMA}.note_data_changes_on_{event}()")
    op.execute(f"alter table {SCHEMA}.data_version drop column everything_changed_at")
    op.execute(f"drop table {SCHEMA}.data_changes")
