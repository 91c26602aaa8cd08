"""reviews schema: the reviews service's tables

Revision ID: 0004_reviews
Revises: 0003_targets
"""

from collections.abc import Sequence

from migrations.helpers import create_service_schema, drop_service_schema

revision: str = "0004_reviews"
down_revision: str | None = "0003_targets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "reviews"


def upgrade() -> None:
    create_service_schema(SCHEMA)


def downgrade() -> None:
    drop_service_schema(SCHEMA)
