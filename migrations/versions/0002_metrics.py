"""metrics schema: the metrics service's tables

Revision ID: 0002_metrics
Revises: 0001_auth
"""

from collections.abc import Sequence

from migrations.helpers import create_service_schema, drop_service_schema

revision: str = "0002_metrics"
down_revision: str | None = "0001_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "metrics"


def upgrade() -> None:
    create_service_schema(SCHEMA)


def downgrade() -> None:
    drop_service_schema(SCHEMA)
