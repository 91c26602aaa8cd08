"""The scorecard: weighted attainment by evaluation dimension (financial, operational, user).

Pure: attainment comes from the progress module (already direction-aware: 1.10 on a
lower-is-better return rate means 10 % better than target), weights from the targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

EVALUATION_DIMENSIONS = ("financial", "operational", "user")
_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Scored:
    """One target as the scorecard sees it."""

    evaluation_dimension: str | None
    weight: Decimal
    attainment: Decimal | None


@dataclass(frozen=True)
class Score:
    attainment: Decimal | None  # Σ weight × attainment / Σ weight, None when nothing is scored
    targets: int  # targets scored (with an attainment)
    unscored: int  # targets of the dimension without an attainment (e.g. INSUFFICIENT_DATA)
    weight: Decimal


def weighted_attainment(rows: Sequence[Scored]) -> Score:
    scored = [r for r in rows if r.attainment is not None]
    unscored = len(rows) - len(scored)
    if not scored:
        return Score(None, 0, unscored, Decimal(0))
    weights = [max(r.weight, Decimal(0)) for r in scored]
    total_weight = sum(weights, Decimal(0))
    if total_weight == 0:
        # All weights zero: every target counts the same rather than the score vanishing.
        weights = [Decimal(1)] * len(scored)
        total_weight = Decimal(len(scored))
    weighted = sum(
        (w * r.attainment for w, r in zip(weights, scored, strict=True) if r.attainment), Decimal(0)
    )
    return Score((weighted / total_weight).quantize(_PLACES), len(scored), unscored, total_weight)


def scorecard(rows: Sequence[Scored]) -> dict[str, Score]:
    """A score per evaluation dimension and `overall` over every target that has a dimension.
    Targets whose metric has no evaluation dimension (e.g. UV) are left out of the scorecard."""
    out = {
        dimension: weighted_attainment([r for r in rows if r.evaluation_dimension == dimension])
        for dimension in EVALUATION_DIMENSIONS
    }
    out["overall"] = weighted_attainment([r for r in rows if r.evaluation_dimension in EVALUATION_DIMENSIONS])
    return out
