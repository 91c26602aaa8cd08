"""targets data version: one number that changes whenever a plan or its targets could

Revision ID: 0009_targets_data_version
Revises: 0008_metrics_monthly_rollups

Every transaction that writes plans, targets or the links between targets and initiatives bumps
it once, inside that transaction — through the API or by hand alike — so a reader that sees the
version also sees the data it stands for. The targets service keys the answers it keeps in
memory (a plan's list of targets, the targets behind a plan's progress) by it, and by the
table's `incarnation`, made anew with the table (a restored backup keeps both: the service is
restarted after a restore).

The bump is deferred to the commit: the row is locked last, after every lock the transaction
took, and only while it commits. (Bumped at the end of each writing statement, the one row was
a lock taken in the middle of transactions that lock targets and initiatives in either order:
a change of a target's initiatives and a change of an initiative's targets at the same moment
deadlocked. A truncate, and `set constraints all immediate`, still bump it at once.) Writes
made with triggers disabled (`session_replication_role = replica`, a restore with
`--disable-triggers`) do not bump it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_targets_data_version"
down_revision: str | None = "0008_metrics_monthly_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "targets"
# What the kept answers are read from.
SOURCES = ("plans", "targets", "target_initiatives")


def upgrade() -> None:
    op.execute(
        f"""
        create table {SCHEMA}.data_version (
            only_row boolean primary key default true check (only_row),
            version bigint not null,
            incarnation uuid not null default gen_random_uuid()
        )
        """
    )
    op.execute(f"insert into {SCHEMA}.data_version (version) values (1)")
    # Once per transaction (a decomposition writes many rows in several statements); the mark
    # is the transaction's id, which no session setting can forge.
    op.execute(
        f"""
        create function {SCHEMA}.bump_data_version() returns trigger language plpgsql as $$
        begin
            if current_setting('pacer.targets_version_bumped', true)
                    is distinct from pg_current_xact_id()::text then
                update {SCHEMA}.data_version set version = version + 1;
                perform set_config('pacer.targets_version_bumped', pg_current_xact_id()::text, true);
            end if;
            return null;
        end
        $$
        """
    )
    for table in SOURCES:
        # Constraint triggers are row triggers and may wait for the commit; truncate has no row.
        op.execute(
            f"""
            create constraint trigger bump_data_version
            after insert or update or delete on {SCHEMA}.{table}
            deferrable initially deferred
            for each row execute function {SCHEMA}.bump_data_version()
            """
        )
        op.execute(
            f"""
            create trigger bump_data_version_on_truncate
            after truncate on {SCHEMA}.{table}
            for each statement execute function {SCHEMA}.bump_data_version()
            """
        )


def downgrade() -> None:
    for table in SOURCES:
        op.execute(f"drop trigger bump_data_version_on_truncate on {SCHEMA}.{table}")
        op.execute(f"drop trigger bump_data_version on {SCHEMA}.{table}")
    op.execute(f"drop function {SCHEMA}.bump_data_version()")
    op.execute(f"drop table {SCHEMA}.data_version")
