"""reviews schema: retrospectives, their frozen snapshots, findings and action items

Revision ID: 0004_reviews
Revises: 0003_targets
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from migrations.helpers import create_service_schema, drop_service_schema

revision: str = "0004_reviews"
down_revision: str | None = "0003_targets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "reviews"


def upgrade() -> None:
    create_service_schema(SCHEMA)
    op.create_table(
        "reviews",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("plan_id", sa.Text, nullable=False),
        sa.Column("plan_code", sa.Text),
        sa.Column("plan_name", sa.Text),
        sa.Column("quarter", sa.String(7), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("snapshot", JSONB),
        sa.Column("scorecard", JSONB),
        sa.Column("snapshot_changes", JSONB),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finalized_at", sa.DateTime(timezone=True)),
        sa.Column("finalized_by", sa.Text),
        sa.CheckConstraint("status in ('draft', 'finalized')", name="status"),
        # One retrospective per plan and quarter: the database settles concurrent creates.
        sa.UniqueConstraint("plan_id", "quarter", name="uq_reviews_plan_quarter"),
        schema=SCHEMA,
    )
    op.create_table(
        "findings",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "review_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{SCHEMA}.reviews.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("target_ids", JSONB, nullable=False, server_default="[]"),
        sa.Column("department", sa.String(64)),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind in ('cause', 'success', 'lesson')", name="kind"),
        schema=SCHEMA,
    )
    op.create_index("ix_findings_review", "findings", ["review_id", "created_at"], schema=SCHEMA)
    op.create_table(
        "action_items",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "review_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{SCHEMA}.reviews.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "finding_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{SCHEMA}.findings.id", ondelete="SET NULL"),
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("assignee", sa.Text),
        sa.Column("due_on", sa.Date),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("task_id", sa.Text),
        sa.Column("task_period", sa.String(7)),
        sa.Column("promoted_at", sa.DateTime(timezone=True)),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status in ('open', 'promoted')", name="status"),
        schema=SCHEMA,
    )
    op.create_index("ix_action_items_review", "action_items", ["review_id", "created_at"], schema=SCHEMA)


def downgrade() -> None:
    drop_service_schema(SCHEMA)
