"""metrics schema: metric catalogue, events (partitioned by business month), dedup ids, rollups

Revision ID: 0002_metrics
Revises: 0001_auth
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from migrations.helpers import create_service_schema, drop_service_schema

revision: str = "0002_metrics"
down_revision: str | None = "0001_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "metrics"
DIMENSIONS = ["category", "channel", "region"]


def _base(
    key: str,
    name: str,
    unit: str,
    domain: str,
    description: str,
    *,
    aggregation: str = "sum",
    frequency: int = 24,
    evaluation: str | None = None,
    value_min: str | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "description": description,
        "unit": unit,
        "kind": "base",
        "formula": None,
        "direction": "higher_is_better",
        "aggregation": aggregation,
        "expected_frequency_hours": frequency,
        "min_denominator": None,
        "value_min": value_min,
        "value_max": None,
        "dimensions": DIMENSIONS,
        "domain": domain,
        "evaluation_dimension": evaluation,
    }


def _derived(
    key: str,
    name: str,
    unit: str,
    domain: str,
    formula: str,
    description: str,
    *,
    direction: str = "higher_is_better",
    evaluation: str | None = None,
    min_denominator: str | None = None,
    value_min: str | None = None,
    value_max: str | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "description": description,
        "unit": unit,
        "kind": "derived",
        "formula": formula,
        "direction": direction,
        "aggregation": "sum",
        "expected_frequency_hours": 24,
        "min_denominator": min_denominator,
        "value_min": value_min,
        "value_max": value_max,
        "dimensions": DIMENSIONS,
        "domain": domain,
        "evaluation_dimension": evaluation,
    }


SEED: list[dict[str, Any]] = [
    _base(
        "gmv", "GMV", "money", "sales", "Gross merchandise value of placed orders.", evaluation="financial"
    ),
    _base("orders", "Orders", "count", "sales", "Orders placed."),
    _base("sessions", "Sessions", "count", "traffic", "Visits (sessions) started."),
    _base("bounces", "Bounces", "count", "traffic", "Sessions that left after one page."),
    _base("uv", "Unique visitors", "count", "traffic", "Daily unique visitors, summed over days."),
    _base("pv", "Page views", "count", "traffic", "Page views."),
    _base("new_members", "New members", "count", "user_growth", "Members who joined."),
    _base(
        "dau",
        "Daily active users",
        "count",
        "user_growth",
        "Active users of a day; over a period, the average of its days.",
        aggregation="avg",
    ),
    _base(
        "mau",
        "Monthly active users",
        "count",
        "user_growth",
        "Active users of the trailing month; over a period, its latest reported value.",
        aggregation="last",
        frequency=24 * 31,
    ),
    _base("marketing_spend", "Marketing spend", "money", "cost_control", "Paid acquisition and promotion."),
    _base("new_customers", "New customers", "count", "cost_control", "Customers with their first order."),
    _base("returned_orders", "Returned orders", "count", "cost_control", "Orders returned by customers."),
    _base(
        "gross_profit",
        "Gross profit",
        "money",
        "finance",
        "Revenue less cost of goods.",
        evaluation="financial",
    ),
    _base("revenue", "Revenue", "money", "finance", "Recognised net revenue."),
    _base("net_profit", "Net profit", "money", "finance", "Profit after all costs."),
    _base(
        "promoters", "NPS promoters", "count", "customer_experience", "Survey answers of 9–10.", frequency=168
    ),
    _base(
        "detractors",
        "NPS detractors",
        "count",
        "customer_experience",
        "Survey answers of 0–6.",
        frequency=168,
    ),
    _base("nps_responses", "NPS responses", "count", "customer_experience", "Survey answers.", frequency=168),
    _base("customers", "Customers", "count", "user_growth", "Customers who ordered."),
    _base("repeat_customers", "Repeat customers", "count", "user_growth", "Customers who ordered again."),
    _derived(
        "conversion_rate",
        "Conversion rate",
        "ratio",
        "sales",
        "orders / uv",
        "Orders per unique visitor.",
        evaluation="operational",
        min_denominator="100",
        value_min="0",
        value_max="1",
    ),
    _derived(
        "aov",
        "Average order value",
        "money",
        "cost_control",
        "gmv / orders",
        "GMV per order.",
        evaluation="operational",
        min_denominator="30",
        value_min="0",
    ),
    _derived(
        "bounce_rate",
        "Bounce rate",
        "ratio",
        "traffic",
        "bounces / sessions",
        "Share of sessions that bounced.",
        direction="lower_is_better",
        min_denominator="100",
        value_min="0",
        value_max="1",
    ),
    _derived(
        "return_rate",
        "Return rate",
        "ratio",
        "cost_control",
        "returned_orders / orders",
        "Share of orders returned.",
        direction="lower_is_better",
        evaluation="operational",
        min_denominator="30",
        value_min="0",
        value_max="1",
    ),
    _derived(
        "cac",
        "Customer acquisition cost",
        "money",
        "cost_control",
        "marketing_spend / new_customers",
        "Marketing spend per new customer.",
        direction="lower_is_better",
        min_denominator="10",
        value_min="0",
    ),
    _derived(
        "nps",
        "Net promoter score",
        "score",
        "customer_experience",
        "100 * (promoters - detractors) / nps_responses",
        "Promoters less detractors, per hundred answers.",
        evaluation="user",
        min_denominator="30",
        value_min="-100",
        value_max="100",
    ),
    _derived(
        "gross_margin",
        "Gross margin",
        "ratio",
        "finance",
        "gross_profit / revenue",
        "Gross profit per unit of revenue.",
        value_max="1",
    ),
    _derived(
        "net_margin",
        "Net margin",
        "ratio",
        "finance",
        "net_profit / revenue",
        "Net profit per unit of revenue.",
        evaluation="financial",
        value_max="1",
    ),
    _derived(
        "repurchase_rate",
        "Repurchase rate",
        "ratio",
        "user_growth",
        "repeat_customers / customers",
        "Share of customers who ordered again.",
        evaluation="user",
        min_denominator="30",
        value_min="0",
        value_max="1",
    ),
    _derived(
        "dau_mau",
        "DAU/MAU",
        "ratio",
        "user_growth",
        "dau / mau",
        "Stickiness: average daily actives over the latest monthly actives.",
        value_min="0",
        value_max="1",
    ),
]


def upgrade() -> None:
    create_service_schema(SCHEMA)
    definitions = op.create_table(
        "metric_definitions",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("formula", sa.Text),
        sa.Column("direction", sa.String(24), nullable=False),
        sa.Column("aggregation", sa.String(8), nullable=False),
        sa.Column("expected_frequency_hours", sa.Integer, nullable=False),
        sa.Column("min_denominator", sa.Numeric),
        sa.Column("value_min", sa.Numeric),
        sa.Column("value_max", sa.Numeric),
        sa.Column("dimensions", ARRAY(sa.Text), nullable=False),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("evaluation_dimension", sa.String(16)),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("key ~ '^[a-z][a-z0-9_]*$'", name="key_format"),
        sa.CheckConstraint("kind in ('base', 'derived')", name="kind"),
        sa.CheckConstraint("(kind = 'derived') = (formula is not null)", name="formula_iff_derived"),
        schema=SCHEMA,
    )
    op.bulk_insert(definitions, SEED)

    # Dedup ledger: a unique key on the partitioned events table would have to include the
    # partition key, so exactly-once lives here (event_id → hash of the event's content).
    op.execute(
        f"""
        create table {SCHEMA}.event_ids (
            event_id text primary key,
            content_hash bytea not null
        )
        """
    )
    # Absent dimensions are stored as '' so rollup keys stay plain (NULLs are never equal).
    op.execute(
        f"""
        create table {SCHEMA}.events (
            event_id text not null,
            metric text not null,
            value numeric not null,
            occurred_at timestamptz not null,
            business_day date not null,
            category text not null default '',
            channel text not null default '',
            region text not null default '',
            source text,
            received_at timestamptz not null default now()
        ) partition by range (business_day)
        """
    )
    op.execute(f"create table {SCHEMA}.events_default partition of {SCHEMA}.events default")
    op.execute(
        f"""
        create table {SCHEMA}.daily_rollups (
            metric text not null,
            business_day date not null,
            category text not null,
            channel text not null,
            region text not null,
            total numeric not null,
            event_count bigint not null,
            last_event_at timestamptz not null,
            -- Dimensions before the day: a read filtered on two or three dimensions walks one
            -- short day range per matching combination (skip scan) instead of every row of
            -- every day; unfiltered and one-dimension reads use the tables below. total is
            -- carried in the index so range reads need not visit the heap.
            primary key (metric, category, channel, region, business_day) include (total)
        )
        """
    )
    # The same sums without dimensions: unfiltered queries read one row per day.
    op.execute(
        f"""
        create table {SCHEMA}.daily_totals (
            metric text not null,
            business_day date not null,
            total numeric not null,
            event_count bigint not null,
            last_event_at timestamptz not null,
            primary key (metric, business_day) include (total)
        )
        """
    )
    # The same sums by one dimension at a time: a read filtered or grouped by a single
    # dimension (the common target scope) is one contiguous index range per value.
    op.execute(
        f"""
        create table {SCHEMA}.daily_dimension_rollups (
            metric text not null,
            dimension text not null,
            value text not null,
            business_day date not null,
            total numeric not null,
            event_count bigint not null,
            last_event_at timestamptz not null,
            primary key (metric, dimension, value, business_day) include (total)
        )
        """
    )
    # Rebuilds every rollup from the raw events (after a bulk load that bypassed the API).
    op.execute(
        f"""
        create function {SCHEMA}.rebuild_rollups() returns void language sql as $$
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
        $$
        """
    )


def downgrade() -> None:
    drop_service_schema(SCHEMA)
