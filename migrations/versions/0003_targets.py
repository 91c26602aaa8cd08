"""targets schema: the targets service's tables

Revision ID: 0003_targets
Revises: 0002_metrics
"""

from collections.abc import Sequence

from migrations.helpers import create_service_schema, drop_service_schema

revision: str = "0003_targets"
down_revision: str | None = "0002_metrics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "targets"


def upgrade() -> None:
    create_service_schema(SCHEMA)


def downgrade() -> None:
    drop_service_schema(SCHEMA)
