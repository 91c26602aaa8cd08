"""The review as a Markdown document to read in the meeting. Pure: renders a ReviewOut."""

from __future__ import annotations

from decimal import Decimal

from services.reviews.reviews.schemas import ReviewOut, SnapshotItem

HEALTH_MARK = {
    "ACHIEVED": "✅ achieved",
    "ON_TRACK": "🟢 on track",
    "AT_RISK": "🟡 at risk",
    "OFF_TRACK": "🔴 off track",
    "MISSED": "❌ missed",
    "NOT_STARTED": "⚪ not started",
    "INSUFFICIENT_DATA": "❔ insufficient data",
}


def _favourable(variance: Decimal, direction: str | None) -> Decimal:
    """The variance signed so that below zero is bad, whatever the metric's direction."""
    return -variance if direction == "lower_is_better" else variance


def _worse(variance: Decimal, direction: str | None) -> bool:
    return _favourable(variance, direction) < 0


def _num(value: Decimal | None, places: str = "0.01") -> str:
    if value is None:
        return "—"
    return f"{value.quantize(Decimal(places)):,}"


def _pct(fraction: Decimal | None, signed: bool = False, places: str = "0.1") -> str:
    if fraction is None:
        return "—"
    value = (fraction * 100).quantize(Decimal(places))
    return f"{'+' if signed and value >= 0 else ''}{value}%"


def _figure(value: Decimal | None, unit: str | None) -> str:
    """A metric value as people read it: ratios as percentages, counts without decimals."""
    if value is None:
        return "—"
    if unit == "ratio":
        return _pct(value, places="0.01")
    if unit == "count" and value == value.to_integral_value():
        return _num(value, "1")
    return _num(value)


def _gap(value: Decimal | None, unit: str | None) -> str:
    """A signed difference: percentage points for ratios."""
    if value is None:
        return "—"
    if unit == "ratio":
        points = (value * 100).quantize(Decimal("0.01"))
        return f"{'+' if points >= 0 else ''}{points} pp"
    text = _figure(value, unit)
    return text if value < 0 else f"+{text}"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _scope(item: SnapshotItem) -> str:
    parts = [f"{k}={v}" for k, v in item.scope.items() if v]
    return ", ".join(parts) or "all"


def _dimension_order(dimension: str) -> int:
    order = ("category", "channel", "region")
    return order.index(dimension) if dimension in order else len(order)


def _headline(review: ReviewOut) -> list[str]:
    plan = review.plan_name or review.plan_code or review.plan_id
    lines = [f"# Quarterly review {review.quarter} — {plan}", ""]
    status = "finalized" if review.status == "finalized" else "draft"
    code = f"`{review.plan_code}`" if review.plan_code else f"`{review.plan_id}`"
    lines.append(f"Plan {code} · status **{status}** · version {review.version}")
    if review.finalized_at:
        lines.append(f"Finalized {review.finalized_at.isoformat()} by {review.finalized_by}.")
    lines.append("")
    snapshot = review.snapshot
    if snapshot is None:
        lines += ["_No snapshot has been taken yet._", ""]
        return lines
    items = snapshot.items
    counts: dict[str, int] = {}
    for item in items:
        counts[item.health or "UNKNOWN"] = counts.get(item.health or "UNKNOWN", 0) + 1
    met = counts.get("ACHIEVED", 0) + counts.get("ON_TRACK", 0)
    overall = review.scorecard.get("overall") if review.scorecard else None
    summary = f"**{met} of {len(items)} targets met or on track** as of {snapshot.as_of.isoformat()}"
    if overall is not None and overall.attainment is not None:
        summary += f"; weighted attainment {_pct(overall.attainment)}"
    lines += [summary + ".", ""]
    # A shortfall is a variance the wrong way for the metric's direction; the worst come first.
    worst = sorted(
        (
            i
            for i in items
            if i.variance_pct is not None and i.parent_id is None and _worse(i.variance_pct, i.direction)
        ),
        key=lambda i: _favourable(i.variance_pct, i.direction),  # type: ignore[arg-type]
    )[:3]
    if worst:
        lines.append(
            "Largest shortfalls: " + "; ".join(f"{i.name} ({_pct(i.variance_pct, True)})" for i in worst)
        )
        lines.append("")
    return lines


def _scorecard(review: ReviewOut) -> list[str]:
    if not review.scorecard:
        return []
    lines = [
        "## Scorecard",
        "",
        "| dimension | weighted attainment | targets | without data |",
        "|---|---:|---:|---:|",
    ]
    for name in ("financial", "operational", "user", "overall"):
        score = review.scorecard.get(name)
        if score is None:
            continue
        label = f"**{name}**" if name == "overall" else name
        lines.append(f"| {label} | {_pct(score.attainment)} | {score.targets} | {score.unscored} |")
    return [*lines, ""]


def _targets(review: ReviewOut) -> list[str]:
    if review.snapshot is None:
        return []
    lines = [
        "## Targets",
        "",
        "| target | metric | scope | planned | actual | attainment | variance | variance % | health |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for item in review.snapshot.items:
        health = HEALTH_MARK.get(item.health or "", item.health or "—")
        if item.stale:
            health += " (stale data)"
        unit = item.unit
        lines.append(
            f"| {_cell(item.name)} | {item.metric} | {_cell(_scope(item))} | {_figure(item.planned, unit)} "
            f"| {_figure(item.actual, unit)} | {_pct(item.attainment)} | {_gap(item.variance, unit)} "
            f"| {_pct(item.variance_pct, True)} | {health} |"
        )
    return [*lines, ""]


def _attribution(review: ReviewOut) -> list[str]:
    if review.snapshot is None:
        return []
    lines = ["## Where the variance comes from", ""]
    any_written = False
    for item in review.snapshot.items:
        a = item.attribution
        if not a.by_dimension and a.drivers is None:
            continue
        any_written = True
        lines += [f"### {item.name} ({_gap(item.variance, item.unit)})", ""]
        for dimension in sorted(a.by_dimension, key=_dimension_order):
            parts = a.by_dimension[dimension]
            method = a.methods.get(dimension, "")
            lines += [
                f"By {dimension} ({method.replace('_', ' ')}):",
                "",
                f"| {dimension} | planned | actual | variance | share of gap |",
                "|---|---:|---:|---:|---:|",
            ]
            ranked = sorted(parts, key=lambda p: _favourable(p.variance, item.direction))
            for part in ranked:
                lines.append(
                    f"| {_cell(part.value) or '(rest)'} | {_figure(part.target, item.unit)} "
                    f"| {_figure(part.actual, item.unit)} | {_gap(part.variance, item.unit)} "
                    f"| {_pct(part.share)} |"
                )
            lines.append("")
        if a.drivers is not None:
            d = a.drivers
            lines += [
                f"Drivers (GMV = UV × conversion × AOV, {d.method.upper()}): "
                f"traffic {_gap(d.traffic, 'money')}, conversion {_gap(d.conversion, 'money')}, "
                f"basket size {_gap(d.basket, 'money')} = {_gap(d.total, 'money')}.",
                f"Planned UV {_num(d.planned.uv, '1')}, "
                f"conversion {_figure(d.planned.conversion_rate, 'ratio')}, AOV {_num(d.planned.aov)}; "
                f"actual UV {_num(d.actual.uv, '1')}, "
                f"conversion {_figure(d.actual.conversion_rate, 'ratio')}, AOV {_num(d.actual.aov)}.",
                "",
            ]
    if not any_written:
        lines += ["_No attribution available._", ""]
    return lines


def _findings(review: ReviewOut) -> list[str]:
    lines = ["## Findings", ""]
    if not review.findings:
        return [*lines, "_None recorded._", ""]
    titles = {"cause": "Causes", "success": "Successes", "lesson": "Lessons"}
    names = {i.target_id: i.name for i in (review.snapshot.items if review.snapshot else [])}
    for kind, title in titles.items():
        found = [f for f in review.findings if f.kind == kind]
        if not found:
            continue
        lines += [f"### {title}", ""]
        for finding in found:
            about = ", ".join(names.get(t, t) for t in finding.target_ids)
            suffix = (
                " — " + ", ".join(x for x in (finding.department, about) if x)
                if (finding.department or about)
                else ""
            )
            lines.append(f"- {finding.text}{suffix}")
        lines.append("")
    return lines


def _action_items(review: ReviewOut) -> list[str]:
    lines = ["## Action items", ""]
    if not review.action_items:
        return [*lines, "_None recorded._", ""]
    lines += ["| action | owner | due | status | task |", "|---|---|---|---|---|"]
    for item in review.action_items:
        task = f"`{item.task_id}` ({item.task_period})" if item.task_id else "—"
        due = item.due_on.isoformat() if item.due_on else "—"
        lines.append(f"| {_cell(item.title)} | {item.department} | {due} | {item.status} | {task} |")
    return [*lines, ""]


def render(review: ReviewOut) -> str:
    lines = (
        _headline(review)
        + _scorecard(review)
        + _targets(review)
        + _attribution(review)
        + _findings(review)
        + _action_items(review)
    )
    return "\n".join(lines).rstrip() + "\n"
