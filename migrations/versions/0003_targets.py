"""targets schema: departments, plans, phases, targets, initiatives, tasks, risks

Revision ID: 0003_targets
Revises: 0002_metrics
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from migrations.helpers import create_service_schema, drop_service_schema

revision: str = "0003_targets"
down_revision: str | None = "0002_metrics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "targets"

SEEDED_DEPARTMENTS = (
    ("marketing", "Marketing"),
    ("operations", "Operations"),
    ("tech", "Technology"),
    ("customer_service", "Customer service"),
    ("supply_chain", "Supply chain"),
    ("finance", "Finance"),
)


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    create_service_schema(SCHEMA)
    op.create_table(
        "departments",
        sa.Column("key", sa.String(60), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    departments = sa.table("departments", sa.column("key"), sa.column("name"), schema=SCHEMA)
    op.bulk_insert(departments, [{"key": k, "name": n} for k, n in SEEDED_DEPARTMENTS])

    op.create_table(
        "plans",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("code", sa.String(80), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("on_track_threshold", sa.Numeric, nullable=False),
        sa.Column("at_risk_threshold", sa.Numeric, nullable=False),
        sa.Column("required_scope", ARRAY(sa.Text), nullable=False, server_default="{}"),
        *_timestamps(),
        sa.CheckConstraint("ends_on >= starts_on", name="plan_dates_ordered"),
        schema=SCHEMA,
    )

    op.create_table(
        "phases",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("plan_id", UUID(as_uuid=True), sa.ForeignKey(f"{SCHEMA}.plans.id", ondelete="CASCADE")),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("focus", sa.Text),
        *_timestamps(),
        schema=SCHEMA,
    )
    op.create_index("ix_phases_plan", "phases", ["plan_id", "starts_on"], schema=SCHEMA)

    op.create_table(
        "initiatives",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("plan_id", UUID(as_uuid=True), sa.ForeignKey(f"{SCHEMA}.plans.id", ondelete="CASCADE")),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("department", sa.String(60), sa.ForeignKey(f"{SCHEMA}.departments.key")),
        sa.Column("starts_on", sa.Date),
        sa.Column("ends_on", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        schema=SCHEMA,
    )
    op.create_index("ix_initiatives_plan", "initiatives", ["plan_id"], schema=SCHEMA)

    op.create_table(
        "targets",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("plan_id", UUID(as_uuid=True), sa.ForeignKey(f"{SCHEMA}.plans.id", ondelete="CASCADE")),
        sa.Column("parent_id", UUID(as_uuid=True), sa.ForeignKey(f"{SCHEMA}.targets.id", ondelete="CASCADE")),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("metric", sa.String(80), nullable=False),
        sa.Column("scope_category", sa.Text),
        sa.Column("scope_channel", sa.Text),
        sa.Column("scope_region", sa.Text),
        sa.Column("period", sa.String(10)),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("target_value", sa.Numeric, nullable=False),
        sa.Column("growth_pct", sa.Numeric),
        sa.Column("baseline_value", sa.Numeric),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("additive", sa.Boolean, nullable=False),
        sa.Column("metric_definition", JSONB, nullable=False),
        sa.Column("department", sa.String(60), sa.ForeignKey(f"{SCHEMA}.departments.key")),
        sa.Column("weight", sa.Numeric, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("decomposed_by", sa.String(20)),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        *_timestamps(),
        sa.CheckConstraint("ends_on >= starts_on", name="target_dates_ordered"),
        schema=SCHEMA,
    )
    op.create_index("ix_targets_plan", "targets", ["plan_id", "starts_on"], schema=SCHEMA)
    op.create_index("ix_targets_parent", "targets", ["parent_id", "position"], schema=SCHEMA)

    op.create_table(
        "target_initiatives",
        sa.Column(
            "target_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{SCHEMA}.targets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "initiative_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{SCHEMA}.initiatives.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_target_initiatives_initiative", "target_initiatives", ["initiative_id"], schema=SCHEMA
    )

    op.create_table(
        "tasks",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("plan_id", UUID(as_uuid=True), sa.ForeignKey(f"{SCHEMA}.plans.id", ondelete="CASCADE")),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("department", sa.String(60), sa.ForeignKey(f"{SCHEMA}.departments.key"), nullable=False),
        sa.Column("assignee", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("external_ref", sa.String(200)),
        sa.Column(
            "initiative_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{SCHEMA}.initiatives.id", ondelete="SET NULL"),
        ),
        sa.Column("target_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        # The database, not the code, guarantees one task per external_ref and plan.
        sa.UniqueConstraint("plan_id", "external_ref", name="uq_tasks_plan_external_ref"),
        schema=SCHEMA,
    )
    op.create_index("ix_tasks_plan_period", "tasks", ["plan_id", "starts_on", "id"], schema=SCHEMA)

    op.create_table(
        "risks",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("plan_id", UUID(as_uuid=True), sa.ForeignKey(f"{SCHEMA}.plans.id", ondelete="CASCADE")),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("likelihood", sa.SmallInteger, nullable=False),
        sa.Column("impact", sa.SmallInteger, nullable=False),
        sa.Column("mitigation", sa.Text),
        sa.Column("owner_department", sa.String(60), sa.ForeignKey(f"{SCHEMA}.departments.key")),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("target_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.CheckConstraint("likelihood between 1 and 5", name="risk_likelihood_range"),
        sa.CheckConstraint("impact between 1 and 5", name="risk_impact_range"),
        schema=SCHEMA,
    )
    op.create_index("ix_risks_plan", "risks", ["plan_id"], schema=SCHEMA)


def downgrade() -> None:
    drop_service_schema(SCHEMA)
