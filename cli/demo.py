"""The demo year: a realistic e-commerce operating plan with last year's and this year's numbers.

Everything goes through the public APIs, exactly as an ERP push or a planner would: events
through `POST /v1/events` in batches, the plan and everything hanging off it through the
targets service, the Q1 retrospective through the reviews service. Re-running it adds nothing
twice: event ids are deterministic, the plan is found by its code, targets, initiatives, phases
and risks by name, tasks by `external_ref`, the review by its plan and quarter.

The numbers are generated, not random: one deterministic generator per day and slice, with a
seasonal profile that has the real peaks of the Chinese e-commerce year (618, Double 11, 12.12)
and the Chinese New Year logistics dip on each year's real date. The funnel is consistent:
orders = UV × conversion, GMV = orders × AOV, returns, revenue and profit follow from orders
and GMV, money is 2-decimal Decimal.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cli.client import CliError, ServiceCaller, credential
from shared.settings import Settings

console = Console(stderr=True)

CATEGORIES = ("beauty", "apparel", "3c", "home")
CHANNELS = ("app", "web", "mini_program", "live_stream")
SMALL_CATEGORIES = ("beauty", "3c")
SMALL_CHANNELS = ("app", "live_stream")
REGIONS = ("east", "south", "north", "west")
REGION_WEIGHTS = (0.38, 0.30, 0.20, 0.12)
BATCH_SIZE = 5_000
CENT = Decimal("0.01")

# Chinese New Year (Spring Festival) by year: the real dates, so the dip moves as it does.
SPRING_FESTIVAL = {
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}

# Per category: daily UV of one channel, conversion, AOV (yuan), return rate, gross margin,
# net margin, repurchase rate.
CATEGORY_PROFILE: dict[str, dict[str, float]] = {
    "beauty": {"uv": 42_000, "cr": 0.034, "aov": 186.0, "ret": 0.045, "gm": 0.58, "nm": 0.13, "rep": 0.36},
    "apparel": {"uv": 55_000, "cr": 0.027, "aov": 248.0, "ret": 0.135, "gm": 0.47, "nm": 0.08, "rep": 0.29},
    "3c": {"uv": 30_000, "cr": 0.016, "aov": 1_180.0, "ret": 0.052, "gm": 0.16, "nm": 0.04, "rep": 0.18},
    "home": {"uv": 24_000, "cr": 0.022, "aov": 415.0, "ret": 0.064, "gm": 0.33, "nm": 0.07, "rep": 0.24},
}
# Per channel: UV multiplier, conversion multiplier, AOV multiplier, bounce rate, spend ratio.
CHANNEL_PROFILE: dict[str, dict[str, float]] = {
    "app": {"uv": 1.00, "cr": 1.25, "aov": 1.05, "bounce": 0.24, "spend": 0.05},
    "web": {"uv": 0.55, "cr": 0.80, "aov": 1.10, "bounce": 0.46, "spend": 0.07},
    "mini_program": {"uv": 0.80, "cr": 1.00, "aov": 0.90, "bounce": 0.33, "spend": 0.06},
    "live_stream": {"uv": 0.45, "cr": 1.70, "aov": 0.85, "bounce": 0.29, "spend": 0.11},
}
# This year against last: traffic growth by category and channel, a better funnel.
UV_GROWTH = {"beauty": 0.15, "apparel": 0.02, "3c": 0.11, "home": 0.07}
CHANNEL_GROWTH = {"app": 0.06, "web": -0.12, "mini_program": 0.11, "live_stream": 0.42}
AOV_GROWTH = {"beauty": 0.04, "apparel": -0.03, "3c": 0.05, "home": 0.02}
CONVERSION_GROWTH = 0.03
RETURN_IMPROVEMENT = 0.08


def spring_festival(year: int) -> date:
    return SPRING_FESTIVAL.get(year, date(year, 2, 1))


def seasonal_factor(day: date) -> float:
    """Traffic of a day relative to an ordinary day: 618, Double 11, 12.12, the New Year dip."""
    factor = 1.10 if day.weekday() >= 5 else 1.0
    md = (day.month, day.day)
    if (6, 1) <= md <= (6, 17):
        factor *= 1.35 + 0.06 * (day.day - 1)  # 618 warm-up builds towards the 18th
    elif md == (6, 18):
        factor *= 4.2
    elif (6, 19) <= md <= (6, 21):
        factor *= 1.25
    elif (10, 20) <= md <= (10, 31):
        factor *= 2.4 if day.day == 20 else 1.55  # Double 11 presale opens on 20 October
    elif (11, 1) <= md <= (11, 10):
        factor *= 1.6 + 0.08 * day.day
    elif md == (11, 11):
        factor *= 6.5
    elif (11, 12) <= md <= (11, 14):
        factor *= 1.3
    elif md == (12, 12):
        factor *= 2.2
    festival = spring_festival(day.year)
    offset = (day - festival).days
    if -25 <= offset <= -11:
        factor *= 1.12  # new-year shopping
    elif -10 <= offset <= -3:
        factor *= 0.62  # couriers wind down
    elif -2 <= offset <= 6:
        factor *= 0.38  # the holiday itself
    elif 7 <= offset <= 12:
        factor *= 0.72
    return factor


def _promotion(day: date) -> float:
    """How much of a sale day it is (0 ordinary … 1 peak): lifts conversion, trims AOV."""
    return min(1.0, max(0.0, (seasonal_factor(day) - 1.2) / 3.0))


@dataclass(frozen=True)
class DemoYear:
    """What to load: the fiscal year (this year), today, and the slices to generate."""

    year: int
    today: date
    plan_code: str
    categories: tuple[str, ...] = CATEGORIES
    channels: tuple[str, ...] = CHANNELS
    tz: str = "Asia/Shanghai"

    @property
    def first_day(self) -> date:
        return date(self.year - 1, 1, 1)

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day <= self.today:
            yield day
            day += timedelta(days=1)

    @property
    def event_count(self) -> int:
        days = (self.today - self.first_day).days + 1
        return days * len(self.categories) * len(self.channels) * len(DAILY_METRICS)


DATA_CLEAN_UP = "Data clean-up and BI tracking"
SIZE_GUIDE = "Size guide and quality checks"
CARE = "Customer care upgrade"

DAILY_METRICS = (
    "uv",
    "sessions",
    "bounces",
    "orders",
    "gmv",
    "new_members",
    "marketing_spend",
    "new_customers",
    "returned_orders",
    "revenue",
    "gross_profit",
    "net_profit",
    "customers",
    "repeat_customers",
    "nps_responses",
    "promoters",
    "detractors",
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(value: float) -> Decimal:
    return Decimal(str(round(value, 6)))


def day_values(day: date, category: str, channel: str, this_year: int) -> tuple[str, dict[str, Decimal]]:
    """One day of one category in one channel: (region, metric → value), consistent funnel."""
    rng = random.Random(f"{day.isoformat()}|{category}|{channel}")
    region = rng.choices(REGIONS, weights=REGION_WEIGHTS)[0]
    cat, ch = CATEGORY_PROFILE[category], CHANNEL_PROFILE[channel]
    current = day.year == this_year
    # Growth ramps through the year: the team starts slow and accelerates after Q1.
    ramp = 0.7 + 0.6 * (day.timetuple().tm_yday / 365) if current else 0.0
    promotion = _promotion(day)

    uv_growth = 1 + ramp * (UV_GROWTH[category] + CHANNEL_GROWTH[channel])
    uv = int(cat["uv"] * ch["uv"] * seasonal_factor(day) * uv_growth * rng.uniform(0.93, 1.07))
    sessions = int(uv * rng.uniform(1.28, 1.42))
    bounces = int(sessions * ch["bounce"] * (1 - 0.12 * promotion) * (0.97 if current else 1.0))
    conversion = cat["cr"] * ch["cr"] * (1 + 0.35 * promotion) * rng.uniform(0.95, 1.05)
    conversion *= 1 + ramp * CONVERSION_GROWTH
    orders = int(uv * conversion)
    aov_yuan = cat["aov"] * ch["aov"] * (1 - 0.08 * promotion) * rng.uniform(0.96, 1.04)
    aov_yuan *= 1 + ramp * AOV_GROWTH[category]
    aov = _money(Decimal(str(round(aov_yuan, 2))))
    gmv = _money(orders * aov)
    return_rate = cat["ret"] * (1 + 0.25 * promotion) * (1 - (RETURN_IMPROVEMENT if current else 0.0))
    returned = int(orders * return_rate * rng.uniform(0.9, 1.1))
    revenue = _money((gmv - returned * aov) * Decimal("0.97"))
    gross_profit = _money(revenue * _ratio(cat["gm"] * (1 - 0.10 * promotion)))
    net_profit = _money(revenue * _ratio(cat["nm"] * (1 - 0.30 * promotion)))
    spend = _money(gmv * _ratio(ch["spend"] * (1 + 0.6 * promotion)))
    customers = int(orders * 0.93)
    repeat = int(customers * cat["rep"] * (1.06 if current else 1.0) * rng.uniform(0.95, 1.05))
    responses = int(orders * 0.045)
    promoters = int(responses * rng.uniform(0.50, 0.58) * (1.04 if current else 1.0))
    detractors = int(responses * rng.uniform(0.12, 0.17))
    values = {
        "uv": Decimal(uv),
        "sessions": Decimal(sessions),
        "bounces": Decimal(bounces),
        "orders": Decimal(orders),
        "gmv": gmv,
        "new_members": Decimal(int(uv * 0.0065 * (1.18 if current else 1.0) * rng.uniform(0.9, 1.1))),
        "marketing_spend": spend,
        "new_customers": Decimal(int(orders * rng.uniform(0.24, 0.31))),
        "returned_orders": Decimal(returned),
        "revenue": revenue,
        "gross_profit": gross_profit,
        "net_profit": net_profit,
        "customers": Decimal(customers),
        "repeat_customers": Decimal(repeat),
        "nps_responses": Decimal(responses),
        "promoters": Decimal(promoters),
        "detractors": Decimal(detractors),
    }
    return region, values


def events(demo: DemoYear) -> Iterator[dict[str, Any]]:
    """Every event of the demo, in a stable order with deterministic ids."""
    zone = ZoneInfo(demo.tz)
    for day in demo.days():
        # Daily aggregates are pushed as the business day opens: never in the future, and
        # today's push keeps the metrics fresh.
        occurred_at = datetime.combine(day, time(0, 5), zone).isoformat()
        for category in demo.categories:
            for channel in demo.channels:
                region, values = day_values(day, category, channel, demo.year)
                for metric in DAILY_METRICS:
                    yield {
                        "event_id": f"demo-{day:%Y%m%d}-{category}-{channel}-{metric}",
                        "metric": metric,
                        "value": str(values[metric]),
                        "occurred_at": occurred_at,
                        "dims": {"category": category, "channel": channel, "region": region},
                        "source": "demo",
                    }


def last_year_totals(demo: DemoYear) -> dict[str, Decimal]:
    """Last year's sums of every base metric over the demo's slices (for rate targets)."""
    totals = dict.fromkeys(DAILY_METRICS, Decimal(0))
    day = date(demo.year - 1, 1, 1)
    while day.year == demo.year - 1:
        for category in demo.categories:
            for channel in demo.channels:
                _, values = day_values(day, category, channel, demo.year)
                for metric, value in values.items():
                    totals[metric] += value
        day += timedelta(days=1)
    return totals


# ---- loading ------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    created: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        if n:
            self.created[what] = self.created.get(what, 0) + n


def push_events(metrics: ServiceCaller, demo: DemoYear, report: LoadReport) -> None:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]} events/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("pushing events", total=demo.event_count, rate="-")
        started = datetime.now()
        batch: list[dict[str, Any]] = []

        def send() -> None:
            answer = metrics.call("POST", "/v1/events", json={"events": batch}).json()
            report.accepted += answer["accepted"]
            report.duplicates += answer["duplicates"]
            report.rejected += len(answer["rejected"])
            for item in answer["rejected"][:5]:
                console.print(f"  rejected {item.get('event_id')}: {item['code']} {item.get('detail', '')}")
            bar.advance(task, len(batch))
            elapsed = (datetime.now() - started).total_seconds() or 1.0
            bar.update(task, rate=f"{bar.tasks[0].completed / elapsed:,.0f}")
            batch.clear()

        for event in events(demo):
            batch.append(event)
            if len(batch) == BATCH_SIZE:
                send()
        if batch:
            send()


def ensure_plan(targets: ServiceCaller, demo: DemoYear, report: LoadReport) -> dict[str, Any]:
    found = [p for p in targets.items("/v1/plans", code=demo.plan_code) if p["code"] == demo.plan_code]
    if found:
        return found[0]
    report.count("plans")
    return dict(
        targets.call(
            "POST",
            "/v1/plans",
            json={
                "code": demo.plan_code,
                "name": f"Operating plan {demo.year}",
                "description": (
                    f"GMV +30 % over {demo.year - 1}, a better funnel, fewer returns and happier customers."
                ),
                "fiscal_year": demo.year,
                "timezone": demo.tz,
                "status": "active",
            },
        ).json()
    )


def ensure_phases(targets: ServiceCaller, plan: dict[str, Any], demo: DemoYear, report: LoadReport) -> None:
    y = demo.year
    phases = [
        ("Q1 research and data clean-up", date(y, 1, 1), date(y, 3, 31), "baselines, tracking, SKU data"),
        ("Q2 campaigns", date(y, 4, 1), date(y, 6, 30), "618"),
        ("Q3 adjust", date(y, 7, 1), date(y, 9, 30), "fix what Q2 showed, prepare Double 11"),
        ("Q4 adjust and retain", date(y, 10, 1), date(y, 12, 31), "Double 11, 12.12, retention"),
    ]
    existing = {p["name"] for p in targets.items(f"/v1/plans/{plan['id']}/phases")}
    for name, starts_on, ends_on, focus in phases:
        if name in existing:
            continue
        body = {"name": name, "starts_on": str(starts_on), "ends_on": str(ends_on), "focus": focus}
        targets.call("POST", f"/v1/plans/{plan['id']}/phases", json=body)
        report.count("phases")


def _target_specs(demo: DemoYear) -> list[dict[str, Any]]:
    """The plan's top-level targets: a growth GMV goal, the funnel, cost, customers."""
    y, ly = demo.year, last_year_totals(demo)

    def rate(numerator: str, denominator: str, factor: str, places: str = "0.0001") -> str:
        value = ly[numerator] / ly[denominator] * Decimal(factor)
        return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))

    nps_last_year = 100 * (ly["promoters"] - ly["detractors"]) / ly["nps_responses"]
    specs: list[dict[str, Any]] = [
        {"name": f"GMV {y} +30% YoY", "metric": "gmv", "period": str(y), "growth_pct": "30"},
        {
            "name": f"Gross profit {y} +25% YoY",
            "metric": "gross_profit",
            "period": str(y),
            "growth_pct": "25",
        },
        {
            "name": f"Net margin {y}",
            "metric": "net_margin",
            "period": str(y),
            "target_value": rate("net_profit", "revenue", "1.03"),
        },
        {
            "name": f"Conversion rate {y}",
            "metric": "conversion_rate",
            "period": str(y),
            "target_value": rate("orders", "uv", "1.05"),
        },
        {
            "name": f"AOV {y}",
            "metric": "aov",
            "period": str(y),
            "target_value": rate("gmv", "orders", "1.03", "0.01"),
        },
        {
            "name": f"Return rate {y}",
            "metric": "return_rate",
            "period": str(y),
            "target_value": rate("returned_orders", "orders", "0.90"),
        },
        {"name": f"New members {y} +25% YoY", "metric": "new_members", "period": str(y), "growth_pct": "25"},
        {
            "name": f"Repurchase rate {y}",
            "metric": "repurchase_rate",
            "period": str(y),
            "target_value": rate("repeat_customers", "customers", "1.05"),
        },
        {
            "name": f"NPS {y}",
            "metric": "nps",
            "period": str(y),
            "target_value": str((nps_last_year + 3).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)),
        },
        {
            "name": f"Bounce rate {y}",
            "metric": "bounce_rate",
            "period": str(y),
            "target_value": rate("bounces", "sessions", "0.95"),
        },
        {
            "name": f"CAC {y}",
            "metric": "cac",
            "period": str(y),
            "target_value": rate("marketing_spend", "new_customers", "1.00", "0.01"),
        },
    ]
    departments = {
        "gmv": "marketing",
        "gross_profit": "finance",
        "net_margin": "finance",
        "conversion_rate": "operations",
        "aov": "operations",
        "return_rate": "supply_chain",
        "new_members": "marketing",
        "repurchase_rate": "operations",
        "nps": "customer_service",
        "bounce_rate": "tech",
        "cac": "marketing",
    }
    weights = {"gmv": "3", "gross_profit": "2", "conversion_rate": "2"}
    for spec in specs:
        spec["department"] = departments[spec["metric"]]
        spec["weight"] = weights.get(spec["metric"], "1")
    if "live_stream" in demo.channels:
        specs.append(
            {
                "name": f"Live-stream GMV {y} +50% YoY",
                "metric": "gmv",
                "scope": {"channel": "live_stream"},
                "period": str(y),
                "growth_pct": "50",
                "department": "marketing",
                "weight": "1",
            }
        )
    return specs


def ensure_targets(
    targets: ServiceCaller, plan: dict[str, Any], demo: DemoYear, report: LoadReport
) -> dict[str, dict[str, Any]]:
    """Creates the missing top-level targets; decomposes annual GMV by quarter (seasonal) and
    each quarter by category (seasonal). Returns the top-level targets by metric key name."""
    existing = {
        t["name"]: t for t in targets.items(f"/v1/plans/{plan['id']}/targets") if t["parent_id"] is None
    }
    created: dict[str, dict[str, Any]] = {}
    for spec in _target_specs(demo):
        target = existing.get(spec["name"])
        if target is None:
            target = targets.call("POST", f"/v1/plans/{plan['id']}/targets", json=spec).json()
            report.count("targets")
        created[spec["name"]] = target
    gmv = created[f"GMV {demo.year} +30% YoY"]
    if not gmv["children_ids"]:
        answer = targets.call(
            "POST", f"/v1/targets/{gmv['id']}/decompose", json={"by": "quarter", "weights": "seasonal"}
        ).json()
        quarters = answer["children"]
        report.count("targets", len(quarters))
    else:
        quarters = [targets.call("GET", f"/v1/targets/{child}").json() for child in gmv["children_ids"]]
    for quarter in quarters:
        if quarter["children_ids"]:
            continue
        answer = targets.call(
            "POST",
            f"/v1/targets/{quarter['id']}/decompose",
            json={"by": "category", "values": list(demo.categories), "weights": "seasonal"},
        ).json()
        report.count("targets", len(answer["children"]))
    return created


def ensure_initiatives(
    targets: ServiceCaller,
    plan: dict[str, Any],
    demo: DemoYear,
    by_name: dict[str, dict[str, Any]],
    report: LoadReport,
) -> dict[str, str]:
    y = demo.year

    def ids(*metrics: str) -> list[str]:
        return [t["id"] for t in by_name.values() if t["metric"] in metrics and not t["scope"].get("channel")]

    initiatives = [
        ("Data clean-up and BI tracking", "tech", date(y, 1, 1), date(y, 3, 31), "done", ids("bounce_rate")),
        ("618 mega campaign", "marketing", date(y, 5, 10), date(y, 6, 30), "done", ids("gmv", "new_members")),
        ("Checkout simplification", "tech", date(y, 3, 1), date(y, 7, 31), "done", ids("conversion_rate")),
        ("Member growth programme", "operations", date(y, 2, 1), date(y, 12, 31), "active",
         ids("new_members", "repurchase_rate")),
        ("Size guide and quality checks", "supply_chain", date(y, 2, 1), date(y, 9, 30), "active",
         ids("return_rate")),
        ("Customer care upgrade", "customer_service", date(y, 4, 1), date(y, 12, 31), "active", ids("nps")),
        ("Double 11 presale and live-stream push", "marketing", date(y, 9, 15), date(y, 11, 30), "active",
         [t["id"] for t in by_name.values() if t["metric"] == "gmv"]),
    ]  # fmt: skip
    existing = {i["name"]: i["id"] for i in targets.items(f"/v1/plans/{plan['id']}/initiatives")}
    for name, department, starts_on, ends_on, status, target_ids in initiatives:
        if name in existing:
            continue
        body = {
            "name": name,
            "department": department,
            "starts_on": str(starts_on),
            "ends_on": str(ends_on),
            "status": status,
            "target_ids": target_ids,
        }
        try:
            existing[name] = targets.call("POST", f"/v1/plans/{plan['id']}/initiatives", json=body).json()[
                "id"
            ]
        except CliError as exc:
            if exc.status != 422:
                raise
            # An initiative status this service does not know: keep the default.
            body.pop("status")
            existing[name] = targets.call("POST", f"/v1/plans/{plan['id']}/initiatives", json=body).json()[
                "id"
            ]
        report.count("initiatives")
    return existing


def ensure_tasks(
    targets: ServiceCaller,
    plan: dict[str, Any],
    demo: DemoYear,
    initiatives: dict[str, str],
    by_name: dict[str, dict[str, Any]],
    report: LoadReport,
) -> None:
    y = demo.year
    gmv = [by_name[f"GMV {y} +30% YoY"]["id"]]
    rows = [
        ("Q1-01", "Audit event tracking on app and mini program", "Q1", "tech", "done", DATA_CLEAN_UP),
        ("Q1-02", "Clean up SKU master data", "Q1", "operations", "done", DATA_CLEAN_UP),
        ("Q1-03", "Traffic-mix baseline by channel", "Q1", "marketing", "done", None),
        ("Q2-01", "618 presale and coupon plan", "Q2", "marketing", "done", "618 mega campaign"),
        ("Q2-02", "One-page checkout", "Q2", "tech", "done", "Checkout simplification"),
        ("Q2-03", "618 warehouse capacity", "Q2", "supply_chain", "done", None),
        ("Q2-04", "Size guide on top apparel SKUs", "Q2", "supply_chain", "done", SIZE_GUIDE),
        ("Q3-01", "Membership tiers and points", "Q3", "operations", "done", "Member growth programme"),
        ("Q3-02", "Live-stream host roster for Q4", "Q3", "marketing", "done", None),
        ("Q3-03", "Customer care response-time SLA", "Q3", "customer_service", "done", CARE),
        ("Q4-01", "Double 11 presale", "Q4", "marketing", "in_progress",
         "Double 11 presale and live-stream push"),
        ("Q4-02", "Load test for the Double 11 peak", "Q4", "tech", "done", None),
        ("Q4-03", "12.12 repeat-buyer campaign", "Q4", "operations", "todo", "Member growth programme"),
        ("Q4-04", "Return reasons dashboard", "Q4", "customer_service", "todo", None),
    ]  # fmt: skip
    tasks = [
        {
            "external_ref": f"{demo.plan_code}-{ref}",
            "title": title,
            "period": f"{y}{quarter}",
            "department": department,
            "status": status,
            "initiative_id": initiatives.get(initiative) if initiative else None,
            "target_ids": gmv if department == "marketing" else [],
        }
        for ref, title, quarter, department, status, initiative in rows
    ]
    answer = targets.call("POST", f"/v1/plans/{plan['id']}/tasks/bulk", json={"tasks": tasks}).json()
    report.count("tasks", sum(1 for r in answer["results"] if r["created"]))


def ensure_risks(
    targets: ServiceCaller, plan: dict[str, Any], by_name: dict[str, dict[str, Any]], report: LoadReport
) -> None:
    gmv = [t["id"] for t in by_name.values() if t["metric"] == "gmv"]
    risks = [
        ("Traffic spike takes checkout down on 11.11", "traffic_spike", 3, 5, "tech",
         "Load test at 5× last year's peak, queue-based checkout, degrade recommendations first", gmv),
        ("Personal information protection rules tighten targeting", "policy_regulation", 3, 4, "marketing",
         "Consent audit of every tracking tag; first-party audiences", []),
        ("Competitor price war during 618", "competition", 4, 4, "marketing",
         "Price floor per SKU, bundle offers instead of flat discounts", gmv),
        ("Couriers stop around the Spring Festival", "supply_chain", 4, 3, "supply_chain",
         "Pre-stock regional warehouses, clear cut-off dates on the product page", []),
    ]  # fmt: skip
    existing = {r["title"] for r in targets.items(f"/v1/plans/{plan['id']}/risks")}
    for title, category, likelihood, impact, owner, mitigation, target_ids in risks:
        if title in existing:
            continue
        body = {
            "title": title,
            "category": category,
            "likelihood": likelihood,
            "impact": impact,
            "owner_department": owner,
            "mitigation": mitigation,
            "target_ids": target_ids,
            "status": "mitigating",
        }
        targets.call("POST", f"/v1/plans/{plan['id']}/risks", json=body)
        report.count("risks")


def ensure_q1_review(
    reviews: ServiceCaller,
    plan: dict[str, Any],
    demo: DemoYear,
    by_name: dict[str, dict[str, Any]],
    report: LoadReport,
) -> dict[str, Any] | None:
    """The Q1 retrospective: snapshot, findings, action items promoted to Q2, finalized."""
    quarter = f"{demo.year}Q1"
    if demo.today < date(demo.year, 3, 31):
        return None  # Q1 is not over yet
    try:
        review = reviews.call("POST", "/v1/reviews", json={"plan_id": plan["id"], "quarter": quarter}).json()
        report.count("reviews")
    except CliError as exc:
        if exc.status != 409 or not exc.body.get("existing_id"):
            raise
        review = reviews.call("GET", f"/v1/reviews/{exc.body['existing_id']}").json()
    if review["status"] == "finalized":
        return dict(review)
    rid = review["id"]
    if review.get("snapshot") is None:
        reviews.call("POST", f"/v1/reviews/{rid}/snapshot", json={})
    y = demo.year
    gmv, conversion = by_name[f"GMV {y} +30% YoY"]["id"], by_name[f"Conversion rate {y}"]["id"]
    returns = by_name[f"Return rate {y}"]["id"]
    festival = spring_festival(y)
    findings = [
        ("cause", f"The Spring Festival fell on {festival:%d %B}: couriers stopped for two weeks and Q1 GMV "
         "trailed the +30 % path", [gmv], "supply_chain"),
        ("cause", "Apparel traffic grew far less than planned; web traffic shrank", [gmv], "marketing"),
        ("success", "Live-stream traffic grew by half and converts best of all channels", [gmv, conversion],
         "marketing"),
        ("lesson", "Apparel returns drive the return rate: size problems, not quality", [returns],
         "supply_chain"),
    ]  # fmt: skip
    stored = {f["text"]: f["id"] for f in reviews.items(f"/v1/reviews/{rid}/findings")}
    for kind, text, target_ids, department in findings:
        if text not in stored:
            body = {"kind": kind, "text": text, "target_ids": target_ids, "department": department}
            stored[text] = reviews.call("POST", f"/v1/reviews/{rid}/findings", json=body).json()["id"]
            report.count("findings")
    cause_traffic, lesson_returns = stored[findings[1][1]], stored[findings[3][1]]
    items = [
        ("Shift web budget to live-stream and mini program for 618", "marketing", date(y, 5, 15),
         cause_traffic),
        ("Size guide on the 200 most returned apparel SKUs", "supply_chain", date(y, 6, 30), lesson_returns),
        ("Pre-stock regional warehouses before next Spring Festival", "supply_chain", date(y, 12, 15), None),
    ]  # fmt: skip
    existing_items = {a["title"]: a for a in reviews.items(f"/v1/reviews/{rid}/action-items")}
    for title, department, due_on, finding_id in items:
        if title not in existing_items:
            body = {"title": title, "department": department, "due_on": str(due_on), "finding_id": finding_id}
            existing_items[title] = reviews.call("POST", f"/v1/reviews/{rid}/action-items", json=body).json()
            report.count("action items")
    for title, *_ in items[:2]:
        reviews.call("POST", f"/v1/reviews/{rid}/action-items/{existing_items[title]['id']}/promote")
    reviews.call("POST", f"/v1/reviews/{rid}/finalize")
    return dict(reviews.call("GET", f"/v1/reviews/{rid}").json())


def load_demo(
    settings: Settings,
    gateway: str,
    *,
    today: date | None = None,
    plan_code: str | None = None,
    categories: Sequence[str] = CATEGORIES,
    channels: Sequence[str] = CHANNELS,
) -> LoadReport:
    """Loads (or completes) the demo year through the public APIs; safe to re-run."""
    zone = ZoneInfo(settings.business_tz)
    today = today or datetime.now(zone).date()
    demo = DemoYear(
        year=today.year,
        today=today,
        plan_code=plan_code or f"DEMO-{today.year}",
        categories=tuple(categories),
        channels=tuple(channels),
        tz=settings.business_tz,
    )
    token = credential(settings)
    report = LoadReport()
    console.print(
        f"Loading the demo year {demo.year} into plan {demo.plan_code}: {demo.event_count:,} events "
        f"from {demo.first_day} to {demo.today}…"
    )
    with ServiceCaller(settings.metrics_url, token) as metrics:
        push_events(metrics, demo, report)
    with ServiceCaller(settings.targets_url, token) as targets:
        plan = ensure_plan(targets, demo, report)
        ensure_phases(targets, plan, demo, report)
        by_name = ensure_targets(targets, plan, demo, report)
        initiatives = ensure_initiatives(targets, plan, demo, by_name, report)
        ensure_tasks(targets, plan, demo, initiatives, by_name, report)
        ensure_risks(targets, plan, by_name, report)
    with ServiceCaller(settings.reviews_url, token) as reviews:
        ensure_q1_review(reviews, plan, demo, by_name, report)
    made = ", ".join(f"{n} {what}" for what, n in report.created.items()) or "nothing new"
    console.print(
        f"events: accepted {report.accepted:,}, duplicates {report.duplicates:,}, "
        f"rejected {report.rejected}; created: {made}."
    )
    console.print(f"Dashboard: {gateway}/  (plan {demo.plan_code})")
    return report
