"""The scorecard judges each target against what was planned by the review's date, direction-aware."""

from __future__ import annotations

from decimal import Decimal

from services.reviews.reviews.schemas import SnapshotItem
from services.reviews.reviews.snapshot import score


def _item(target_id: str, **fields: object) -> SnapshotItem:
    base: dict[str, object] = {
        "target_id": target_id,
        "name": target_id,
        "metric": "gmv",
        "scope": {},
        "period": "2025",
        "starts_on": None,
        "ends_on": None,
        "parent_id": None,
        "department": "marketing",
        "weight": Decimal(1),
        "direction": "higher_is_better",
        "evaluation_dimension": "financial",
        "target_value": Decimal("1200000"),
        "planned": Decimal("300000"),
        "actual": Decimal("300000"),
        "attainment": Decimal("0.25"),
        "variance": Decimal(0),
        "variance_pct": Decimal(0),
        "health": "ON_TRACK",
    }
    return SnapshotItem.model_validate(base | fields)


def test_an_annual_target_on_plan_in_q1_scores_full_marks_not_a_quarter() -> None:
    card = score([_item("annual")])
    assert card["financial"].attainment == Decimal("1.0000")


def test_a_lower_is_better_target_over_its_planned_spend_scores_below_one() -> None:
    spend = _item(
        "spend",
        metric="marketing_spend",
        direction="lower_is_better",
        planned=Decimal("300000"),
        actual=Decimal("330000"),
        attainment=Decimal("3.6364"),
    )
    assert score([spend])["financial"].attainment == Decimal("0.9091")


def test_a_target_without_attainment_stays_unscored() -> None:
    card = score([_item("thin", attainment=None, health="INSUFFICIENT_DATA")])
    assert card["financial"].attainment is None
    assert card["financial"].unscored == 1


def test_the_reports_shortfalls_respect_direction() -> None:
    import uuid
    from datetime import UTC, date, datetime

    from services.reviews.reviews.report import render
    from services.reviews.reviews.schemas import ReviewOut, Snapshot

    now = datetime.now(UTC)
    items = [
        # Return rate below plan: good for a lower-is-better metric, not a shortfall.
        _item(
            "Return rate",
            metric="return_rate",
            direction="lower_is_better",
            variance=Decimal("-0.01"),
            variance_pct=Decimal("-0.20"),
        ),
        # GMV below plan: a shortfall.
        _item("GMV", variance=Decimal("-30000"), variance_pct=Decimal("-0.10")),
        # CAC above plan: a shortfall for a lower-is-better metric.
        _item("CAC", metric="cac", direction="lower_is_better", variance_pct=Decimal("0.05")),
    ]
    review = ReviewOut(
        id=uuid.uuid4(),
        plan_id="p",
        plan_code="PLAN",
        plan_name="Plan",
        quarter="2025Q1",
        status="draft",
        version=1,
        snapshot=Snapshot(taken_at=now, as_of=date(2025, 3, 31), items=items),
        scorecard=None,
        findings=[],
        action_items=[],
        created_by="t",
        created_at=now,
        updated_at=now,
        finalized_at=None,
        finalized_by=None,
    )
    [line] = [line for line in render(review).splitlines() if line.startswith("Largest shortfalls")]
    assert line.index("GMV") < line.index("CAC")
    assert "Return rate" not in line
