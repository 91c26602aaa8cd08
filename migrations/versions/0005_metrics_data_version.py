"""metrics data version: one number that changes whenever a query answer could

Revision ID: 0005_metrics_data_version
Revises: 0004_reviews

Every transaction that writes the rollups or the metric catalogue bumps it once, inside that
transaction — through the ingest API, `rebuild_rollups()` after a bulk load, or a hand-made
fix alike — so a reader that sees the version also sees the data it stands for. The metrics
service keys its cache of query answers by it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_metrics_data_version"
down_revision: str | None = "0004_reviews"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "metrics"
# What query answers are computed from.
SOURCES = ("daily_rollups", "daily_totals", "daily_dimension_rollups", "metric_definitions")


def upgrade() -> None:
    op.execute(
        f"""
        create table {SCHEMA}.data_version (
            only_row boolean primary key default true check (only_row),
            version bigint not null
        )
        """
    )
    op.execute(f"insert into {SCHEMA}.data_version (version) values (1)")
    # Statement-level and fired at the end of the writing statement (the ingest writes every
    # rollup in one statement), so concurrent ingests wait for each other on this row only
    # between that point and their commit; the first such statement of a transaction bumps.
    op.execute(
        f"""
        create function {SCHEMA}.bump_data_version() returns trigger language plpgsql as $$
        begin
            -- Once per transaction (an upsert fires both its insert and update triggers, an
            -- ingest writes three tables): further bumps would only add row versions. The
            -- mark is this transaction's id, which no session setting can forge.
            if current_setting('pacer.data_version_bumped', true)
                    is distinct from pg_current_xact_id()::text then
                update {SCHEMA}.data_version set version = version + 1;
                perform set_config('pacer.data_version_bumped', pg_current_xact_id()::text, true);
            end if;
            return null;
        end
        $$
        """
    )
    for table in SOURCES:
        op.execute(
            f"""
            create trigger bump_data_version
            after insert or update or delete or truncate on {SCHEMA}.{table}
            for each statement execute function {SCHEMA}.bump_data_version()
            """
        )


def downgrade() -> None:
    for table in SOURCES:
        op.execute(f"drop trigger bump_data_version on {SCHEMA}.{table}")
    op.execute(f"drop function {SCHEMA}.bump_data_version()")
    op.execute(f"drop table {SCHEMA}.data_version")
