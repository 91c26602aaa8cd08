"""reviews: the plan an action item's task goes to, chosen before the task is created

Revision ID: 0006_reviews_task_plan
Revises: 0005_metrics_data_version

A task's external_ref is unique within its plan. An action item of a Q4 review becomes a task
of next year's plan; recording that plan before the targets service is asked lets a retry
after a failure go to the same plan (exactly once), and shows where the task is.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_reviews_task_plan"
down_revision: str | None = "0005_metrics_data_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("alter table reviews.action_items add column task_plan_id text")
    # Items promoted before: their task is in the review's plan.
    op.execute(
        "update reviews.action_items a set task_plan_id = r.plan_id from reviews.reviews r"
        " where a.review_id = r.id and a.task_id is not null"
    )


def downgrade() -> None:
    op.execute("alter table reviews.action_items drop column task_plan_id")
